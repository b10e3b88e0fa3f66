"""Red flags a QA reviewer sees on a submitted audit: pure rules over plain values.

Times are aware UTC datetimes. Device times are only compared with other device data (visit
start/end, photo capture) and with the assignment's window, a range of days on the branch's
calendar; lateness is judged on the server's receipt time alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

# Shortest believable visit, per channel, in minutes.
MIN_VISIT_MINUTES: Final[dict[str, float]] = {"visit": 10.0, "call": 2.0, "online": 3.0}
# A photo taken this long before the visit started or after it ended is suspicious.
PHOTO_TIME_SLACK: Final = timedelta(minutes=15)
# Farther than this from the branch (plus the device's own accuracy) is suspicious.
MAX_DISTANCE_M: Final = 500.0


@dataclass(frozen=True)
class PhotoFacts:
    """What the review rules need to know about one photo."""

    photo_id: int
    item_id: str
    captured_at: datetime | None
    reuse_kind: str | None


@dataclass(frozen=True)
class VisitFacts:
    """What the review rules need to know about one audit."""

    channel: str
    visit_started_at: datetime | None
    visit_ended_at: datetime | None
    first_submitted_at: datetime | None
    due_at: datetime
    geo: tuple[float, float] | None
    geo_accuracy_m: float | None
    branch_location: tuple[float, float] | None
    photos: Sequence[PhotoFacts]
    # The assignment's window: the first and last day of the visit, on the branch's calendar
    # (``timezone`` is the branch's IANA zone). None when unknown: no window check then.
    window_start: date | None = None
    window_end: date | None = None
    timezone: str = "UTC"


@dataclass(frozen=True)
class RedFlag:
    """One reason to look closer; ``code`` is stable, ``message`` is for the reviewer."""

    code: str
    message: str


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (lat, lon) points (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000.0 * math.asin(min(1.0, math.sqrt(h)))


def _outside_window(visit: VisitFacts) -> RedFlag | None:
    """A flag when the visit's day (the day it started, as the branch's calendar has it) falls
    before the assignment's window opens or after it closes.

    The start decides: a night visit that begins on the window's last day and ends after
    midnight is in the window. Without a start time the end time is used.
    """
    moment = visit.visit_started_at or visit.visit_ended_at
    if moment is None or visit.window_start is None or visit.window_end is None:
        return None
    day = moment.astimezone(ZoneInfo(visit.timezone)).date()
    if visit.window_start <= day <= visit.window_end:
        return None
    when = "before the window opened" if day < visit.window_start else "after the window closed"
    return RedFlag(
        "visit_outside_window",
        f"The visit took place on {day.isoformat()}, {when} "
        f"({visit.window_start.isoformat()} to {visit.window_end.isoformat()}).",
    )


def red_flags(visit: VisitFacts) -> list[RedFlag]:
    """Every red flag of a visit, in a stable order."""
    flags: list[RedFlag] = []
    start, end = visit.visit_started_at, visit.visit_ended_at
    minimum = MIN_VISIT_MINUTES.get(visit.channel, 5.0)
    if start is None or end is None:
        flags.append(RedFlag("visit_time_missing", "The visit start or end time is missing."))
    elif end < start:
        flags.append(RedFlag("visit_too_short", "The visit ends before it starts."))
    elif (end - start).total_seconds() < minimum * 60:
        minutes = (end - start).total_seconds() / 60
        flags.append(
            RedFlag(
                "visit_too_short",
                f"The visit lasted {minutes:.1f} min; at least {minimum:g} min is expected.",
            )
        )
    window_flag = _outside_window(visit)
    if window_flag is not None:
        flags.append(window_flag)
    if start is not None and end is not None:
        outside = [
            p
            for p in visit.photos
            if p.captured_at is not None
            and not (start - PHOTO_TIME_SLACK <= p.captured_at <= end + PHOTO_TIME_SLACK)
        ]
        if outside:
            items = ", ".join(sorted({p.item_id for p in outside}))
            flags.append(
                RedFlag("photo_time_outside_visit", f"Photos taken outside the visit: {items}.")
            )
    reused = [p for p in visit.photos if p.reuse_kind is not None]
    if reused:
        kinds = ", ".join(sorted({f"{p.item_id} ({p.reuse_kind})" for p in reused}))
        flags.append(RedFlag("photo_reused", f"Photos seen in another audit: {kinds}."))
    if visit.geo is not None and visit.branch_location is not None:
        distance = distance_m(visit.geo, visit.branch_location)
        if distance > MAX_DISTANCE_M + (visit.geo_accuracy_m or 0.0):
            flags.append(
                RedFlag(
                    "far_from_branch",
                    f"The device was {distance / 1000:.1f} km from the branch.",
                )
            )
    if visit.first_submitted_at is not None and visit.first_submitted_at > visit.due_at:
        late = visit.first_submitted_at - visit.due_at
        hours = late.total_seconds() / 3600
        flags.append(
            RedFlag("late_submission", f"Submitted {hours:.1f} h after the window closed.")
        )
    return flags
