"""The application's clock: where services and model defaults read "now".

Nothing below the views reads the wall clock directly. Services and column defaults call
``now()``, which asks the clock installed on the current app and falls back to the system's UTC
clock. The demo installs a ``FakeClock`` and walks it through a simulated year, so a year of
waves, submissions, reviews and disputes goes through the real services with past timestamps;
tests pin it to check deadlines without sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol

from flask import current_app, has_app_context

# Where the app keeps its clock (``app.extensions`` is Flask's place for per-app state).
EXTENSION_KEY = "auditapp.clock"


class Clock(Protocol):
    """Anything that tells the time as an aware UTC datetime."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The wall clock, in UTC: what every app uses unless told otherwise."""

    def now(self) -> datetime:
        """The operating system's current time, in UTC."""
        return datetime.now(UTC)


class FakeClock:
    """A clock that stands still until it is set or advanced."""

    def __init__(self, start: datetime) -> None:
        """Start at ``start`` (timezone-aware; a naive time would be a guess)."""
        self._now = _aware(start)

    def now(self) -> datetime:
        """The instant the clock was last set to."""
        return self._now

    def set(self, at: datetime) -> None:
        """Move the clock to ``at`` (forwards or backwards)."""
        self._now = _aware(at)

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock on by ``delta``; returns the new time."""
        self._now += delta
        return self._now


SYSTEM_CLOCK = SystemClock()


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("a clock needs a timezone-aware datetime")
    return at.astimezone(UTC)


def current() -> Clock:
    """The current app's clock; the system clock outside an app or when none was installed."""
    if has_app_context():
        clock: Clock | None = current_app.extensions.get(EXTENSION_KEY)
        if clock is not None:
            return clock
    return SYSTEM_CLOCK


def now() -> datetime:
    """Now, aware, in UTC, by the current app's clock."""
    return current().now()


@contextmanager
def installed(clock: Clock) -> Iterator[Clock]:
    """Run the block with ``clock`` as the current app's clock, then restore the previous one.

    The clock belongs to the app, so requests and inline jobs of the same app read it too.
    """
    extensions = current_app.extensions
    previous = extensions.get(EXTENSION_KEY)
    extensions[EXTENSION_KEY] = clock
    try:
        yield clock
    finally:
        if previous is None:
            extensions.pop(EXTENSION_KEY, None)
        else:
            extensions[EXTENSION_KEY] = previous
