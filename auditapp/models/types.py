"""Column types shared by the models."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from auditapp import clock


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database.

    SQLite has no time zones, so values are stored as naive UTC and handed back aware; a naive
    value given to the database is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, aware, in UTC, by the app's clock: the default for every timestamp column (a
    callable, never a value)."""
    return clock.now()


_WORD = re.compile(r"[a-z][a-z_]*")


def one_of(column: str, values: Iterable[str]) -> str:
    """The SQL of a CHECK that ``column`` holds one of ``values`` (a vocabulary tuple).

    Written out exactly as the migrations wrote it (``kind IN ('store', 'hotel')``), so the
    constraint's SQL stays the same; the values are the domain's constants, never user input,
    and anything but a plain lower-case word is refused rather than quoted.
    """
    words = list(values)
    for word in words:
        if not _WORD.fullmatch(word):
            raise ValueError(f"not a vocabulary word: {word!r}")
    return f"{column} IN ({', '.join(repr(word) for word in words)})"
