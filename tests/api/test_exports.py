"""Exports (CSV, XLSX) of audits and answers, and the ZIP of an audit's display photos: content,
filters, scope per role, streaming, and no shopper identity or EXIF for the branch side."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import openpyxl
import pytest
from PIL import Image

from tests.api.test_reports import (
    GPS,
    SHOPPER_EMAIL,
    SHOPPER_LOGIN,
    SHOPPER_NAME,
    released_audit,
)
from tests.support import Fieldwork, Network

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith("\ufeff".encode())  # BOM: spreadsheets then read UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def assert_no_identity(data: bytes) -> None:
    for secret in (SHOPPER_NAME, SHOPPER_EMAIL):
        assert secret.encode() not in data
    assert b"Exif\x00\x00" not in data
    assert str(GPS[0]).encode() not in data


def test_answers_csv_has_one_row_per_answer(as_user: Any, fieldwork: Fieldwork) -> None:
    audit_id = released_audit(as_user, fieldwork)
    response = as_user("manager_n1").get("/api/v1/exports/answers?format=csv&lang=en")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="answers-')
    rows = csv_rows(response.data)
    # The example checklist has 7 items, every one answered.
    assert [r["item_id"] for r in rows] == [
        "greeted",
        "queue_wait",
        "receipt",
        "drink_quality",
        "dessert_offer",
        "table_clean",
        "comment",
    ]
    receipt = rows[2]
    assert receipt["audit_id"] == str(audit_id)
    assert receipt["checklist"] == "coffee-shop-visit" and receipt["version"] == "1"
    assert receipt["clause"] == "3.4" and receipt["section"] == "order"
    assert receipt["stage"] == "purchase" and receipt["critical"] == "1"
    assert receipt["answer"] == "false" and receipt["item_earned"] == "0.0"
    assert rows[3]["item_earned"] == "2.25" and rows[3]["item_possible"] == "3.0"
    assert rows[0]["item_text"] == "Did a member of staff greet you?"
    assert_no_identity(response.data)
    assert SHOPPER_LOGIN not in rows[0]


def test_audits_export_shopper_column_for_hq_only(as_user: Any, fieldwork: Fieldwork) -> None:
    audit_id = released_audit(as_user, fieldwork)
    for login in ("manager_n1", "director_n"):
        response = as_user(login).get("/api/v1/exports/audits?lang=en")
        rows = csv_rows(response.data)
        assert [r["audit_id"] for r in rows] == [str(audit_id)]
        assert rows[0]["score"] == "50.0" and rows[0]["critical_failed"] == "receipt"
        assert rows[0]["branch_code"] == "N1" and rows[0]["timezone"] == "Europe/Moscow"
        assert "shopper_id" not in rows[0] and "shopper_name" not in rows[0]
        assert_no_identity(response.data)
    hq = csv_rows(as_user("reviewer").get("/api/v1/exports/audits?lang=en").data)
    assert hq[0]["shopper_name"] == SHOPPER_NAME


def test_russian_headers_and_xlsx(as_user: Any, fieldwork: Fieldwork) -> None:
    released_audit(as_user, fieldwork)
    manager = as_user("manager_n1")
    rows = csv_rows(manager.get("/api/v1/exports/answers?lang=ru").data)
    assert rows[0]["Пункт стандарта"] == "2.1"
    assert rows[0]["Текст пункта"] == "Сотрудник поздоровался с вами?"
    response = manager.get("/api/v1/exports/answers?format=xlsx&lang=ru")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)["answers"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][9] == "Пункт" and values[1][9] == "greeted"
    assert len(values) == 8
    assert values[4][15] == 2.25  # numbers stay numbers
    assert_no_identity(response.data)


def test_filters_and_scope(as_user: Any, fieldwork: Fieldwork, network: Network) -> None:
    released_audit(as_user, fieldwork)
    assert csv_rows(as_user("manager_s1").get("/api/v1/exports/audits").data) == []
    admin = as_user("admin")
    n1 = network.branches["N1"]
    assert len(csv_rows(admin.get(f"/api/v1/exports/audits?branch_id={n1}").data)) == 1
    s1 = network.branches["S1"]
    assert csv_rows(admin.get(f"/api/v1/exports/audits?branch_id={s1}").data) == []
    assert csv_rows(admin.get("/api/v1/exports/audits?status=submitted").data) == []
    bad = admin.get("/api/v1/exports/audits?format=pdf")
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"] == {"query.format": ["Must be one of: csv, xlsx."]}


def test_a_formula_in_a_comment_is_not_run_by_a_spreadsheet(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    from auditapp.services import exports

    assert exports._cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert exports._cell(-3.5) == -3.5
    assert exports._cell(True) == 1


@pytest.mark.parametrize("login", ["manager_n1", "director_n", "admin"])
def test_photo_zip_holds_display_copies_without_exif(
    as_user: Any, fieldwork: Fieldwork, login: str
) -> None:
    audit_id = released_audit(as_user, fieldwork)
    response = as_user(login).get(f"/api/v1/audits/{audit_id}/photos.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="audit-{audit_id}-photos.zip"'
    )
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert len(names) == 1 and names[0].startswith("receipt-evidence-")
    data = archive.read(names[0])
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and not image.getexif()
    assert_no_identity(response.data)


@pytest.mark.parametrize(("login", "status"), [("manager_s1", 404), ("employee_n1", 404)])
def test_photo_zip_out_of_scope(
    as_user: Any, fieldwork: Fieldwork, login: str, status: int
) -> None:
    audit_id = released_audit(as_user, fieldwork)
    assert as_user(login).get(f"/api/v1/audits/{audit_id}/photos.zip").status_code == status


def test_the_export_is_streamed(app: Any, fieldwork: Fieldwork, as_user: Any) -> None:
    """Through a plain client (no isolated context), the answers leave as a stream: the body is
    an iterator that reads the rows while it is sent."""
    from flask.testing import FlaskClient

    from tests.support import PASSWORD, ApiClient

    released_audit(as_user, fieldwork)
    api = ApiClient(FlaskClient(app, app.response_class, use_cookies=True))
    assert api.login("manager_n1", PASSWORD).status_code == 200
    response = api.get("/api/v1/exports/answers?lang=en")
    assert response.status_code == 200 and response.is_streamed
    assert len(csv_rows(response.get_data())) == 7


def test_ratings_export_is_the_ranking_in_scope(
    as_user: Any, fieldwork: Fieldwork, network: Network
) -> None:
    audit_id = released_audit(as_user, fieldwork)
    month = as_user("reviewer").get(f"/api/v1/audits/{audit_id}").get_json()["visit_started_at"]
    path = f"/api/v1/exports/ratings?period={month[:7]}&lang=en"
    rows = csv_rows(as_user("manager_n1").get(path).data)
    assert len(rows) == 1
    row = rows[0]
    assert row["branch_code"] == "N1" and row["rank"] == "1" and row["of"] == "1"
    assert row["n"] == "1" and row["mean"] == "50.0" and row["too_few_visits"] == "1"
    assert row["rank_best"] == "1" and row["rank_worst"] == "1"
    # Another branch's manager sees no row; Russian headers; XLSX.
    assert csv_rows(as_user("manager_s1").get(path).data) == []
    russian = csv_rows(as_user("director_n").get(path.replace("lang=en", "lang=ru")).data)
    assert russian[0]["Место"] == "1" and russian[0]["Среднее"] == "50.0"
    book = as_user("admin").get(path + "&format=xlsx")
    assert book.mimetype == XLSX
    assert book.headers["Content-Disposition"] == (
        f'attachment; filename="ratings-{month[:7]}.xlsx"'
    )
    values = list(openpyxl.load_workbook(io.BytesIO(book.data))["ratings"].values)
    assert values[1][2] == "N1" and values[1][6] == 50.0
    assert as_user("employee_n1").get(path).status_code == 403
    # A region out of scope is a 404 before any byte of the file.
    other = as_user("director_n").get(f"{path}&region_id={network.regions['S']}")
    assert other.status_code == 404 and other.get_json()["error"]["code"] == "not_found"


def test_answer_cells_keep_types_and_guard_text() -> None:
    from auditapp.services import exports

    assert [exports._answer(v) for v in (True, False, None, 4, 2.5)] == [
        "true",
        "false",
        "",
        4,
        2.5,
    ]
    assert exports._answer("=1+1") == "'=1+1" and exports._answer("@SUM") == "'@SUM"
    assert exports._answer("generic") == "generic"


def test_answers_csv_bytes_for_a_branch_manager(as_user: Any, fieldwork: Fieldwork) -> None:
    """The whole file, byte for byte, written out by hand from the example checklist and the
    submitted answers (greeting and receipt failed): the export's fast path must not change a
    byte, and the branch side's file has no shopper column."""
    from zoneinfo import ZoneInfo

    from auditapp.extensions import db
    from auditapp.models import Audit

    audit_id = released_audit(as_user, fieldwork)
    audit = db.session.get(Audit, audit_id)
    assert audit is not None and audit.visit_started_at is not None
    local = audit.visit_started_at.astimezone(ZoneInfo("Europe/Moscow")).isoformat("T", "seconds")
    head = f"{audit_id},N1,coffee-shop-visit,1,visit,{local}"
    expected = "\ufeff" + "\r\n".join(
        [
            "Проверка,Код филиала,Чек-лист,Версия,Канал,Начало визита (местное),Этап,Раздел,"
            "Название раздела,Пункт,Пункт стандарта,Текст пункта,Критический,Ответ,Н/П,"
            "Баллы за пункт,Из баллов за пункт",
            f"{head},pre_purchase,arrival,Встреча гостя,greeted,2.1,"
            "Сотрудник поздоровался с вами?,0,false,0,0.0,2.0",
            f"{head},pre_purchase,arrival,Встреча гостя,queue_wait,2.3,"
            "Сколько секунд вы ждали в очереди?,0,45,0,2.0,2.0",
            f"{head},purchase,order,Заказ и оплата,receipt,3.4,Вам выдали чек?,1,false,0,0.0,1.0",
            f"{head},purchase,order,Заказ и оплата,drink_quality,3.2,Оцените вкус напитка,0,4,0,"
            "2.25,3.0",
            f"{head},purchase,order,Заказ и оплата,dessert_offer,3.3,"
            "Вам предложили десерт к напитку?,0,generic,0,0.5,1.0",
            f"{head},after_sale,farewell,После покупки,table_clean,4.1,Стол был чистым?,0,true,0,"
            "1.0,1.0",
            f"{head},after_sale,farewell,После покупки,comment,4.9,Комментарий / Comment,0,"
            "Всё хорошо,0,,",
            "",
        ]
    )
    data = as_user("manager_n1").get("/api/v1/exports/answers?format=csv&lang=ru").data
    assert data.decode("utf-8") == expected
