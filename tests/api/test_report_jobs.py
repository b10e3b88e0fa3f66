"""The region / network comparison PDF, built by a background job (inline in tests) as the user
who asked, and fetched by that user only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.test_reports import (
    assert_no_identity_or_metadata,
    fetch,
    keep_first_page,
    pdf_text,
    released_audit,
)
from tests.support import Fieldwork, Network


def visit_month(as_user: Any, audit_id: int) -> str:
    detail = as_user("reviewer").get(f"/api/v1/audits/{audit_id}").get_json()
    return str(detail["visit_started_at"][:7])


def test_director_builds_and_fetches_the_region_comparison(
    as_user: Any, fieldwork: Fieldwork, network: Network
) -> None:
    audit_id = released_audit(as_user, fieldwork)
    month = visit_month(as_user, audit_id)
    director = as_user("director_n")
    asked = director.post(
        "/api/v1/ratings/comparison-jobs",
        json={"region_id": network.regions["N"], "period": month, "lang": "ru"},
    )
    assert asked.status_code == 202, asked.get_json()
    job = asked.get_json()
    # Jobs run inline in tests: it is finished when the answer comes back.
    polled = director.get(f"/api/v1/reports/jobs/{job['id']}").get_json()
    assert polled["status"] == "ready", polled
    assert polled["file_url"] == f"/api/v1/reports/jobs/{job['id']}/file"
    response = fetch(director, polled["file_url"])
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="comparison-N-{month}-ru.pdf"'
    )
    text = pdf_text(response.data)
    assert "Сравнение филиалов: N — Север" in text
    # One rated branch (N1, 50.0 after the critical cap), one audit.
    assert "1 филиалов, 1 проверок; среднее 50.0" in text
    assert "Рейтинг филиалов" in text and "N1 Филиал N1" in text
    assert "Филиалы × разделы" in text and "Встреча гостя" in text
    assert "стр. 1 из" in text and "UTC" in text
    keep_first_page(response.data, "comparison-director")
    assert_no_identity_or_metadata(response.data, text)


def test_network_comparison_in_english_for_hq(as_user: Any, fieldwork: Fieldwork) -> None:
    audit_id = released_audit(as_user, fieldwork)
    admin = as_user("admin")
    job = admin.post(
        "/api/v1/ratings/comparison-jobs",
        json={"period": visit_month(as_user, audit_id), "lang": "en"},
    ).get_json()
    text = pdf_text(fetch(admin, f"/api/v1/reports/jobs/{job['id']}/file").data)
    assert "Branch comparison: whole network" in text
    assert "Branches × sections" in text


def test_only_the_requester_sees_the_job(
    as_user: Any, fieldwork: Fieldwork, network: Network
) -> None:
    job = as_user("director_n").post("/api/v1/ratings/comparison-jobs", json={}).get_json()
    for login in ("admin", "reviewer"):
        assert as_user(login).get(f"/api/v1/reports/jobs/{job['id']}").status_code == 404
        assert as_user(login).get(f"/api/v1/reports/jobs/{job['id']}/file").status_code == 404
    assert as_user("director_n").get(f"/api/v1/reports/jobs/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize(("login", "status"), [("manager_n1", 403), ("employee_n1", 403)])
def test_who_may_ask(as_user: Any, network: Network, login: str, status: int) -> None:
    response = as_user(login).post("/api/v1/ratings/comparison-jobs", json={})
    assert response.status_code == status


def test_a_region_out_of_scope_is_refused_at_once(as_user: Any, network: Network) -> None:
    response = as_user("director_n").post(
        "/api/v1/ratings/comparison-jobs", json={"region_id": network.regions["S"]}
    )
    assert response.status_code == 404


def test_a_job_not_ready_is_a_conflict(as_user: Any, network: Network, app: Any) -> None:
    from auditapp.extensions import db
    from auditapp.models import ReportJob

    director = as_user("director_n")
    job = ReportJob(
        id=uuid.uuid4(), kind="comparison", requested_by_id=network.users["director_n"], params={}
    )
    db.session.add(job)
    db.session.commit()
    response = director.get(f"/api/v1/reports/jobs/{job.id}/file")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "report_not_ready"
    assert director.get(f"/api/v1/reports/jobs/{job.id}").get_json()["status"] == "queued"


def test_a_failed_build_says_why(as_user: Any, network: Network, monkeypatch: Any) -> None:
    from auditapp.services import reports

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the font went away")

    monkeypatch.setattr(reports, "comparison_pdf", broken)
    director = as_user("director_n")
    job = director.post("/api/v1/ratings/comparison-jobs", json={}).get_json()
    polled = director.get(f"/api/v1/reports/jobs/{job['id']}").get_json()
    assert polled["status"] == "failed" and polled["error"] == "the font went away"
    assert polled["file_url"] is None
    file = director.get(f"/api/v1/reports/jobs/{job['id']}/file")
    assert file.status_code == 409 and file.get_json()["error"]["code"] == "report_failed"
