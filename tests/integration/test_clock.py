"""Services take "now" from the app's clock: a fake clock moves deadlines and timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from auditapp import clock
from auditapp.clock import FakeClock
from auditapp.extensions import db
from auditapp.models import Audit
from tests.support import Fieldwork, jpeg_bytes, submission, upload_photo


def _released_audit(as_user: Any, fieldwork: Fieldwork) -> dict[str, Any]:
    """Submit, approve and release one report over the API; returns the released audit."""
    shopper = as_user("shopper")
    audit_uuid = "6f1d3a52-0d0e-4c55-9a8e-7b7b0f1f2a01"
    assignment = fieldwork.assignments["shopper_n1"]
    photo = upload_photo(shopper, audit_uuid, assignment, "receipt", jpeg_bytes(7))
    assert photo.status_code == 201, photo.get_json()
    submitted = shopper.post(f"/api/v1/audits/{audit_uuid}/submit", json=submission(assignment))
    assert submitted.status_code == 201, submitted.get_json()
    reviewer = as_user("reviewer")
    audit = submitted.get_json()
    approved = reviewer.post(
        f"/api/v1/audits/{audit['id']}/approve", json={"version": audit["version"], "comment": "ok"}
    )
    assert approved.status_code == 200, approved.get_json()
    version = approved.get_json()["version"]
    released = reviewer.post(f"/api/v1/audits/{audit['id']}/release", json={"version": version})
    assert released.status_code == 200, released.get_json()
    return dict(released.get_json())


def test_without_a_clock_now_is_the_wall_clock(app: Flask) -> None:
    before = datetime.now(UTC)
    assert before <= clock.now() <= datetime.now(UTC)


def test_fake_clock_refuses_naive_times() -> None:
    with pytest.raises(ValueError):
        FakeClock(datetime(2026, 1, 1))


def test_services_stamp_the_fake_clock_and_its_dispute_window(
    app: Flask, as_user: Any, fieldwork: Fieldwork
) -> None:
    released_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    fake = FakeClock(released_at)
    with clock.installed(fake):
        audit = _released_audit(as_user, fieldwork)
        stored = db.session.get_one(Audit, audit["id"])
        # Every server time of the report is the fake clock's, history included.
        assert stored.submitted_at == stored.reviewed_at == stored.released_at == released_at
        assert {h.at for h in stored.history} == {released_at}
        dispute = {
            "item_id": "greeted",
            "reason": "Стандарт выполнен, есть запись камеры",
            "version": stored.version,
        }
        # Fifteen days later by the fake clock the 14-day window has closed, whatever the wall
        # clock says.
        # Sign-in tickets follow the same clock, so the manager signs in at each moved time.
        fake.advance(timedelta(days=15))
        late = as_user("manager_n1").post(f"/api/v1/audits/{audit['id']}/disputes", json=dispute)
        assert late.status_code == 409
        assert late.get_json()["error"]["code"] == "dispute_window_closed"
        # Thirteen days after the release it is open.
        fake.set(released_at + timedelta(days=13))
        in_time = as_user("manager_n1").post(f"/api/v1/audits/{audit['id']}/disputes", json=dispute)
        assert in_time.status_code == 201, in_time.get_json()
        assert in_time.get_json()["raised_at"].startswith(
            (released_at + timedelta(days=13)).isoformat()[:19]
        )
    # Uninstalled: back to the wall clock.
    assert clock.now() > released_at + timedelta(minutes=30)
