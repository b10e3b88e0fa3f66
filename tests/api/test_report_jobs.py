"""The region / network comparison PDF, built by a background job (inline in tests) as the user
who asked, and fetched by that user only."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

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


def _age(job_id: str, days: float) -> None:
    """Move a finished job's finish (and its stored file's time) ``days`` into the past."""
    from auditapp import clock
    from auditapp.extensions import db
    from auditapp.models import ReportJob
    from auditapp.services import photos as photo_service

    job = db.session.get(ReportJob, uuid.UUID(job_id))
    assert job is not None and job.file_key is not None
    then = clock.now() - timedelta(days=days)
    job.finished_at = then
    job.created_at = then
    db.session.commit()
    path = photo_service.storage().path(job.file_key)  # type: ignore[attr-defined]
    os.utime(path, (then.timestamp(), then.timestamp()))


def test_reports_gc_deletes_old_files_and_expires_their_jobs(
    app: Flask, as_user: Any, network: Network
) -> None:
    from auditapp.services import photos as photo_service

    director = as_user("director_n")
    old = director.post("/api/v1/ratings/comparison-jobs", json={}).get_json()
    fresh = director.post("/api/v1/ratings/comparison-jobs", json={}).get_json()
    _age(old["id"], 8)
    _age(fresh["id"], 6)
    store = photo_service.storage()
    old_key = f"reports/{uuid.UUID(old['id']).hex}.pdf"
    fresh_key = f"reports/{uuid.UUID(fresh['id']).hex}.pdf"
    # A document stored by a worker killed before it committed its job, long ago; and one of
    # a job being built right now (no job names it yet).
    stray, building = "reports/" + "d" * 32 + ".pdf", "reports/" + "e" * 32 + ".pdf"
    store.put(stray, b"%PDF-1.4 left behind")
    gone = time.time() - 9 * 86400
    os.utime(store.path(stray), (gone, gone))  # type: ignore[attr-defined]
    store.put(building, b"%PDF-1.4 in flight")

    runner = app.test_cli_runner()
    listed = runner.invoke(args=["reports", "gc", "--dry-run"])  # REPORTS_KEEP_DAYS: 7
    assert listed.exit_code == 0, listed.output
    lines = [line.split("\t") for line in listed.stdout.splitlines()]
    assert {(job, key) for job, key, _ in lines} == {(old["id"], old_key), ("-", stray)}
    assert store.exists(old_key) and store.exists(stray)  # a dry run deletes nothing
    assert director.get(f"/api/v1/reports/jobs/{old['id']}").get_json()["status"] == "ready"

    removed = runner.invoke(args=["reports", "gc"])
    assert removed.exit_code == 0, removed.output
    assert not store.exists(old_key) and not store.exists(stray)
    assert store.exists(fresh_key) and store.exists(building)
    polled = director.get(f"/api/v1/reports/jobs/{old['id']}").get_json()
    assert polled["status"] == "expired" and polled["file_url"] is None
    file = director.get(f"/api/v1/reports/jobs/{old['id']}/file")
    assert file.status_code == 410 and file.get_json()["error"]["code"] == "report_expired"
    assert director.get(f"/api/v1/reports/jobs/{fresh['id']}/file").status_code == 200
    # Still the requester's alone, expired or not.
    assert as_user("admin").get(f"/api/v1/reports/jobs/{old['id']}/file").status_code == 404
    # Nothing left to do: a second run finds nothing.
    again = runner.invoke(args=["reports", "gc"])
    assert again.exit_code == 0 and again.stdout == "", again.output


def test_retention_age_is_configurable_and_old_unfinished_jobs_expire(
    app: Flask, as_user: Any, network: Network
) -> None:
    from auditapp import clock
    from auditapp.extensions import db
    from auditapp.models import ReportJob
    from auditapp.services import report_jobs

    director = as_user("director_n")
    built = director.post("/api/v1/ratings/comparison-jobs", json={}).get_json()
    _age(built["id"], 2)
    # A job whose worker died with it, asked for 3 days ago, and one asked for just now.
    lost = ReportJob(
        id=uuid.uuid4(),
        kind="comparison",
        requested_by_id=network.users["director_n"],
        params={},
        status="running",
        created_at=clock.now() - timedelta(days=3),
    )
    waiting = ReportJob(
        id=uuid.uuid4(), kind="comparison", requested_by_id=network.users["director_n"], params={}
    )
    db.session.add_all([lost, waiting])
    db.session.commit()
    assert report_jobs.expire(timedelta(days=7)) == []
    app.config["REPORTS_KEEP_DAYS"] = 1
    removed = app.test_cli_runner().invoke(args=["reports", "gc"])
    assert removed.exit_code == 0, removed.output
    assert "expired 2 job(s); 0 file(s) no job names." in removed.output
    statuses = {
        job_id: director.get(f"/api/v1/reports/jobs/{job_id}").get_json()["status"]
        for job_id in (built["id"], str(lost.id), str(waiting.id))
    }
    assert statuses == {built["id"]: "expired", str(lost.id): "expired", str(waiting.id): "queued"}
    # An expired job is not built again if its queued task turns up late.
    report_jobs.build(str(lost.id))
    assert director.get(f"/api/v1/reports/jobs/{lost.id}").get_json()["status"] == "expired"


def test_the_worker_sweep_expires_reports_and_survives_a_failure(
    app: Flask, as_user: Any, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditapp import cli
    from auditapp.services import report_jobs

    director = as_user("director_n")
    job = director.post("/api/v1/ratings/comparison-jobs", json={}).get_json()
    _age(job["id"], 30)

    def down(*_: Any, **__: Any) -> Any:
        raise ConnectionError("storage unreachable")

    real = report_jobs.expire
    monkeypatch.setattr(report_jobs, "expire", down)
    cli._expire_reports(app)  # logged, not raised: the worker stays up
    assert director.get(f"/api/v1/reports/jobs/{job['id']}").get_json()["status"] == "ready"
    monkeypatch.setattr(report_jobs, "expire", real)
    cli._expire_reports(app)
    assert director.get(f"/api/v1/reports/jobs/{job['id']}").get_json()["status"] == "expired"
