"""Ratings, write side: keeping the monthly roll-ups.

A released audit gets a `RatingAudit` row (its branch-local visit month) and its contribution
(n, sums, points of the audit, its stages, sections, roles and items) is *added* to the roll-ups
of its (branch, month) *cell*, in the caller's transaction (release, wave release). A score
changed after release (an upheld dispute) recomputes its cell from the cell's audits.
``ratings rebuild`` sums every cell again from the audits (on PostgreSQL inside the database).

All of this gives the same numbers bit for bit because every addend is first put on a binary
grid (`on_grid`): scores on multiples of 1/4096 point, points on multiples of 1/2**20. Sums of
such numbers are exact in floating point (far below 2**53 steps), hence independent of the order
of addition: adding one audit to a kept row, summing a cell in Python, or a ``GROUP BY`` in the
database all give the same bits.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite

from auditapp.domain import ratings as arith
from auditapp.extensions import db
from auditapp.models import (
    Audit,
    Branch,
    ChecklistVersion,
    RatingAudit,
    RatingItemRollup,
    RatingPeriodRollup,
    RatingRollup,
)
from auditapp.services.checklists import checklist_of
from auditapp.services.errors import Conflict
from auditapp.services.ratings.memo import changed
from auditapp.services.ratings.periods import rebuild_periods, refresh_periods, windows_containing
from auditapp.services.transactions import commit, flush

# A select of any columns (SQLAlchemy types a select by its column tuple).
AnySelect = Select[*tuple[Any, ...]]
Cell = tuple[int, date]  # (branch id, first day of the month)
PartKey = tuple[str, str, str, str]  # (checklist slug, channel, part kind, part key)
ItemKey = tuple[str, str, str, str]  # (checklist slug, channel, item id, clause)

# The grids the addends are put on (see the module docstring). Scores: 1/4096 point, so that a
# score's square is exact too (at most 409,600 steps, squared < 2**38) and a cell's sum of
# squares stays exact up to 2**15 audits in a branch-month; points: 1/2**20.
SCORE_STEPS = 4096
POINT_STEPS = 1 << 20


def on_grid(value: float, steps: int) -> float:
    """``value`` rounded to the nearest multiple of ``1 / steps`` (halves up): the database's
    ``floor(value * steps + 0.5) / steps`` gives the same bits (every step exact in binary)."""
    return math.floor(value * steps + 0.5) / steps


# Write side --------------------------------------------------------------------------------


def visit_day(audit: Audit, timezone: str) -> date:
    """The visit's calendar day in the branch's own time zone (submission time if the phone
    sent no visit time)."""
    moment = audit.visit_started_at or audit.submitted_at or audit.created_at
    return moment.astimezone(ZoneInfo(timezone)).date()


_CLAUSES: dict[tuple[int, str], dict[str, str]] = {}


def _clauses(version: ChecklistVersion) -> dict[str, str]:
    """item id -> clause of a checklist version (cached by content)."""
    key = (version.id, version.content_hash)
    if key not in _CLAUSES:
        if len(_CLAUSES) > 512:
            _CLAUSES.clear()
        _CLAUSES[key] = {item.id: item.clause for item in checklist_of(version).items()}
    return _CLAUSES[key]


@dataclass
class CellTotals:
    """The roll-up rows of one (branch, month) cell being summed (any order: see `on_grid`)."""

    parts: dict[PartKey, list[float]] = field(default_factory=dict)
    items: dict[ItemKey, list[float]] = field(default_factory=dict)

    def add(
        self,
        slug: str,
        channel: str,
        score: float | None,
        detail: dict[str, Any],
        clauses: dict[str, str],
    ) -> None:
        """Add one audit: its score, its part scores and points, and its items' points."""
        self._part((slug, channel, "audit", ""), score, detail["earned"], detail["possible"])
        for kind, source in (("stage", "stages"), ("section", "sections"), ("role", "roles")):
            for key, part in (detail.get(source) or {}).items():
                self._part(
                    (slug, channel, kind, key), part["score"], part["earned"], part["possible"]
                )
        for item_id, result in (detail.get("items") or {}).items():
            if result.get("na"):
                continue  # N/A counts in neither earned nor possible, nor in n
            row = self.items.setdefault(
                (slug, channel, item_id, clauses.get(item_id, "")), [0, 0.0, 0.0]
            )
            row[0] += 1
            row[1] += on_grid(result["earned"], POINT_STEPS)
            row[2] += on_grid(result["possible"], POINT_STEPS)

    def _part(self, key: PartKey, score: float | None, earned: float, possible: float) -> None:
        row = self.parts.setdefault(key, [0, 0.0, 0.0, 0.0, 0.0])
        if score is not None:
            exact = on_grid(score, SCORE_STEPS)
            row[0] += 1
            row[1] += exact
            row[2] += exact * exact
        row[3] += on_grid(earned, POINT_STEPS)
        row[4] += on_grid(possible, POINT_STEPS)

    def rows(self, cell: Cell) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The roll-up and item roll-up rows to insert for ``cell``."""
        branch_id, month = cell
        parts = [
            {
                "branch_id": branch_id,
                "month": month,
                "checklist_slug": slug,
                "channel": channel,
                "part_kind": kind,
                "part_key": key,
                "n": int(v[0]),
                "total": v[1],
                "total_sq": v[2],
                "earned": v[3],
                "possible": v[4],
            }
            for (slug, channel, kind, key), v in self.parts.items()
        ]
        items = [
            {
                "branch_id": branch_id,
                "month": month,
                "checklist_slug": slug,
                "channel": channel,
                "item_id": item_id,
                "clause": clause,
                "n": int(v[0]),
                "earned": v[1],
                "possible": v[2],
            }
            for (slug, channel, item_id, clause), v in self.items.items()
        ]
        return parts, items


def _clauses_of(version_id: int, content_hash: str) -> dict[str, str]:
    """item id -> clause of a checklist version, cached by content (ids repeat across
    databases; content does not change under an id)."""
    if (version_id, content_hash) not in _CLAUSES:
        version = db.session.get(ChecklistVersion, version_id)
        assert version is not None
        _clauses(version)
    return _CLAUSES[(version_id, content_hash)]


def cell_rows(condition: ColumnElement[bool], *, ordered: bool = True) -> Select[Any]:
    """The counted audits matching ``condition`` with what `add_row` sums, by cell then audit
    id when ``ordered`` (the sums do not depend on it; a stable order reads well)."""
    query = (
        select(
            RatingAudit.branch_id,
            RatingAudit.month,
            RatingAudit.checklist_slug,
            RatingAudit.channel,
            Audit.score,
            Audit.score_detail,
            Audit.checklist_version_id,
            ChecklistVersion.content_hash,
        )
        .join(Audit, Audit.id == RatingAudit.audit_id)
        .join(ChecklistVersion, ChecklistVersion.id == Audit.checklist_version_id)
        .where(condition)
    )
    if ordered:
        query = query.order_by(RatingAudit.branch_id, RatingAudit.month, RatingAudit.audit_id)
    return query


def _branch_ranges(
    cells_per_branch: dict[int, int], audits: int, batch: int
) -> list[tuple[int, int]]:
    """Consecutive ranges of branch ids holding about ``batch`` audits each (by their share
    of the cells, a good enough proxy: a branch has a few audits a month)."""
    if not cells_per_branch:
        return []
    per_cell = audits / max(1, sum(cells_per_branch.values()))
    ranges: list[tuple[int, int]] = []
    first: int | None = None
    size = 0.0
    for branch_id in sorted(cells_per_branch):
        if first is None:
            first = branch_id
        size += cells_per_branch[branch_id] * per_cell
        if size >= batch:
            ranges.append((first, branch_id))
            first, size = None, 0.0
    if first is not None:
        ranges.append((first, max(cells_per_branch)))
    return ranges


def _cells_condition(cells: Sequence[Cell]) -> ColumnElement[bool]:
    by_branch: dict[int, set[date]] = {}
    for branch_id, month in cells:
        by_branch.setdefault(branch_id, set()).add(month)
    return or_(
        *(
            and_(RatingAudit.branch_id == branch_id, RatingAudit.month.in_(sorted(months)))
            for branch_id, months in by_branch.items()
        )
    )


_ROLLUP = RatingRollup.__table__
_ITEM_ROLLUP = RatingItemRollup.__table__
_PERIOD_ROLLUP = RatingPeriodRollup.__table__
# Core inserts of plain rows (the ORM's bulk path spent more time than the database did).
_CHUNK = 2000


def _insert(table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _CHUNK):
        db.session.execute(insert(table), rows[start : start + _CHUNK])


def _write_cells(totals: dict[Cell, CellTotals], *, replace: bool) -> None:
    """Insert the roll-up rows of the cells (deleting the old ones first when ``replace``)."""
    if replace:
        for branch_id, month in totals:
            db.session.execute(
                delete(RatingRollup).where(
                    RatingRollup.branch_id == branch_id, RatingRollup.month == month
                )
            )
            db.session.execute(
                delete(RatingItemRollup).where(
                    RatingItemRollup.branch_id == branch_id, RatingItemRollup.month == month
                )
            )
    parts, items = _rows_of(totals)
    _insert(_ROLLUP, parts)
    _insert(_ITEM_ROLLUP, items)


def _rows_of(totals: dict[Cell, CellTotals]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    parts: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for cell, total in totals.items():
        cell_parts, cell_items = total.rows(cell)
        parts += cell_parts
        items += cell_items
    return parts, items


def add_row(totals: dict[Cell, CellTotals], row: Any) -> None:
    """Sum one row of `cell_rows` into its cell."""
    branch_id, month, slug, channel, score, detail, version_id, content_hash = row
    totals.setdefault((branch_id, month), CellTotals()).add(
        slug,
        channel,
        score,
        detail or {"earned": 0.0, "possible": 0.0},
        _clauses_of(version_id, content_hash),
    )


def refresh_cells(cells: Iterable[Cell]) -> None:
    """Recompute the roll-ups of these (branch, month) cells from their audits (no commit)."""
    ordered = sorted(set(cells))
    changed()
    for start in range(0, len(ordered), 200):
        chunk = ordered[start : start + 200]
        totals: dict[Cell, CellTotals] = {cell: CellTotals() for cell in chunk}
        for row in db.session.execute(cell_rows(_cells_condition(chunk))):
            add_row(totals, row)
        _write_cells(totals, replace=True)
        refresh_periods(chunk)


def _flush() -> None:
    """Write the caller's pending changes; a concurrent edit of the audit is a conflict (the
    caller's transaction is left for the use case to end)."""
    flush(Conflict("The audit changed meanwhile; reload it and try again.", code="stale_version"))


def record_released(audits: Iterable[Audit]) -> None:
    """Count newly released audits: call inside the release transaction (it does not commit).

    Each audit's contribution is added to its cell's roll-ups, from the score detail the audit
    already holds: no other audit of the cell is read. On PostgreSQL one statement per audit
    (`_RELEASE_SQL`); on SQLite a look-up per audit and five statements for them all
    (`_count_on_sqlite`)."""
    _flush()
    changed()
    # The lifecycle releases an audit once (released is never left), so there is no counted
    # row yet; the primary key would refuse a second one.
    if db.session.get_bind().dialect.name == "postgresql":
        for audit in audits:
            _count_on_postgresql(audit)
        return
    _count_on_sqlite(audits)


# A release on SQLite: plain SQL run with tuples through the session's connection
# (``exec_driver_sql``: SQLAlchemy's events and error translation, without building a
# statement or processing a dict per row, which cost as much as SQLite's own work). Dates are
# bound as the ISO text SQLAlchemy stores for a `Date` on SQLite; floats and integers as they
# are.


def _adding_sql(table: Any, summed: tuple[str, ...]) -> str:
    """``INSERT .. ON CONFLICT (primary key) DO UPDATE`` increasing ``summed`` of a kept row, as
    SQLite SQL; its parameters are the primary key's columns in order, then ``summed``."""
    keys = [column.name for column in table.primary_key.columns]
    columns = [*keys, *summed]
    statement = sqlite.insert(table).values({name: bindparam(name) for name in columns})
    compiled = statement.on_conflict_do_update(
        index_elements=keys,
        set_={name: table.c[name] + statement.excluded[name] for name in summed},
    ).compile(dialect=sqlite.dialect())
    if list(compiled.positiontup or ()) != columns:  # the tuples below are built in this order
        raise RuntimeError(f"{table.name}: parameters in order {compiled.positiontup}")
    return str(compiled)


# Columns, not the relationships: the checklist version's would load its whole definition.
_SQLITE_VERSION_AND_ZONE = (
    "SELECT v.slug, v.content_hash, b.timezone FROM checklist_version AS v"
    " JOIN branch AS b ON b.id = ? WHERE v.id = ?"
)
_SQLITE_COUNTED = (
    "INSERT INTO rating_audit (audit_id, branch_id, visit_date, month, checklist_slug, channel,"
    " score) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_SQLITE_PARTS = _adding_sql(_ROLLUP, ("n", "total", "total_sq", "earned", "possible"))
_SQLITE_ITEMS = _adding_sql(_ITEM_ROLLUP, ("n", "earned", "possible"))
_SQLITE_PERIOD_PARTS = _adding_sql(_PERIOD_ROLLUP, ("n", "total", "total_sq"))


def _count_on_sqlite(audits: Iterable[Audit]) -> None:
    """`record_released` on SQLite: per audit a look-up of its checklist and zone and its sums
    added to its cell's; then one ``executemany`` per table for all of them (the counted rows,
    then each roll-up increased: a new row, or its n and sums added to). Exact, whatever the
    order the audits come in (`on_grid`)."""
    connection = db.session.connection()
    counted: list[tuple[Any, ...]] = []
    totals: dict[Cell, CellTotals] = {}
    for audit in audits:
        found = connection.exec_driver_sql(
            _SQLITE_VERSION_AND_ZONE, (audit.branch_id, audit.checklist_version_id)
        ).first()
        if found is None:
            raise LookupError(f"Audit {audit.id}: its branch or checklist version is missing.")
        slug, content_hash, timezone = found
        day = visit_day(audit, timezone)
        month = arith.month_start(day)
        counted.append(
            (
                audit.id,
                audit.branch_id,
                day.isoformat(),
                month.isoformat(),
                slug,
                audit.channel,
                audit.score,
            )
        )
        totals.setdefault((audit.branch_id, month), CellTotals()).add(
            slug,
            audit.channel,
            audit.score,
            audit.score_detail or {"earned": 0.0, "possible": 0.0},
            _clauses_of(audit.checklist_version_id, content_hash),
        )
    for statement, rows in zip(
        (_SQLITE_COUNTED, _SQLITE_PARTS, _SQLITE_ITEMS, _SQLITE_PERIOD_PARTS),
        (counted, *_adding_rows(totals)),
        strict=True,
    ):
        if rows:  # (no parameter sets would run the statement once, with none)
            connection.exec_driver_sql(statement, rows)


def _adding_rows(totals: dict[Cell, CellTotals]) -> tuple[list[tuple[Any, ...]], ...]:
    """The parameters of `_SQLITE_PARTS`, `_SQLITE_ITEMS` and `_SQLITE_PERIOD_PARTS` for the
    cells' sums: a month's audit part is added to the period rows of every window holding it
    (as `_RELEASE_SQL` does on PostgreSQL)."""
    parts: list[tuple[Any, ...]] = []
    items: list[tuple[Any, ...]] = []
    period_parts: list[tuple[Any, ...]] = []
    for (branch_id, month), cell in totals.items():
        first_day = month.isoformat()
        windows = [(length, first.isoformat()) for length, first in windows_containing(month)]
        for part, (n, *sums) in cell.parts.items():
            parts.append((branch_id, first_day, *part, int(n), *sums))
            slug, channel, kind, _ = part
            if kind == "audit":
                total, total_sq = sums[0], sums[1]
                period_parts += [
                    (branch_id, length, first, slug, channel, int(n), total, total_sq)
                    for length, first in windows
                ]
        for (slug, channel, item_id, clause), (n, earned, possible) in cell.items.items():
            items.append(
                (branch_id, first_day, slug, channel, item_id, clause, int(n), earned, possible)
            )
    return parts, items, period_parts


# A release on PostgreSQL in one round trip (a release's own work is four or five): the counted
# row, its visit day in the branch's zone computed by the database (as the rebuild there does),
# and both roll-up additions. The audit's sums come as JSON (floats written by ``repr`` read back
# to the same bits), summed here with the item clauses of the checklist version it was scored
# on; the statement counts nothing unless that version still has the content hash the clauses
# were taken from (checked in the statement, so the clauses can be cached between releases).
_RELEASE_SQL = text(
    """
WITH version AS (
    SELECT slug FROM checklist_version
    WHERE id = CAST(:version_id AS integer) AND content_hash = CAST(:content_hash AS text)
), counted AS (
    INSERT INTO rating_audit (audit_id, branch_id, visit_date, month, checklist_slug, channel,
                              score)
    SELECT CAST(:audit_id AS integer), b.id, d.day,
           d.day - CAST(EXTRACT(DAY FROM d.day) AS integer) + 1, v.slug,
           CAST(:channel AS text), CAST(:score AS float8)
    FROM version AS v
    JOIN branch AS b ON b.id = CAST(:branch_id AS integer)
    CROSS JOIN LATERAL (
        SELECT CAST(CAST(:moment AS timestamptz) AT TIME ZONE b.timezone AS date) AS day
    ) AS d
    RETURNING branch_id, month, checklist_slug
), parts AS (
    INSERT INTO rating_rollup (branch_id, month, checklist_slug, channel, part_kind, part_key,
                               n, total, total_sq, earned, possible)
    SELECT c.branch_id, c.month, c.checklist_slug, x.channel, x.part_kind, x.part_key,
           x.n, x.total, x.total_sq, x.earned, x.possible
    FROM counted AS c
    CROSS JOIN json_to_recordset(CAST(:parts AS json))
        AS x(channel text, part_kind text, part_key text, n integer, total float8,
             total_sq float8, earned float8, possible float8)
    ON CONFLICT (branch_id, month, checklist_slug, channel, part_kind, part_key) DO UPDATE
    SET n = rating_rollup.n + excluded.n,
        total = rating_rollup.total + excluded.total,
        total_sq = rating_rollup.total_sq + excluded.total_sq,
        earned = rating_rollup.earned + excluded.earned,
        possible = rating_rollup.possible + excluded.possible
), items AS (
    INSERT INTO rating_item_rollup (branch_id, month, checklist_slug, channel, item_id, clause,
                                    n, earned, possible)
    SELECT c.branch_id, c.month, c.checklist_slug, x.channel, x.item_id, x.clause,
           x.n, x.earned, x.possible
    FROM counted AS c
    CROSS JOIN json_to_recordset(CAST(:items AS json))
        AS x(channel text, item_id text, clause text, n integer, earned float8,
             possible float8)
    ON CONFLICT (branch_id, month, checklist_slug, channel, item_id, clause) DO UPDATE
    SET n = rating_item_rollup.n + excluded.n,
        earned = rating_item_rollup.earned + excluded.earned,
        possible = rating_item_rollup.possible + excluded.possible
), windows AS (
    -- The kept windows holding the month (`periods.windows_containing`): three runs of 3
    -- months and its calendar year.
    SELECT c.branch_id, c.checklist_slug, 3 AS months,
           CAST(c.month - make_interval(months => k) AS date) AS first_month
    FROM counted AS c CROSS JOIN generate_series(0, 2) AS k
    UNION ALL
    SELECT c.branch_id, c.checklist_slug, 12, CAST(date_trunc('year', c.month) AS date)
    FROM counted AS c
), period_parts AS (
    INSERT INTO rating_period_rollup (branch_id, months, first_month, checklist_slug, channel,
                                      n, total, total_sq)
    SELECT w.branch_id, w.months, w.first_month, w.checklist_slug, x.channel,
           x.n, x.total, x.total_sq
    FROM windows AS w
    CROSS JOIN json_to_recordset(CAST(:parts AS json))
        AS x(channel text, part_kind text, n integer, total float8, total_sq float8)
    WHERE x.part_kind = 'audit'
    ON CONFLICT (branch_id, months, first_month, checklist_slug, channel) DO UPDATE
    SET n = rating_period_rollup.n + excluded.n,
        total = rating_period_rollup.total + excluded.total,
        total_sq = rating_period_rollup.total_sq + excluded.total_sq
)
SELECT count(*) FROM counted
"""
)
# Compiled once to the driver's own form (``%(name)s`` parameters) and run through
# ``exec_driver_sql``: SQLAlchemy's statement handling per release cost a third as much as the
# database's work.
_RELEASE_DRIVER_SQL = str(_RELEASE_SQL.compile(dialect=postgresql.psycopg.dialect()))

# checklist version id -> (content hash, item id -> clause), for `_RELEASE_SQL`.
_VERSIONS: dict[int, tuple[str, dict[str, str]]] = {}


def _count_on_postgresql(audit: Audit) -> None:
    """`_RELEASE_SQL` for one audit; again with the version looked up if the cached one is
    stale (ids repeat across databases)."""
    version_id = audit.checklist_version_id
    known = _VERSIONS.get(version_id)
    for attempt in ("cached", "looked up"):
        if known is None or attempt == "looked up":
            content_hash = db.session.execute(
                select(ChecklistVersion.content_hash).where(ChecklistVersion.id == version_id)
            ).scalar_one()
            known = _VERSIONS[version_id] = (content_hash, _clauses_of(version_id, content_hash))
        totals = CellTotals()
        # The cell's keys (branch, month, checklist) are the counted row's, in the statement.
        totals.add(
            "",
            audit.channel,
            audit.score,
            audit.score_detail or {"earned": 0.0, "possible": 0.0},
            known[1],
        )
        parts, items = totals.rows((audit.branch_id, date.min))
        made = (
            db.session.connection()
            .exec_driver_sql(
                _RELEASE_DRIVER_SQL,
                {
                    "version_id": version_id,
                    "content_hash": known[0],
                    "audit_id": audit.id,
                    "branch_id": audit.branch_id,
                    "channel": audit.channel,
                    "score": audit.score,
                    "moment": audit.visit_started_at or audit.submitted_at or audit.created_at,
                    "parts": json.dumps(parts, default=date.isoformat),
                    "items": json.dumps(items, default=date.isoformat),
                },
            )
            .scalar_one()
        )
        if made:
            return
    raise LookupError(f"Audit {audit.id}: its branch or checklist version is missing.")


def record_rescored(audit: Audit) -> None:
    """A released audit's score changed (an upheld dispute): update its cell in the caller's
    transaction. Audits not released are not counted and need nothing."""
    if audit.status != "released":
        return
    _flush()
    counted = db.session.get(RatingAudit, audit.id)
    if counted is None:
        record_released([audit])
        return
    counted.score = audit.score
    _flush()
    refresh_cells([(counted.branch_id, counted.month)])


# Every released audit's counted row, on PostgreSQL: the visit day in the branch's zone as
# `_RELEASE_SQL` computes it.
_COUNTED_SQL = text(
    """
INSERT INTO rating_audit (audit_id, branch_id, visit_date, month, checklist_slug, channel,
                          score)
SELECT a.id, a.branch_id, d.day, d.day - CAST(EXTRACT(DAY FROM d.day) AS integer) + 1, v.slug,
       a.channel, a.score
FROM audit AS a
JOIN branch AS b ON b.id = a.branch_id
JOIN checklist_version AS v ON v.id = a.checklist_version_id
CROSS JOIN LATERAL (
    SELECT CAST(coalesce(a.visit_started_at, a.submitted_at, a.created_at)
                AT TIME ZONE b.timezone AS date) AS day
) AS d
WHERE a.status = 'released'
"""
)


def _count_released(batch: int) -> tuple[int, set[Cell]]:
    """Insert the `RatingAudit` row of every released audit; (how many, their cells)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_COUNTED_SQL)
        found = db.session.execute(select(RatingAudit.branch_id, RatingAudit.month).distinct())
        total = db.session.execute(select(func.count()).select_from(RatingAudit)).scalar_one()
        return total, {(branch_id, month) for branch_id, month in found}
    zones = {
        branch_id: ZoneInfo(zone)
        for branch_id, zone in db.session.execute(select(Branch.id, Branch.timezone))
    }
    slugs = dict(db.session.execute(select(ChecklistVersion.id, ChecklistVersion.slug)).all())
    cells: set[Cell] = set()
    counted = 0
    lowest, highest = db.session.execute(select(func.min(Audit.id), func.max(Audit.id))).one()
    # Ranges of ids, the status checked here: with "status = released" in the query the
    # planner walked the status index over every released audit for each batch (minutes on
    # PostgreSQL at a million audits); a primary-key range is read once.
    for start in range(lowest or 0, (highest or 0) + 1, batch):
        values = []
        for row in db.session.execute(
            select(
                Audit.id,
                Audit.status,
                Audit.branch_id,
                Audit.checklist_version_id,
                Audit.channel,
                Audit.score,
                Audit.visit_started_at,
                Audit.submitted_at,
                Audit.created_at,
            ).where(Audit.id >= start, Audit.id < start + batch)
        ):
            if row.status != "released":
                continue
            moment = row.visit_started_at or row.submitted_at or row.created_at
            day = moment.astimezone(zones[row.branch_id]).date()
            month = arith.month_start(day)
            values.append(
                {
                    "audit_id": row.id,
                    "branch_id": row.branch_id,
                    "visit_date": day,
                    "month": month,
                    "checklist_slug": slugs[row.checklist_version_id],
                    "channel": row.channel,
                    "score": row.score,
                }
            )
            cells.add((row.branch_id, month))
        _insert(RatingAudit.__table__, values)
        counted += len(values)
    return counted, cells


def _sum_in_python(first: int, last: int) -> None:
    """The roll-ups of the branches ``first``..``last``, summed here from the score details."""
    totals: dict[Cell, CellTotals] = {}
    for row in db.session.execute(
        cell_rows(RatingAudit.branch_id.between(first, last), ordered=False)
    ):
        add_row(totals, row)
    _write_cells(totals, replace=False)


# The same sums as `CellTotals`, by PostgreSQL over the score details of a range of audit ids
# (no row leaves the database; the score detail parsed once, as jsonb): each addend put on the
# same grid with the same float operations as `on_grid`, and each range's sums added to those
# of the ranges before (a cell's audits may span ranges; the sums are exact, so adding partial
# sums gives the same bits as summing the cell at once).
_PARTS_SQL = text(
    """
INSERT INTO rating_rollup (branch_id, month, checklist_slug, channel, part_kind, part_key,
                           n, total, total_sq, earned, possible)
SELECT r.branch_id, r.month, r.checklist_slug, r.channel, p.kind, p.key,
       count(p.score), coalesce(sum(p.score), 0), coalesce(sum(p.score * p.score), 0),
       sum(p.earned), sum(p.possible)
FROM (
    -- OFFSET 0 keeps these subqueries: the score detail parsed once per audit, not once per
    -- use, and each audit fetched by its primary key (not a scan of all audits per range)
    SELECT r.branch_id, r.month, r.checklist_slug, r.channel, a.score,
           CAST(a.score_detail AS jsonb) AS detail
    FROM rating_audit AS r
    CROSS JOIN LATERAL (
        SELECT a.score, a.score_detail FROM audit AS a WHERE a.id = r.audit_id OFFSET 0
    ) AS a
    WHERE r.branch_id BETWEEN :first AND :last
    OFFSET 0
) AS r
CROSS JOIN LATERAL (
    SELECT 'audit' AS kind, '' AS key,
           floor(r.score * 4096 + CAST(0.5 AS float8)) / 4096 AS score,
           floor(coalesce(CAST(r.detail ->> 'earned' AS float8), 0) * 1048576
                 + CAST(0.5 AS float8)) / 1048576 AS earned,
           floor(coalesce(CAST(r.detail ->> 'possible' AS float8), 0) * 1048576
                 + CAST(0.5 AS float8)) / 1048576 AS possible
    UNION ALL
    SELECT s.kind, e.key,
           floor(CAST(e.value ->> 'score' AS float8) * 4096 + CAST(0.5 AS float8)) / 4096,
           floor(CAST(e.value ->> 'earned' AS float8) * 1048576
                 + CAST(0.5 AS float8)) / 1048576,
           floor(CAST(e.value ->> 'possible' AS float8) * 1048576
                 + CAST(0.5 AS float8)) / 1048576
    FROM (VALUES ('stage', 'stages'), ('section', 'sections'), ('role', 'roles'))
         AS s(kind, source)
    CROSS JOIN LATERAL jsonb_each(
        CASE WHEN jsonb_typeof(r.detail -> s.source) = 'object' THEN r.detail -> s.source END
    ) AS e
) AS p
GROUP BY r.branch_id, r.month, r.checklist_slug, r.channel, p.kind, p.key
"""
)
_ITEMS_SQL = text(
    """
INSERT INTO rating_item_rollup (branch_id, month, checklist_slug, channel, item_id, clause,
                                n, earned, possible)
SELECT r.branch_id, r.month, r.checklist_slug, r.channel, e.key, coalesce(c.clause, ''),
       count(*),
       sum(floor(CAST(e.value ->> 'earned' AS float8) * 1048576
                 + CAST(0.5 AS float8)) / 1048576),
       sum(floor(CAST(e.value ->> 'possible' AS float8) * 1048576
                 + CAST(0.5 AS float8)) / 1048576)
FROM (
    SELECT r.branch_id, r.month, r.checklist_slug, r.channel, a.checklist_version_id,
           CAST(a.score_detail AS jsonb) -> 'items' AS items
    FROM rating_audit AS r
    CROSS JOIN LATERAL (
        SELECT a.checklist_version_id, a.score_detail FROM audit AS a
        WHERE a.id = r.audit_id OFFSET 0
    ) AS a
    WHERE r.branch_id BETWEEN :first AND :last
    OFFSET 0
) AS r
CROSS JOIN LATERAL jsonb_each(
    CASE WHEN jsonb_typeof(r.items) = 'object' THEN r.items END
) AS e
LEFT JOIN json_to_recordset(CAST(:clauses AS json))
     AS c(version_id integer, item_id text, clause text)
     ON c.version_id = r.checklist_version_id AND c.item_id = e.key
WHERE NOT coalesce(CAST(e.value ->> 'na' AS boolean), false)
GROUP BY r.branch_id, r.month, r.checklist_slug, r.channel, e.key, coalesce(c.clause, '')
"""
)


def _clause_table() -> str:
    """Every checklist version's item -> clause pairs, as JSON for `_ITEMS_SQL`."""
    pairs = []
    for version_id, content_hash in db.session.execute(
        select(ChecklistVersion.id, ChecklistVersion.content_hash)
    ):
        for item_id, clause in _clauses_of(version_id, content_hash).items():
            pairs.append({"version_id": version_id, "item_id": item_id, "clause": clause})
    return json.dumps(pairs)


def rebuild(batch: int = 2000) -> dict[str, int]:
    """Recompute every roll-up from the released audits (one transaction, committed here)."""
    changed()
    db.session.execute(delete(RatingItemRollup))
    db.session.execute(delete(RatingRollup))
    db.session.execute(delete(RatingAudit))
    counted, cells = _count_released(batch)
    in_database = db.session.get_bind().dialect.name == "postgresql"
    if in_database:
        # A plan for a million estimated rows was compiled to machine code for every range
        # (1 of the 2.4 s of a 20,000-audit range); a range's sorts fit in memory with 64 MB.
        db.session.execute(text("SET LOCAL jit = off"))
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))
        # Fresh statistics for the plans (an empty rating_audit's read all audits each time).
        db.session.execute(text("ANALYZE audit, rating_audit"))
        clauses = _clause_table()
    # By ranges of branches, a few thousand audits at a time (every cell summed in one range):
    # no sort of a million score details.
    per_branch_count: dict[int, int] = {}
    for branch_id, _ in cells:
        per_branch_count[branch_id] = per_branch_count.get(branch_id, 0) + 1
    for first, last in _branch_ranges(per_branch_count, counted, batch=10 * batch):
        if in_database:
            db.session.execute(_PARTS_SQL, {"first": first, "last": last})
            db.session.execute(_ITEMS_SQL, {"first": first, "last": last, "clauses": clauses})
        else:
            _sum_in_python(first, last)
    rebuild_periods()
    if in_database:
        # Statistics of the new roll-ups, so that the first readings are planned on them.
        db.session.execute(text("ANALYZE rating_rollup, rating_item_rollup, rating_period_rollup"))
    commit()
    return {"audits": counted, "cells": len(cells)}
