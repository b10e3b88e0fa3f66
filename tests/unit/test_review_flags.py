"""Red flags for QA and the lifecycle's transition table (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from auditapp.domain.lifecycle import TransitionRefused, next_status
from auditapp.domain.review import PhotoFacts, VisitFacts, distance_m, red_flags

START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _visit(**changes: object) -> VisitFacts:
    values: dict[str, object] = {
        "channel": "visit",
        "visit_started_at": START,
        "visit_ended_at": START + timedelta(minutes=30),
        "first_submitted_at": START + timedelta(hours=2),
        "due_at": START + timedelta(days=1),
        "geo": (55.7558, 37.6173),
        "geo_accuracy_m": 20.0,
        "branch_location": (55.7560, 37.6175),
        "photos": [PhotoFacts(1, "receipt", START + timedelta(minutes=20), None)],
    }
    values.update(changes)
    return VisitFacts(**values)  # type: ignore[arg-type]


def _codes(visit: VisitFacts) -> list[str]:
    return [flag.code for flag in red_flags(visit)]


def test_clean_visit_has_no_flags() -> None:
    assert _codes(_visit()) == []


def test_each_flag() -> None:
    short = START + timedelta(minutes=4)
    assert _codes(_visit(visit_ended_at=short, photos=[])) == ["visit_too_short"]
    assert _codes(_visit(channel="call", visit_ended_at=short, photos=[])) == []
    assert _codes(_visit(visit_ended_at=None)) == ["visit_time_missing"]
    late_photo = PhotoFacts(2, "shelf", START - timedelta(days=3), None)
    assert _codes(_visit(photos=[late_photo])) == ["photo_time_outside_visit"]
    slack = PhotoFacts(3, "shelf", START - timedelta(minutes=14), None)
    assert _codes(_visit(photos=[slack])) == []
    reused = PhotoFacts(4, "shelf", None, "near")
    assert _codes(_visit(photos=[reused])) == ["photo_reused"]
    assert _codes(_visit(geo=(55.80, 37.6173))) == ["far_from_branch"]
    assert _codes(_visit(first_submitted_at=START + timedelta(days=2))) == ["late_submission"]


def test_distance() -> None:
    # One degree of latitude is about 111.2 km anywhere.
    assert distance_m((55.0, 37.0), (56.0, 37.0)) == pytest.approx(111_195, rel=1e-3)
    assert distance_m((55.0, 37.0), (55.0, 37.0)) == 0


@pytest.mark.parametrize(
    ("status", "action", "expected"),
    [
        ("in_progress", "submit", "submitted"),
        ("returned", "submit", "submitted"),
        ("submitted", "approve", "approved"),
        ("submitted", "return", "returned"),
        ("submitted", "reject", "rejected"),
        ("returned", "reject", "rejected"),
        ("approved", "release", "released"),
        ("released", "dispute", "released"),
        ("in_progress", "save_draft", "in_progress"),
    ],
)
def test_allowed_transitions(status: str, action: str, expected: str) -> None:
    assert next_status(status, action) == expected


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("submitted", "submit"),
        ("approved", "submit"),
        ("released", "approve"),
        ("in_progress", "approve"),
        ("rejected", "release"),
        ("submitted", "release"),
        ("approved", "dispute"),
        ("submitted", "save_draft"),
        ("submitted", "teleport"),
    ],
)
def test_refused_transitions(status: str, action: str) -> None:
    with pytest.raises(TransitionRefused):
        next_status(status, action)
