"""Red flags for QA and the lifecycle's transition table (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

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


# The assignment's window ---------------------------------------------------------------------

# 20-26 November on the branch's calendar; START (20 Nov, 10:00 UTC) is inside it.
WINDOW = {"window_start": date(2026, 11, 20), "window_end": date(2026, 11, 26)}


@pytest.mark.parametrize(
    ("started", "timezone", "flagged"),
    [
        (START, "UTC", False),
        (START - timedelta(days=1), "UTC", True),  # the day before the window opens
        (datetime(2026, 11, 27, 9, 0, tzinfo=UTC), "UTC", True),  # the day after it closes
        (datetime(2026, 11, 26, 23, 30, tzinfo=UTC), "UTC", False),  # its last evening
        # 19 Nov 22:30 UTC is already 20 Nov 01:30 in Moscow: inside the window there...
        (datetime(2026, 11, 19, 22, 30, tzinfo=UTC), "Europe/Moscow", False),
        # ...but still 19 Nov in UTC, and 26 Nov 22:00 UTC is 27 Nov in Moscow.
        (datetime(2026, 11, 19, 22, 30, tzinfo=UTC), "UTC", True),
        (datetime(2026, 11, 26, 22, 0, tzinfo=UTC), "Europe/Moscow", True),
    ],
)
def test_visit_outside_the_window_is_flagged_on_the_branch_calendar(
    started: datetime, timezone: str, flagged: bool
) -> None:
    visit = _visit(
        visit_started_at=started,
        visit_ended_at=started + timedelta(minutes=30),
        first_submitted_at=started + timedelta(hours=1),
        due_at=datetime(2026, 11, 28, tzinfo=UTC),
        photos=[],
        timezone=timezone,
        **WINDOW,
    )

    assert ("visit_outside_window" in _codes(visit)) is flagged


def test_night_visit_starting_on_the_last_day_is_in_the_window() -> None:
    started = datetime(2026, 11, 26, 23, 40, tzinfo=UTC)
    visit = _visit(
        visit_started_at=started,
        visit_ended_at=started + timedelta(minutes=50),  # ends on 27 Nov
        first_submitted_at=started + timedelta(hours=1),
        photos=[],
        **WINDOW,
    )

    assert "visit_outside_window" not in _codes(visit)


def test_window_flag_names_the_day_and_the_window() -> None:
    visit = _visit(visit_started_at=START - timedelta(days=2), photos=[], **WINDOW)

    [flag] = [f for f in red_flags(visit) if f.code == "visit_outside_window"]
    assert "2026-11-18" in flag.message
    assert "before" in flag.message
    assert "2026-11-20" in flag.message and "2026-11-26" in flag.message


def test_no_window_check_without_a_visit_time_or_a_window() -> None:
    early = START - timedelta(days=5)
    assert "visit_outside_window" not in _codes(
        _visit(visit_started_at=early, visit_ended_at=None, photos=[])
    )
    assert "visit_outside_window" not in _codes(
        _visit(visit_started_at=None, visit_ended_at=None, photos=[], **WINDOW)
    )
    # Only the end is known: it decides.
    assert "visit_outside_window" in _codes(
        _visit(visit_started_at=None, visit_ended_at=early, photos=[], **WINDOW)
    )
