"""Ratings, derived period roll-ups: the monthly roll-ups summed over windows of months.

A ranking of the network for a quarter needs every branch's moments over three months: summed
from the monthly roll-ups that is 15,000 rows at 5,000 branches, carried through a GROUP BY on
every request. `RatingPeriodRollup` keeps those sums for the common windows, every run of 3
consecutive months (calendar quarters and rolling ones) and every calendar year, so such a
reading reads one row per branch. Standards are not kept by window: a release would write one
row per item and window (four per item, 180 for a 45-item checklist), and their readings are
kept in memory once computed from the monthly item roll-ups.

They are derived in SQL from `RatingRollup` only (whatever computed the months):
`refresh_periods` redoes the windows of the (branch, month) cells a release or a dispute
changed, in the caller's transaction, and `rebuild_periods` redoes them all. Both run the same
statement, and it adds a window's months in month order (one conditional sum per month of the
window, each over exactly one row), so the sums do not depend on the order the database reads
rows in: a rebuild reproduces the kept rows bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from functools import cache, reduce
from operator import add
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
)

from auditapp.domain import ratings as arith
from auditapp.extensions import db
from auditapp.models import RatingPeriodRollup, RatingRollup
from auditapp.models.ratings import QUARTER_MONTHS, YEAR_MONTHS

Window = tuple[int, date]  # (number of months, first month)
Cell = tuple[int, date]  # (branch id, first day of the month)


def window_of(period: arith.Period) -> Window | None:
    """The kept window that is exactly ``period``, or None (read it from the months)."""
    if not period.whole_months:
        return None
    length = len(period.months)
    if length == QUARTER_MONTHS or (length == YEAR_MONTHS and period.first.month == 1):
        return length, period.first
    return None


def windows_containing(month: date) -> list[Window]:
    """The kept windows a month belongs to: three runs of 3 months and its calendar year."""
    quarters = [(QUARTER_MONTHS, arith.add_months(month, -i)) for i in range(QUARTER_MONTHS)]
    return [*quarters, (YEAR_MONTHS, date(month.year, 1, 1))]


def _offsets(windows: Iterable[Window]) -> list[tuple[int, date, int, date]]:
    """(months, first month, offset, month) for every month of every window."""
    return [
        (length, first, offset, arith.add_months(first, offset))
        for length, first in sorted(set(windows))
        for offset in range(length)
    ]


def _in_month_order(value: Any, offset: Any) -> ColumnElement[Any]:
    """The sum of ``value`` over a window's months, added in month order: one conditional sum
    per offset (each over the single row of that month, or none), then added left to right."""
    terms = [
        func.coalesce(func.sum(case((offset == index, value))), 0.0) for index in range(YEAR_MONTHS)
    ]
    return reduce(add, terms)


def _derive(windows: Any, branch_joined: bool) -> Any:
    """The statement inserting the period rows of ``windows`` (see `_window_table`) from the
    branches' monthly audit moments."""
    keys = [RatingRollup.checklist_slug, RatingRollup.channel]
    joined = RatingRollup.month == windows.c.month
    if branch_joined:
        joined = and_(joined, RatingRollup.branch_id == windows.c.branch_id)
    query = (
        select(
            RatingRollup.branch_id,
            windows.c.months,
            windows.c.first_month,
            *keys,
            func.sum(RatingRollup.n),
            *(
                _in_month_order(getattr(RatingRollup, name), windows.c.month_index)
                for name in ("total", "total_sq")
            ),
        )
        .select_from(RatingRollup)
        .join(windows, joined)
        .where(RatingRollup.part_kind == "audit")
        .group_by(RatingRollup.branch_id, windows.c.months, windows.c.first_month, *keys)
    )
    if not branch_joined:
        # Every window's rows together on disk, as readings read them (one window at a time):
        # on PostgreSQL, where a fresh table is read through its heap, a quarter of the
        # network then touches a few hundred pages instead of thousands.
        query = query.order_by(windows.c.months, windows.c.first_month, RatingRollup.branch_id)
    names = ["branch_id", "months", "first_month", "checklist_slug", "channel", "n"]
    return insert(RatingPeriodRollup).from_select([*names, "total", "total_sq"], query)


def refresh_periods(cells: Iterable[Cell]) -> None:
    """Redo the period rows of every window holding one of these (branch, month) cells, from
    their monthly roll-ups as they are now (call after writing them; no commit)."""
    statements = _cell_statements()
    connection = db.session.connection()
    for branch_id, month in sorted(set(cells)):
        params: dict[str, Any] = {"branch_id": branch_id}
        for index, (length, first) in enumerate(windows_containing(month)):
            params[f"first_{index}"] = first
            for offset in range(length):
                params[f"month_{index}_{offset}"] = arith.add_months(first, offset)
        for statement in statements:
            # Core execution: given parameters, the ORM would read an insert as a bulk insert.
            connection.execute(statement, params)


@cache
def _cell_statements() -> tuple[Any, ...]:
    """The two statements that redo the windows of one cell (delete, then insert), built
    once with bound parameters: the branch, ``first_<w>`` and ``month_<w>_<offset>`` for each
    window of `windows_containing` (building the expressions anew cost more than running
    them, on every release)."""
    shape = windows_containing(date(2000, 1, 1))
    target = RatingPeriodRollup
    removed = delete(target).where(
        target.branch_id == bindparam("branch_id"),
        or_(
            *(
                and_(target.months == length, target.first_month == bindparam(f"first_{index}"))
                for index, (length, _) in enumerate(shape)
            )
        ),
    )
    rows = [
        (
            bindparam("branch_id", type_=Integer),
            literal(length, Integer),
            bindparam(f"first_{index}", type_=Date),
            literal(offset, Integer),
            bindparam(f"month_{index}_{offset}", type_=Date),
        )
        for index, (length, _) in enumerate(shape)
        for offset in range(length)
    ]
    return removed, _derive(_window_table(rows, with_branch=True), branch_joined=True)


def _window_table(rows: Sequence[Sequence[Any]], *, with_branch: bool) -> Any:
    """The months of the windows as a common table expression: ([branch_id,] months,
    first_month, month_index, month), a UNION ALL of one SELECT per month of a window (rows
    of values, or of bound parameters and literals)."""
    names = ["branch_id"] if with_branch else []
    names += ["months", "first_month", "month_index", "month"]
    types: list[Any] = [Integer] * (len(names) - 4) + [Integer, Date, Integer, Date]
    selects = [
        select(
            *(
                (value if isinstance(value, ColumnElement) else literal(value, type_)).label(name)
                for value, type_, name in zip(row, types, names, strict=True)
            )
        )
        for row in rows
    ]
    return union_all(*selects).cte("period_window")


def rebuild_periods() -> None:
    """Redo every period row from the monthly roll-ups (``ratings rebuild``; no commit)."""
    db.session.execute(delete(RatingPeriodRollup))
    months = sorted(
        arith.month_start(month) if isinstance(month, date) else date.fromisoformat(str(month))
        for month in db.session.execute(select(RatingRollup.month).distinct()).scalars()
    )
    windows = {window for month in months for window in windows_containing(month)}
    if not windows:
        return
    db.session.execute(
        _derive(_window_table(_offsets(windows), with_branch=False), branch_joined=False)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # Statistics of the new rows, so that the first readings are planned on them.
        db.session.execute(text("ANALYZE rating_period_rollup"))
