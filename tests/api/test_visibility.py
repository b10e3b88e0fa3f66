"""Who sees what of an audit, role by role: photo fields (the role table in docs/security.md),
red flags and reuse verdicts (QA only), the photo ETag and the window red flag."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from auditapp.extensions import db
from auditapp.models import Audit, User
from tests.api.test_photos import (
    audit_detail,
    exif_block,
    jpeg_with_exif,
    queue_flags,
    submit,
    visit_start,
)
from tests.support import Fieldwork, Network, jpeg_bytes, submission, upload_photo

# The role table (docs/security.md), field by field.
BASE = {"id", "item_id", "purpose", "status", "width", "height", "error"}
RECEIPT = BASE | {"client_uuid", "sha256", "format", "byte_size", "uploaded_at", "withdrawn_at"}
QA = RECEIPT | {"captured_at", "gps_lat", "gps_lon", "reuse_kind", "reused_from_photo_id"}
METADATA = {"captured_at", "gps_lat", "gps_lon", "sha256"}
VERDICT = {"reuse_kind", "reused_from_photo_id"}
MANAGER_GPS = (59.9386, 30.3141)


def _released_audit_with_dispute_photo(
    as_user: Any, fieldwork: Fieldwork
) -> tuple[int, dict[str, int], bytes]:
    """The shopper's audit of N1 (a receipt photo with GPS), naming employee E-N1-a, approved
    and released; the manager then uploads a dispute photo with its own GPS and time and
    disputes an item with it. Returns the audit id, the photo ids and the dispute photo."""
    shopper, reviewer = as_user("shopper"), as_user("reviewer")
    manager = as_user("manager_n1")
    assignment = fieldwork.assignments["shopper_n1"]
    audit_uuid = str(uuid.uuid4())
    network_staff = db.session.execute(
        db.select(User.staff_member_id).where(User.login == "employee_n1")
    ).scalar_one()
    body = submission(
        assignment, staff=[{"staff_role": "barista", "staff_member_id": network_staff}]
    )
    taken = (visit_start(body) + timedelta(minutes=5)).replace(microsecond=0)
    evidence = jpeg_with_exif(50, exif_block(taken=taken, offset="+00:00", gps=(55.0, 37.0)))
    uploaded = upload_photo(shopper, audit_uuid, assignment, "receipt", evidence)
    assert uploaded.status_code == 201, uploaded.get_json()
    submitted = submit(shopper, audit_uuid, body)
    assert submitted.status_code == 201, submitted.get_json()
    audit_id = submitted.get_json()["id"]
    version = audit_detail(reviewer, audit_id)["version"]
    approved = reviewer.post(
        f"/api/v1/audits/{audit_id}/approve", json={"comment": "", "version": version}
    )
    assert approved.status_code == 200, approved.get_json()
    released = reviewer.post(
        f"/api/v1/audits/{audit_id}/release", json={"version": approved.get_json()["version"]}
    )
    assert released.status_code == 200, released.get_json()

    dispute_photo = jpeg_with_exif(
        51,
        exif_block(
            taken=datetime.now(UTC).replace(microsecond=0), offset="+00:00", gps=MANAGER_GPS
        ),
    )
    photo_uuid = str(uuid.uuid4())
    posted = manager.post(
        f"/api/v1/audits/{audit_id}/dispute-photos",
        data={
            "item_id": "table_clean",
            "photo_uuid": photo_uuid,
            "file": (io.BytesIO(dispute_photo), "dispute.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert posted.status_code == 201, posted.get_json()
    assert set(posted.get_json()) == BASE  # the manager's own upload: no metadata either
    disputed = manager.post(
        f"/api/v1/audits/{audit_id}/disputes",
        json={
            "item_id": "table_clean",
            "reason": "Стол был чистым",
            "photo_uuid": photo_uuid,
            "version": released.get_json()["version"],
        },
    )
    assert disputed.status_code == 201, disputed.get_json()
    return (
        audit_id,
        {"evidence": uploaded.get_json()["id"], "dispute": posted.get_json()["id"]},
        dispute_photo,
    )


@pytest.mark.parametrize(
    ("login", "evidence_fields", "dispute_fields"),
    [
        ("admin", QA, QA),
        ("reviewer", QA, QA),
        ("shopper", RECEIPT, BASE),
        ("manager_n1", BASE, BASE),
        ("director_n", BASE, BASE),
        ("employee_n1", BASE, BASE),
    ],
)
def test_each_role_sees_the_photo_fields_of_the_role_table(
    as_user: Any,
    fieldwork: Fieldwork,
    login: str,
    evidence_fields: set[str],
    dispute_fields: set[str],
) -> None:
    audit_id, photo_ids, dispute_photo = _released_audit_with_dispute_photo(as_user, fieldwork)

    photos = {p["id"]: p for p in audit_detail(as_user(login), audit_id)["photos"]}

    assert set(photos) == {photo_ids["evidence"], photo_ids["dispute"]}
    assert set(photos[photo_ids["evidence"]]) == evidence_fields
    assert set(photos[photo_ids["dispute"]]) == dispute_fields
    if login in ("admin", "reviewer"):
        qa_view = photos[photo_ids["dispute"]]
        assert qa_view["gps_lat"] == pytest.approx(MANAGER_GPS[0], abs=1e-4)
        assert qa_view["sha256"] == hashlib.sha256(dispute_photo).hexdigest()


def test_the_shopper_never_sees_the_managers_dispute_photo_metadata(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    audit_id, photo_ids, dispute_photo = _released_audit_with_dispute_photo(as_user, fieldwork)

    response = as_user("shopper").get(f"/api/v1/audits/{audit_id}")

    assert response.status_code == 200
    [photo] = [p for p in response.get_json()["photos"] if p["id"] == photo_ids["dispute"]]
    assert not METADATA & set(photo), photo
    text = response.get_data(as_text=True)
    assert hashlib.sha256(dispute_photo).hexdigest() not in text
    assert "59.93" not in text and "30.31" not in text


def test_the_shopper_never_sees_a_reuse_verdict_or_red_flags(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    shopper, shopper2, reviewer = as_user("shopper"), as_user("shopper2"), as_user("reviewer")
    data = jpeg_bytes(60, (1024, 768))
    first = upload_photo(
        shopper, str(uuid.uuid4()), fieldwork.assignments["shopper_n1"], "receipt", data
    )
    assert first.status_code == 201, first.get_json()
    audit_uuid = str(uuid.uuid4())
    assignment = fieldwork.assignments["shopper2_n1"]

    reused = upload_photo(shopper2, audit_uuid, assignment, "receipt", data)

    assert reused.status_code == 201, reused.get_json()
    assert not VERDICT & set(reused.get_json()), reused.get_json()
    # A too-short visit: a red flag besides the reuse.
    body = submission(assignment)
    body["visit_ended_at"] = (visit_start(body) + timedelta(minutes=2)).isoformat()
    submitted = submit(shopper2, audit_uuid, body)
    assert submitted.status_code == 201, submitted.get_json()
    audit_id = submitted.get_json()["id"]
    own = audit_detail(shopper2, audit_id)
    assert "flags" not in own
    [photo] = own["photos"]
    assert not VERDICT & set(photo), photo
    assert "identical" not in json.dumps(own)
    # QA still sees both.
    qa = audit_detail(reviewer, audit_id)
    assert qa["photos"][0]["reuse_kind"] == "identical"
    assert {"photo_reused", "visit_too_short"} <= {f["code"] for f in qa["flags"]}
    assert {"photo_reused", "visit_too_short"} <= queue_flags(reviewer, audit_id)


def test_the_shopper_withdrawal_answer_has_no_reuse_verdict(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    shopper, shopper2 = as_user("shopper"), as_user("shopper2")
    data = jpeg_bytes(61, (1024, 768))
    upload_photo(shopper, str(uuid.uuid4()), fieldwork.assignments["shopper_n1"], "receipt", data)
    audit_uuid, photo_uuid = str(uuid.uuid4()), str(uuid.uuid4())
    reused = upload_photo(
        shopper2, audit_uuid, fieldwork.assignments["shopper2_n1"], "receipt", data, photo_uuid
    )
    assert reused.status_code == 201, reused.get_json()

    withdrawn = shopper2.delete(f"/api/v1/audits/{audit_uuid}/photos/{photo_uuid}")

    assert withdrawn.status_code == 200, withdrawn.get_json()
    assert withdrawn.get_json()["status"] == "withdrawn"
    assert set(withdrawn.get_json()) == RECEIPT


# The photo's ETag and caching ---------------------------------------------------------------


def _ready_photo(as_user: Any, fieldwork: Fieldwork) -> tuple[int, bytes]:
    data = jpeg_bytes(70, (1200, 900))
    response = upload_photo(
        as_user("shopper"), str(uuid.uuid4()), fieldwork.assignments["shopper_n1"], "receipt", data
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"], data


def test_each_variant_has_its_own_etag_that_reveals_nothing(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    photo_id, data = _ready_photo(as_user, fieldwork)
    reviewer = as_user("reviewer")

    responses = {
        v: reviewer.get(f"/api/v1/photos/{photo_id}/{v}") for v in ("display", "thumb", "original")
    }

    etags = {v: r.headers["ETag"].strip('"') for v, r in responses.items()}
    assert all(r.status_code == 200 for r in responses.values())
    assert len(set(etags.values())) == 3, etags
    hashes = {hashlib.sha256(data).hexdigest()} | {
        hashlib.sha256(r.data).hexdigest() for r in responses.values()
    }
    for etag in etags.values():
        assert not any(etag in h or h in etag for h in hashes), etag
    for response in responses.values():
        assert response.headers["Cache-Control"].split(",")[0].strip() == "private"
        assert "public" not in response.headers["Cache-Control"]


def test_a_thumbnail_request_with_the_display_etag_gets_the_thumbnail(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    photo_id, _ = _ready_photo(as_user, fieldwork)
    shopper = as_user("shopper")
    display = shopper.get(f"/api/v1/photos/{photo_id}/display")
    assert display.status_code == 200

    thumb = shopper.get(
        f"/api/v1/photos/{photo_id}/thumb", headers={"If-None-Match": display.headers["ETag"]}
    )
    again = shopper.get(
        f"/api/v1/photos/{photo_id}/display", headers={"If-None-Match": display.headers["ETag"]}
    )

    assert thumb.status_code == 200
    assert max(Image.open(io.BytesIO(thumb.data)).size) <= 320
    assert again.status_code == 304
    assert again.data == b""


def test_the_etag_is_the_same_for_every_reader_and_stable(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    photo_id, _ = _ready_photo(as_user, fieldwork)

    first = as_user("shopper").get(f"/api/v1/photos/{photo_id}/display").headers["ETag"]
    second = as_user("reviewer").get(f"/api/v1/photos/{photo_id}/display").headers["ETag"]

    assert first == second


# The assignment's window ---------------------------------------------------------------------


@pytest.mark.parametrize(("days", "flagged"), [(-12, True), (-2, False), (12, True)])
def test_a_visit_outside_the_assignment_window_is_flagged_for_qa_only(
    as_user: Any, fieldwork: Fieldwork, network: Network, days: int, flagged: bool
) -> None:
    shopper, reviewer = as_user("shopper"), as_user("reviewer")
    assignment = fieldwork.assignments["shopper_n1"]
    audit_uuid = str(uuid.uuid4())
    start = (datetime.now(UTC) + timedelta(days=days)).replace(hour=9, minute=0, microsecond=0)
    body = submission(
        assignment,
        visit_started_at=start.isoformat(),
        visit_ended_at=(start + timedelta(minutes=30)).isoformat(),
    )
    upload_photo(shopper, audit_uuid, assignment, "receipt", jpeg_bytes(80))

    submitted = submit(shopper, audit_uuid, body)

    assert submitted.status_code == 201, submitted.get_json()
    audit_id = submitted.get_json()["id"]
    assert ("visit_outside_window" in queue_flags(reviewer, audit_id)) is flagged
    qa_flags = {f["code"] for f in audit_detail(reviewer, audit_id)["flags"]}
    assert ("visit_outside_window" in qa_flags) is flagged
    assert "flags" not in audit_detail(shopper, audit_id)
    audit = db.session.get(Audit, audit_id)
    assert audit is not None and audit.branch_id == network.branches["N1"]
    db.session.rollback()


# The policy object every output is built from ------------------------------------------------


def test_the_branch_view_object_has_no_shopper_identity_metadata_or_flags(
    as_user: Any, fieldwork: Fieldwork, network: Network
) -> None:
    from auditapp import visibility
    from auditapp.services import audits as audit_service

    audit_id, photo_ids, _ = _released_audit_with_dispute_photo(as_user, fieldwork)
    manager = db.session.get(User, network.users["manager_n1"])
    reviewer = db.session.get(User, network.users["reviewer"])
    assert manager is not None and reviewer is not None

    branch = audit_service.audit_view(manager, audit_id)
    qa = audit_service.audit_view(reviewer, audit_id)

    assert branch.audience == "branch"
    for hidden in ("shopper", "shopper_id", "geo_lat", "client_uuid", "flags"):
        assert not hasattr(branch, hidden), hidden
    assert branch.branch_id == network.branches["N1"]
    assert branch.photos is not None and qa.photos is not None
    assert all(not METADATA & set(photo) for photo in branch.photos)
    assert branch.history is not None
    assert {h["action"] for h in branch.history} <= visibility.BRANCH_HISTORY_ACTIONS
    assert all("actor_id" not in h for h in branch.history)
    assert {h["action"] for h in qa.history or []} >= {"submitted", "approve", "released"}
    assert isinstance(qa.flags, list)
    assert {p["id"] for p in qa.photos} == set(photo_ids.values())
    db.session.rollback()


def test_the_shopper_sees_who_acted_by_role_never_by_reviewer_id(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    """The audit hides ``reviewed_by`` from the shopper; its history must not give it away."""
    audit_id, _, _ = _released_audit_with_dispute_photo(as_user, fieldwork)
    history = as_user("shopper").get(f"/api/v1/audits/{audit_id}").get_json()["history"]
    assert {h["actor_role"] for h in history} >= {"shopper", "reviewer"}
    assert all("actor_id" not in h for h in history)
    qa_history = as_user("reviewer").get(f"/api/v1/audits/{audit_id}").get_json()["history"]
    assert all("actor_id" in h for h in qa_history)
