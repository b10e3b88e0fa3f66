"""Ratings, write side: keeping the monthly roll-ups.

A released audit gets a `RatingAudit` row (its branch-local visit month) and the roll-ups of
its (branch, month) *cell* are recomputed from the audits of that cell, in audit id order,
inside the caller's transaction (release, wave release, upheld dispute). ``ratings rebuild``
runs the very same cell computation over every cell, so a rebuild reproduces the kept roll-ups
bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    text,
)

from auditapp.domain import ratings as arith
from auditapp.extensions import db
from auditapp.models import (
    Audit,
    Branch,
    ChecklistVersion,
    RatingAudit,
    RatingItemRollup,
    RatingRollup,
)
from auditapp.services.checklists import checklist_of
from auditapp.services.errors import Conflict
from auditapp.services.ratings.periods import rebuild_periods, refresh_periods
from auditapp.services.transactions import commit, flush

# A select of any columns (SQLAlchemy types a select by its column tuple).
AnySelect = Select[*tuple[Any, ...]]
Cell = tuple[int, date]  # (branch id, first day of the month)
PartKey = tuple[str, str, str, str]  # (checklist slug, channel, part kind, part key)
ItemKey = tuple[str, str, str, str]  # (checklist slug, channel, item id, clause)


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
    """The roll-up rows of one (branch, month) cell being summed, in audit id order."""

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
            row[1] += result["earned"]
            row[2] += result["possible"]

    def _part(self, key: PartKey, score: float | None, earned: float, possible: float) -> None:
        row = self.parts.setdefault(key, [0, 0.0, 0.0, 0.0, 0.0])
        if score is not None:
            row[0] += 1
            row[1] += score
            row[2] += score * score
        row[3] += earned
        row[4] += possible

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
    """The counted audits matching ``condition``, by cell then audit id: the one summation
    order that both the release path and the rebuild use (the rebuild sorts them itself:
    ``ordered=False``)."""
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
    parts: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for cell, total in totals.items():
        cell_parts, cell_items = total.rows(cell)
        parts += cell_parts
        items += cell_items
    if parts:
        db.session.execute(insert(RatingRollup), parts)
    if items:
        db.session.execute(insert(RatingItemRollup), items)


def add_row(totals: dict[Cell, CellTotals], row: Any) -> None:
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
    for start in range(0, len(ordered), 200):
        chunk = ordered[start : start + 200]
        totals: dict[Cell, CellTotals] = {cell: CellTotals() for cell in chunk}
        for row in db.session.execute(cell_rows(_cells_condition(chunk))):
            add_row(totals, row)
        _write_cells(totals, replace=True)
        refresh_periods(chunk)


def _counted_row(audit: Audit) -> RatingAudit:
    # Column reads, not relationships: loading the checklist version would load its whole
    # definition and source on every release.
    slug, timezone = db.session.execute(
        select(
            select(ChecklistVersion.slug)
            .where(ChecklistVersion.id == audit.checklist_version_id)
            .scalar_subquery(),
            select(Branch.timezone).where(Branch.id == audit.branch_id).scalar_subquery(),
        )
    ).one()
    day = visit_day(audit, timezone)
    return RatingAudit(
        audit_id=audit.id,
        branch_id=audit.branch_id,
        visit_date=day,
        month=arith.month_start(day),
        checklist_slug=slug,
        channel=audit.channel,
        score=audit.score,
    )


def _flush() -> None:
    """Write the caller's pending changes; a concurrent edit of the audit is a conflict (the
    caller's transaction is left for the use case to end)."""
    flush(Conflict("The audit changed meanwhile; reload it and try again.", code="stale_version"))


def record_released(audits: Iterable[Audit]) -> None:
    """Count newly released audits: call inside the release transaction (it does not commit)."""
    _flush()
    cells: set[Cell] = set()
    for audit in audits:
        # The lifecycle releases an audit once (released is never left), so there is no row
        # yet; the primary key would refuse a second one.
        row = _counted_row(audit)
        db.session.add(row)
        cells.add((row.branch_id, row.month))
    _flush()
    refresh_cells(cells)


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


def rebuild(batch: int = 2000) -> dict[str, int]:
    """Recompute every roll-up from the released audits (one transaction, committed here)."""
    db.session.execute(delete(RatingItemRollup))
    db.session.execute(delete(RatingRollup))
    db.session.execute(delete(RatingAudit))
    zones = dict(db.session.execute(select(Branch.id, Branch.timezone)).all())
    slugs = dict(db.session.execute(select(ChecklistVersion.id, ChecklistVersion.slug)).all())
    cells: set[Cell] = set()
    counted = 0
    lowest, highest = db.session.execute(select(func.min(Audit.id), func.max(Audit.id))).one()
    # Ranges of ids, the status checked here: with "status = released" in the query the
    # planner walked the status index over every released audit for each batch (minutes on
    # PostgreSQL at a million audits); a primary-key range is read once.
    for start in range(lowest or 0, (highest or 0) + 1, batch):
        rows = [
            row
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
            ).all()
            if row.status == "released"
        ]
        if not rows:
            continue
        values = []
        for row in rows:
            moment = row.visit_started_at or row.submitted_at or row.created_at
            day = moment.astimezone(ZoneInfo(zones[row.branch_id])).date()
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
        db.session.execute(insert(RatingAudit), values)
        counted += len(rows)
    if db.session.get_bind().dialect.name == "postgresql":
        # Fresh statistics, so that each range below is read through the indexes (a plan made
        # for an empty rating_audit read the whole audit table for every range).
        db.session.execute(text("ANALYZE audit, rating_audit"))
    # The audits are read a few thousand at a time, by ranges of branches, unsorted: sorting
    # a million rows with their score details made the database spill the sort to disk. Each
    # cell's audits are put in audit id order here, the order `refresh_cells` sums them in.
    per_branch_count: dict[int, int] = {}
    for branch_id, _ in cells:
        per_branch_count[branch_id] = per_branch_count.get(branch_id, 0) + 1
    for first, last in _branch_ranges(per_branch_count, counted, batch=10 * batch):
        by_cell: dict[Cell, list[Any]] = {}
        for row in db.session.execute(
            cell_rows(RatingAudit.branch_id.between(first, last), ordered=False).add_columns(
                RatingAudit.audit_id
            )
        ):
            by_cell.setdefault(cast(Cell, (row[0], row[1])), []).append(row)
        totals: dict[Cell, CellTotals] = {}
        for cell in sorted(by_cell):
            for row in sorted(by_cell[cell], key=lambda r: r[-1]):
                add_row(totals, row[:-1])
        _write_cells(totals, replace=False)
    rebuild_periods()
    if db.session.get_bind().dialect.name == "postgresql":
        # Statistics of the new roll-ups, so that the first readings are planned on them.
        db.session.execute(text("ANALYZE rating_rollup, rating_item_rollup"))
    commit()
    return {"audits": counted, "cells": len(cells)}
