"""Rules for the network's identifiers: the codes of regions, branches and staff, and the
time zone a branch keeps its calendar in.

The API's schemas and the CSV import check the same rules, so both take them from here.
Pure Python: this module imports nothing outside the standard library.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Final
from zoneinfo import available_timezones

#: A code of a region, branch or staff member: it ends up in URLs, file names and CSV cells.
CODE_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
#: What a code may hold, said to the person who typed a wrong one.
CODE_RULE: Final = "Use letters, digits, _ . -"


@cache
def _timezones() -> frozenset[str]:
    # available_timezones() rescans the tz database on every call (~9 ms).
    return frozenset(available_timezones())


def timezone_problem(name: str) -> str | None:
    """Why ``name`` is not an IANA time zone (such as Europe/Moscow), or None when it is one."""
    if name in _timezones():
        return None
    return f"Unknown time zone {name!r}; use an IANA name like Europe/Moscow."
