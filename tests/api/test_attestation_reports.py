"""Attestation files: the sheet PDF, the branch bundle (a report job) and the results export,
on the hand-computed year of ``test_attestation_api`` (E-N1-a: 78.08 "meets" from individual
71.67, collective 80.83 and internal 90; E-N1-b moved N1 -> N2 on 1 Jul, 84.19 on the
collective alone; E-S1-a not gradable). PDFs are read back with pypdf, the first page of each is
kept under test-artefacts/, and no file names a shopper."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pypdf
import pytest

from auditapp.extensions import db
from auditapp.models import User
from tests.api.test_attestation_api import (
    Year,
    _close,
    sheet_path,
    year,  # noqa: F401 (the fixture behind ``attested``)
)
from tests.api.test_reports import fetch, keep_first_page, pdf_text

EXPORT = "/api/v1/exports/attestation"


@pytest.fixture
def attested(request: pytest.FixtureRequest) -> Year:
    """The hand-computed year of ``test_attestation_api`` (its ``year`` fixture)."""
    found: Year = request.getfixturevalue("year")
    return found


def shopper_identities() -> list[str]:
    """Login and display name of every shopper (the attested's audits were made by them)."""
    shoppers = db.session.execute(db.select(User).where(User.role == "shopper")).scalars()
    found = [text for user in shoppers for text in (user.login, user.display_name) if text]
    assert any(text.startswith("rshopper") for text in found)
    return found


def assert_no_shopper(content: bytes, text: str) -> None:
    for identity in shopper_identities():
        assert identity not in text
        assert identity.encode() not in content


def sheet_pdf(api: Any, attested: Year, code: str, lang: str = "ru") -> Any:
    return api.get(f"{sheet_path(attested, code)}/sheet.pdf?lang={lang}")


def test_the_employee_prints_their_own_sheet(as_user: Any, attested: Year) -> None:
    response = fetch(as_user("employee_n1"), f"{sheet_path(attested, 'E-N1-a')}/sheet.pdf?lang=ru")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="attestation-E-N1-a-2025-ru.pdf"'
    )
    text = pdf_text(response.data)
    assert "Аттестационный лист: Сотрудник E-N1-a" in text
    assert "Должность consultant" in text
    assert "Аттестация персонала (staff, версия 1)" in text
    assert "период открыт" in text
    assert "Итог: 78.08 — Оценка:" in text
    # The formula with the shown numbers, and each component's weight, weight used and score.
    assert "(50 × 71.67 + 30 × 80.83 + 20 × 90) / 100 = 78.08" in text
    assert "индивидуальный результат внешний 50 50 71.67" in text
    assert "коллективный результат внешний 30 30 80.83" in text
    assert "внутренняя оценка внутренний 20 20 90" in text
    assert "3 проверок, 10.75 из 15 баллов по пунктам" in text
    assert "N1: 365 дн., среднее 80.8" in text
    assert "Тест по продукту (manager_n1," in text
    # The audits behind the individual component: each of the three, with day, branch, clause.
    first, second, third = attested.audits[:3]
    for audit_id, day in ((first, "2025-03-10"), (second, "2025-04-10"), (third, "2025-05-10")):
        assert f"№ {audit_id} {day} N1 barista 2.1 Сотрудник поздоровался с вами?" in text
    assert f"№ {second} 2025-04-10 N1 barista 2.1 Сотрудник поздоровался с вами? 0 / 2" in text
    assert "Руководитель филиала" in text and "подпись" in text
    assert "стр. 1 из" in text and "MSK" in text and "staff v1" in text
    keep_first_page(response.data, "attestation-sheet-employee")
    assert_no_shopper(response.data, text)


def test_sheet_in_english_for_hq_and_a_mover_for_the_director(as_user: Any, attested: Year) -> None:
    text = pdf_text(
        fetch(as_user("admin"), f"{sheet_path(attested, 'E-N1-a')}/sheet.pdf?lang=en").data
    )
    assert "Attestation sheet: Сотрудник E-N1-a" in text
    assert "individual result external 50 50 71.67" in text
    assert "Did a member of staff greet you?" in text  # item texts in the sheet's language
    assert "Audits behind the individual result" in text and "page 1 of" in text
    mover = pdf_text(
        fetch(as_user("director_n"), f"{sheet_path(attested, 'E-N1-b')}/sheet.pdf").data
    )
    assert "N1: 181 дн." in mover and "N2: 184 дн." in mover
    assert "Итог: 84.19" in mover
    assert "проверок с участием сотрудника за период нет" in mover
    not_gradable = pdf_text(
        fetch(as_user("admin"), f"{sheet_path(attested, 'E-S1-a')}/sheet.pdf").data
    )
    assert "Итог: не аттестуется в этом периоде" in not_gradable


@pytest.mark.parametrize(
    ("login", "code", "status"),
    [
        ("employee_n1", "E-N1-b", 404),
        ("employee_n1", "E-N2-a", 404),
        ("manager_s1", "E-N1-a", 404),
        ("manager_n1", "E-N2-a", 404),
        ("director_n", "E-S1-a", 404),
        ("manager_n1", "E-N1-b", 200),  # worked at N1 during the period
        ("director_n", "E-N2-a", 200),
        ("reviewer", "E-S1-a", 200),
        ("shopper", "E-N1-a", 403),
    ],
)
def test_sheet_pdf_scope(as_user: Any, attested: Year, login: str, code: str, status: int) -> None:
    assert sheet_pdf(as_user(login), attested, code).status_code == status


def test_a_closed_sheet_says_when_it_was_frozen(as_user: Any, attested: Year) -> None:
    _close(as_user("admin"), attested.period)
    text = pdf_text(
        fetch(as_user("employee_n1"), f"{sheet_path(attested, 'E-N1-a')}/sheet.pdf").data
    )
    assert "зафиксирован" in text and "ответа сотрудника нет" in text
    assert "Итог: 78.08" in text


def bundle(api: Any, attested: Year, branch: str, lang: str = "ru") -> Any:
    return api.post(
        f"/api/v1/attestation/periods/{attested.period}/bundle-jobs",
        json={"branch_id": attested.network.branches[branch], "lang": lang},
    )


def test_the_manager_builds_the_branch_bundle(as_user: Any, attested: Year) -> None:
    manager = as_user("manager_n1")
    asked = bundle(manager, attested, "N1")
    assert asked.status_code == 202, asked.get_json()
    job = manager.get(f"/api/v1/reports/jobs/{asked.get_json()['id']}").get_json()
    assert (job["kind"], job["status"]) == ("bundle", "ready"), job
    response = fetch(manager, job["file_url"])
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="attestation-N1-2025-ru.pdf"'
    )
    text = pdf_text(response.data)
    assert "Аттестационные листы филиала: N1 — Филиал N1" in text
    assert "Сотрудников: 2" in text
    # Both staff who worked at N1 (the mover too), each on their own pages after the summary.
    assert "Аттестационный лист: Сотрудник E-N1-a" in text
    assert "Аттестационный лист: Сотрудник E-N1-b" in text
    assert "E-N2-a" not in text and "E-S1-a" not in text
    pages = pypdf.PdfReader(io.BytesIO(response.data)).pages
    first_lines = [(page.extract_text() or "") for page in pages]
    starts = [n for n, page in enumerate(first_lines) if "Аттестационный лист:" in page]
    assert len(starts) == 2 and starts[0] >= 1
    assert f"стр. 1 из {len(pages)}" in text
    keep_first_page(response.data, "attestation-bundle-manager")
    assert_no_shopper(response.data, text)
    # Nobody else sees the job or its file.
    for login in ("admin", "manager_s1", "director_n"):
        assert as_user(login).get(job["file_url"]).status_code == 404


def test_bundle_scope_and_roles(as_user: Any, attested: Year) -> None:
    assert bundle(as_user("manager_s1"), attested, "N1").status_code == 404
    assert bundle(as_user("director_n"), attested, "S1").status_code == 404
    assert bundle(as_user("employee_n1"), attested, "N1").status_code == 403
    assert bundle(as_user("shopper"), attested, "N1").status_code == 403
    missing = as_user("admin").post(
        "/api/v1/attestation/periods/999999/bundle-jobs", json={"branch_id": 1}
    )
    assert missing.status_code == 404
    invalid = as_user("admin").post(
        f"/api/v1/attestation/periods/{attested.period}/bundle-jobs", json={"branch_id": "x"}
    )
    assert invalid.status_code == 422 and "branch_id" in str(invalid.get_json())
    english = bundle(as_user("director_n"), attested, "N2", "en")
    assert english.status_code == 202
    director = as_user("director_n")
    text = pdf_text(fetch(director, f"/api/v1/reports/jobs/{english.get_json()['id']}/file").data)
    assert "Attestation sheets of the branch: N2" in text and "Employees: 2" in text


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.data[:300]
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def test_export_of_attestation_results(as_user: Any, attested: Year) -> None:
    response = as_user("admin").get(f"{EXPORT}?period_id={attested.period}&lang=en")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="attestation-{attested.period}.csv"'
    )
    rows = {row["employee_code"]: row for row in csv_rows(response)}
    assert sorted(rows) == ["E-N1-a", "E-N1-b", "E-N2-a", "E-S1-a", "E-S2-a"]
    a = rows["E-N1-a"]
    assert (a["status"], a["points"], a["grade"], a["state"]) == (
        "graded",
        "78.08",
        "meets",
        "live",
    )
    assert (a["individual_score"], a["individual_weight_used"], a["individual_audits"]) == (
        "71.67",
        "50.0",
        "3",
    )
    assert (a["collective_score"], a["internal_score"]) == ("80.83", "90.0")
    assert a["audit_ids"] == " ".join(str(i) for i in attested.audits[:3])
    assert (a["rule_set"], a["rule_version"], a["period"]) == ("staff", "1", "2025")
    b = rows["E-N1-b"]
    assert (b["points"], b["branches"], b["individual_status"]) == (
        "84.19",
        "N1 (181); N2 (184)",
        "insufficient_evidence",
    )
    assert (rows["E-S1-a"]["status"], rows["E-S1-a"]["points"]) == ("not_gradable", "")
    assert_no_shopper(response.data, response.data.decode())


def test_export_filters_and_scope(as_user: Any, attested: Year) -> None:
    def codes(login: str, query: str = "") -> list[str]:
        response = as_user(login).get(f"{EXPORT}?period_id={attested.period}{query}")
        return [row["Табельный номер"] for row in csv_rows(response)]

    branches = attested.network.branches
    assert codes("manager_n1") == ["E-N1-a", "E-N1-b"]
    assert codes("director_n", f"&branch_id={branches['N2']}") == ["E-N1-b", "E-N2-a"]
    assert codes("admin", "&status=not_gradable") == ["E-S1-a", "E-S2-a"]
    assert (
        as_user("manager_s1")
        .get(f"{EXPORT}?period_id={attested.period}&branch_id={branches['N1']}")
        .status_code
        == 404
    )
    assert as_user("admin").get(f"{EXPORT}?period_id=999999").status_code == 404
    missing = as_user("admin").get(EXPORT)
    assert missing.status_code == 422 and "period_id" in str(missing.get_json())
    wrong = as_user("admin").get(f"{EXPORT}?period_id={attested.period}&status=meh")
    assert wrong.status_code == 422 and "status" in str(wrong.get_json())
    assert as_user("employee_n1").get(f"{EXPORT}?period_id={attested.period}").status_code == 403


def test_export_as_xlsx(as_user: Any, attested: Year) -> None:
    response = as_user("manager_n1").get(f"{EXPORT}?period_id={attested.period}&format=xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith(f'attestation-{attested.period}.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = rows[0]
    assert header[:3] == ["Период", "Табельный номер", "Сотрудник"]
    by_code = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert sorted(by_code) == ["E-N1-a", "E-N1-b"]
    assert by_code["E-N1-a"]["Баллы"] == 78.08  # a number, not text
