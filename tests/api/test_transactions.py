"""One use case, one transaction: a request refused half-way leaves nothing behind.

The draft a first save or a first photo creates is written in the request's own transaction,
so a 422 or 409 after it undoes it too (it used to be committed first, on its own).
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from auditapp.extensions import db
from auditapp.models import Audit, AuditHistory, AuditPhoto
from tests.support import Fieldwork, upload_photo


def _stored() -> tuple[int, int, int]:
    """(audits, photos, history entries) in the database, whatever the session holds."""
    db.session.rollback()
    count = sa.func.count()
    return (
        db.session.execute(sa.select(count).select_from(Audit)).scalar_one(),
        db.session.execute(sa.select(count).select_from(AuditPhoto)).scalar_one(),
        db.session.execute(sa.select(count).select_from(AuditHistory)).scalar_one(),
    )


def test_first_draft_refused_for_an_invalid_answer_creates_no_audit(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    shopper = as_user("shopper")
    assignment = fieldwork.assignments["shopper_n1"]
    refused = shopper.put(
        f"/api/v1/audits/{uuid.uuid4()}/draft",
        json={"assignment_id": assignment, "answers": {"drink_quality": 6}},
    )
    assert refused.status_code == 422
    assert "drink_quality" in refused.get_json()["error"]["fields"]["answers"]
    assert _stored() == (0, 0, 0)
    bundle = shopper.get("/api/v1/shopper/bundle").get_json()
    mine = next(a for a in bundle["assignments"] if a["id"] == assignment)
    assert mine["audit"] is None
    # The assignment is still free for the phone's next try, under any report id.
    retry = shopper.put(
        f"/api/v1/audits/{uuid.uuid4()}/draft",
        json={"assignment_id": assignment, "answers": {"drink_quality": 4}},
    )
    assert retry.status_code == 200, retry.get_json()
    assert _stored() == (1, 0, 0)


def test_first_photo_refused_for_an_unknown_item_creates_no_draft(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    shopper = as_user("shopper")
    audit_uuid = str(uuid.uuid4())
    assignment = fieldwork.assignments["shopper_n1"]
    refused = upload_photo(shopper, audit_uuid, assignment, "no_such_item")
    assert refused.status_code == 422
    assert "item_id" in refused.get_json()["error"]["fields"]
    assert _stored() == (0, 0, 0)
    assert upload_photo(shopper, audit_uuid, assignment, "receipt").status_code == 201
    assert _stored() == (1, 1, 0)


def test_photo_id_reused_for_a_new_report_creates_no_draft(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    """The photo id clashes only after the second report's draft was made: a 409, and the
    second report does not exist."""
    shopper = as_user("shopper")
    photo_uuid = str(uuid.uuid4())
    first = upload_photo(
        shopper, str(uuid.uuid4()), fieldwork.assignments["shopper_n1"], "receipt", None, photo_uuid
    )
    assert first.status_code == 201
    clash = upload_photo(
        shopper, str(uuid.uuid4()), fieldwork.assignments["shopper_s2"], "receipt", None, photo_uuid
    )
    assert clash.status_code == 409
    assert clash.get_json()["error"]["code"] == "photo_differs"
    assert _stored() == (1, 1, 0)


def test_refused_submission_of_a_new_report_stores_nothing(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    shopper = as_user("shopper")
    refused = shopper.post(
        f"/api/v1/audits/{uuid.uuid4()}/submit",
        json={
            "assignment_id": fieldwork.assignments["shopper_n1"],
            "answers": {"greeted": True},
            "visit_started_at": "2025-01-10T10:00:00+03:00",
            "visit_ended_at": "2025-01-10T10:30:00+03:00",
        },
    )
    assert refused.status_code == 422
    assert _stored() == (0, 0, 0)
