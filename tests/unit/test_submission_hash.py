"""The submission hash: what makes a retry from the outbox the same submission. Stored hashes
must keep matching after the services took typed commands instead of dicts, so the canonical
text is written out here by hand, as the dict-based code built it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

from auditapp.services.audits import Geo, StaffServed, Submission, submission_hash

START = datetime(2025, 1, 10, 7, 0, tzinfo=UTC)


def _submission(**changes: object) -> Submission:
    values: dict[str, object] = {
        "assignment_id": 7,
        "answers": {"greeted": True},
        "visit_started_at": START,
        "visit_ended_at": START + timedelta(minutes=30),
        "geo": Geo(55.75, 37.62),
        "staff": [StaffServed("barista", staff_member_id=3)],
    }
    values.update(changes)
    return Submission(**values)  # type: ignore[arg-type]


def test_the_hash_is_the_sha256_of_the_canonical_text() -> None:
    canonical = (
        '{"answers":{"greeted":true},"assignment_id":7,"comment":"",'
        '"geo":{"accuracy_m":null,"lat":55.75,"lon":37.62},'
        '"staff":["{\\"description\\": \\"\\", \\"staff_member_id\\": 3, '
        '\\"staff_role\\": \\"barista\\"}"],'
        '"visit_ended_at":"2025-01-10T07:30:00+00:00",'
        '"visit_started_at":"2025-01-10T07:00:00+00:00"}'
    )
    assert submission_hash(_submission()) == hashlib.sha256(canonical.encode()).hexdigest()


def test_the_device_clock_and_the_utc_offset_do_not_change_it() -> None:
    moscow = timezone(timedelta(hours=3))
    retry = _submission(
        visit_started_at=START.astimezone(moscow),
        visit_ended_at=(START + timedelta(minutes=30)).astimezone(moscow),
        device_submitted_at=START + timedelta(hours=5),
    )
    assert submission_hash(retry) == submission_hash(_submission())


def test_content_changes_it() -> None:
    base = submission_hash(_submission())
    assert submission_hash(_submission(answers={"greeted": False})) != base
    assert submission_hash(_submission(comment="x")) != base
    assert submission_hash(_submission(geo=None)) != base
    assert submission_hash(_submission(staff=[StaffServed("barista", description="y")])) != base
