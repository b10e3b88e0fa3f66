"""Ratings, read side: ratings, rankings, trends and standards.

Every reading sums monthly roll-ups over a `Period` and hands the moments to the pure
arithmetic in `auditapp.domain.ratings`. Scope goes through `auditapp.access`. Regions are read
through each branch's *current* region: a moved branch counts in its new region for the past.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypedDict, cast

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    and_,
    false,
    func,
    literal,
    or_,
    select,
)

from auditapp import access
from auditapp.domain import ratings as arith
from auditapp.domain.ratings import Moments, PassCount, Period
from auditapp.extensions import db
from auditapp.models import (
    Branch,
    ChecklistVersion,
    RatingAudit,
    RatingItemRollup,
    RatingPeriodRollup,
    RatingRollup,
    Region,
    StaffPlacement,
    User,
)
from auditapp.services.checklists import checklist_of
from auditapp.services.errors import NotFound
from auditapp.services.pagination import paginate
from auditapp.services.ratings import memo
from auditapp.services.ratings.keeping import AnySelect, Cell, CellTotals, add_row, cell_rows
from auditapp.services.ratings.periods import Window, window_of

# Read side: parameters ---------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What narrows a reading: checklist (slug), channel, branch kind, region."""

    checklist: str | None = None
    channel: str | None = None
    branch_kind: str | None = None
    region_id: int | None = None


@dataclass(frozen=True)
class Options:
    """Thresholds: the too-few-visits minimum and the decline-alert rule."""

    min_visits: int = arith.DEFAULT_MIN_VISITS
    decline_window: int = arith.DEFAULT_TREND_WINDOW
    decline_points: float = arith.DEFAULT_DECLINE_POINTS

    @staticmethod
    def from_config(**overrides: Any) -> Options:
        """Defaults from the app config (``RATINGS_*``), overridden per request."""
        config = current_app.config
        values: dict[str, Any] = {
            "min_visits": int(config.get("RATINGS_MIN_VISITS", arith.DEFAULT_MIN_VISITS)),
            "decline_window": int(config.get("RATINGS_DECLINE_WINDOW", arith.DEFAULT_TREND_WINDOW)),
            "decline_points": float(
                config.get("RATINGS_DECLINE_POINTS", arith.DEFAULT_DECLINE_POINTS)
            ),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return Options(**values)


def _filtered(
    query: AnySelect, model: Any, filters: Filters, branch_ids: Iterable[int] | None = None
) -> AnySelect:
    """Apply filters (and, when given, a set of branches) to a query over a roll-up table,
    joined to Branch when a filter needs the branch's kind or region."""
    if filters.branch_kind is not None or filters.region_id is not None:
        query = query.join(Branch, Branch.id == model.branch_id)
    if branch_ids is not None:
        query = query.where(model.branch_id.in_(list(branch_ids)))
    if filters.checklist is not None:
        query = query.where(model.checklist_slug == filters.checklist)
    if filters.channel is not None:
        query = query.where(model.channel == filters.channel)
    if filters.branch_kind is not None:
        query = query.where(Branch.kind == filters.branch_kind)
    if filters.region_id is not None:
        query = query.where(Branch.region_id == filters.region_id)
    return query


def _months(model: Any, period: Period) -> ColumnElement[bool]:
    """The roll-up months the period covers entirely; months it covers in part (a range of
    days) are summed from their audits by `_edge_totals`."""
    full = period.full_months
    if not full:
        return false()
    return and_(model.month >= full[0], model.month <= full[-1])


def _edge_totals(
    period: Period, filters: Filters, branch_ids: Iterable[int] | None = None
) -> dict[Cell, CellTotals]:
    """The roll-up rows of the days of the months a range of days covers only in part,
    summed from those days' counted audits the way the roll-ups are (`CellTotals`)."""
    conditions = _edge_conditions(period, filters, branch_ids)
    if conditions is None:
        return {}
    totals: dict[Cell, CellTotals] = {}
    for row in db.session.execute(cell_rows(and_(*conditions))):
        add_row(totals, row)
    return totals


def _edge_scores(
    period: Period, filters: Filters, branch_ids: Iterable[int] | None = None
) -> dict[int, Moments]:
    """Branch -> moments of the audit scores of the edge days (see `_edge_totals`), summed by
    the database from the counted audits' scores: the audit part needs no score detail."""
    conditions = _edge_conditions(period, filters, branch_ids)
    if conditions is None:
        return {}
    query = (
        select(
            RatingAudit.branch_id,
            func.count(RatingAudit.score),
            func.sum(RatingAudit.score),
            func.sum(RatingAudit.score * RatingAudit.score),
        )
        .where(*conditions)
        .group_by(RatingAudit.branch_id)
    )
    return {
        branch_id: Moments(int(n), float(total or 0.0), float(total_sq or 0.0))
        for branch_id, n, total, total_sq in db.session.execute(query).all()
        if n
    }


def _edge_conditions(
    period: Period, filters: Filters, branch_ids: Iterable[int] | None
) -> list[ColumnElement[bool]] | None:
    """Conditions on `RatingAudit` for the days of the edge months a range of days covers in
    part (None when the period is whole months)."""
    spans = period.partial_days
    if not spans:
        return None
    conditions: list[ColumnElement[bool]] = [
        RatingAudit.month.in_(sorted({arith.month_start(first) for first, _ in spans})),
        or_(*(RatingAudit.visit_date.between(first, last) for first, last in spans)),
    ]
    if branch_ids is not None:
        conditions.append(RatingAudit.branch_id.in_(list(branch_ids)))
    if filters.checklist is not None:
        conditions.append(RatingAudit.checklist_slug == filters.checklist)
    if filters.channel is not None:
        conditions.append(RatingAudit.channel == filters.channel)
    branch_conditions = []
    if filters.branch_kind is not None:
        branch_conditions.append(Branch.kind == filters.branch_kind)
    if filters.region_id is not None:
        branch_conditions.append(Branch.region_id == filters.region_id)
    if branch_conditions:
        conditions.append(RatingAudit.branch_id.in_(select(Branch.id).where(*branch_conditions)))
    return conditions


def _part_name(kind: str, slug: str, key: str, channel: str) -> tuple[str, str]:
    """(kind, key) of a roll-up part as readings show it: the audit part by channel, sections
    prefixed by their checklist."""
    if kind == "audit":
        return "channel", channel
    if kind == "section":
        return kind, f"{slug}:{key}"
    return kind, key


# Read side: scope --------------------------------------------------------------------------


def employee_branch_id(user: User) -> int | None:
    """The branch an employee works at now (their current placement)."""
    if user.staff_member_id is None:
        return None
    return db.session.execute(
        select(StaffPlacement.branch_id)
        .where(
            StaffPlacement.staff_member_id == user.staff_member_id,
            StaffPlacement.ended_on.is_(None),
        )
        .order_by(StaffPlacement.started_on.desc())
        .limit(1)
    ).scalar_one_or_none()


def visible_branch(user: User, branch_id: int) -> Branch:
    """A branch whose rating ``user`` may read (employees: their own branch), else NotFound."""
    if user.role == "employee":
        allowed: ColumnElement[bool] = (
            Branch.id == own if (own := employee_branch_id(user)) is not None else false()
        )
    else:
        allowed = access.branch_filter(user)
    branch = db.session.execute(
        select(Branch).where(Branch.id == branch_id, allowed)
    ).scalar_one_or_none()
    if branch is None:
        raise NotFound(f"Branch {branch_id} not found.")
    return branch


def visible_region(user: User, region_id: int) -> Region:
    """A region in the caller's scope, else NotFound."""
    region = db.session.execute(
        select(Region).where(Region.id == region_id, access.region_filter(user))
    ).scalar_one_or_none()
    if region is None:
        raise NotFound(f"Region {region_id} not found.")
    return region


def _visible_branch_ids(user: User) -> set[int] | None:
    """None for the whole network, else the ids ``user`` may see."""
    if user.role in access.NETWORK_WIDE:
        return None
    return set(db.session.execute(select(Branch.id).where(access.branch_filter(user))).scalars())


# Read side: sums ---------------------------------------------------------------------------


def _moment_sums(model: Any) -> tuple[Any, Any, Any]:
    """Summed n, sum and sum of squares of a roll-up's scores (its moments over the rows)."""
    return func.sum(model.n), func.sum(model.total), func.sum(model.total_sq)


def _point_sums(model: Any) -> tuple[Any, Any, Any]:
    """Summed n, earned and possible points of an item roll-up (its pass count over the rows)."""
    return func.sum(model.n), func.sum(model.earned), func.sum(model.possible)


def _rows(query: AnySelect) -> Sequence[Any]:
    """The rows of a select of plain columns, through the session's connection: the ORM's
    result handling cost a quarter of a 5,000-row read (one row per branch of the network)
    and adds nothing to columns."""
    return db.session.connection().execute(query).all()


def _window_sums(
    window: Window, filters: Filters, branch_ids: Iterable[int] | None = None
) -> AnySelect:
    """Branch id, n, sum and sum of squares of its audit scores over a kept window (a run of 3
    months, a calendar year): one row per branch, answered from the covering index."""
    return _filtered(
        select(
            RatingPeriodRollup.branch_id,
            *_moment_sums(RatingPeriodRollup),
        )
        .where(
            RatingPeriodRollup.months == window[0],
            RatingPeriodRollup.first_month == window[1],
        )
        .group_by(RatingPeriodRollup.branch_id)
        .order_by(RatingPeriodRollup.branch_id),
        RatingPeriodRollup,
        filters,
        branch_ids,
    )


def branch_moments(
    period: Period,
    filters: Filters,
    *,
    part_kind: str = "audit",
    branch_ids: Iterable[int] | None = None,
) -> dict[tuple[int, str], Moments]:
    """(branch id, part key) -> moments over the period, from the roll-ups."""
    # A part other than the audit's, for some branches (a region, a caller's scope): "|| ''"
    # keeps the database from reading the (part, month) index through every branch of the
    # network (SQLite, without statistics, chose it: 11 ms for a region of 100 branches); the
    # branches' own rows are found by the primary key (branch, month, ...) instead (2 ms).
    kind: Any = RatingRollup.part_kind
    if part_kind != "audit" and (filters.region_id is not None or branch_ids is not None):
        kind = RatingRollup.part_kind + literal("")
    query: AnySelect = (
        select(
            RatingRollup.branch_id,
            RatingRollup.part_key,
            *_moment_sums(RatingRollup),
        )
        .where(kind == part_kind, _months(RatingRollup, period))
        .group_by(RatingRollup.branch_id, RatingRollup.part_key)
    )
    if part_kind == "audit" and (window := window_of(period)) is not None:
        # A kept window (a run of 3 months, a calendar year): one row per branch, checklist
        # and channel, answered from the covering index.
        return {
            (branch_id, ""): Moments(int(n or 0), float(total or 0.0), float(total_sq or 0.0))
            for branch_id, n, total, total_sq in _rows(_window_sums(window, filters, branch_ids))
        }
    if part_kind == "audit":
        # The audit part has one key (""): grouping by branch alone lets the database answer
        # from the covering index (part_key is not in it), without reading the table.
        query = (
            select(
                RatingRollup.branch_id,
                literal(""),
                *_moment_sums(RatingRollup),
            )
            .where(RatingRollup.part_kind == part_kind, _months(RatingRollup, period))
            .group_by(RatingRollup.branch_id)
            # Branch order: entries of equal rank are listed in it, the same on every database
            # and every page (PostgreSQL hashes groups in no particular order).
            .order_by(RatingRollup.branch_id)
        )
    elif part_kind == "section":
        # Sections are grouped by checklist: the key says which.
        query = (
            select(
                RatingRollup.branch_id,
                RatingRollup.checklist_slug + ":" + RatingRollup.part_key,
                *_moment_sums(RatingRollup),
            )
            .where(kind == part_kind, _months(RatingRollup, period))
            .group_by(RatingRollup.branch_id, RatingRollup.checklist_slug, RatingRollup.part_key)
        )
    query = _filtered(query, RatingRollup, filters, branch_ids)
    result = {
        (branch_id, key): Moments(int(n or 0), float(total or 0.0), float(total_sq or 0.0))
        for branch_id, key, n, total, total_sq in _rows(query)
    }
    if part_kind == "audit":
        edges = _edge_scores(period, filters, branch_ids)
        for branch_id, moments in edges.items():
            result[(branch_id, "")] = result.get((branch_id, ""), Moments()) + moments
        # In branch order, as read (a branch with audits on the edge days only came last).
        return dict(sorted(result.items())) if edges else result
    for (branch_id, _), cell in _edge_totals(period, filters, branch_ids).items():
        for (slug, _channel, kind, key), v in cell.parts.items():
            if kind == part_kind:
                name = f"{slug}:{key}" if kind == "section" else key
                result[(branch_id, name)] = result.get((branch_id, name), Moments()) + Moments(
                    int(v[0]), v[1], v[2]
                )
    return result


def per_branch(period: Period, filters: Filters) -> dict[int, Moments]:
    """Branch id -> moments of its audit scores in the period (kept until the ratings change:
    read it, never change it)."""
    return memo.kept("per_branch", (period, filters), lambda: _per_branch(period, filters))


def _per_branch(period: Period, filters: Filters) -> dict[int, Moments]:
    window = window_of(period)
    if window is not None:
        # As `branch_moments` over a kept window, without its (branch, key) dict in between.
        return {
            branch_id: Moments(int(n), float(total), float(total_sq))
            for branch_id, n, total, total_sq in _rows(_window_sums(window, filters))
            if n
        }
    return {b: m for (b, _), m in branch_moments(period, filters).items() if m.n}


def per_branch_means(period: Period, filters: Filters) -> dict[int, float]:
    """Branch id -> mean audit score in the period (branches with a score): the same floats
    as ``m.total / m.n`` of `per_branch`, without building moments for 5,000 branches when a
    previous period's ranks and means are all a reading needs (kept until the ratings change)."""
    return memo.kept("means", (period, filters), lambda: _per_branch_means(period, filters))


def _previous_ranks_of(period: Period, filters: Filters) -> arith.Ranks[int]:
    """The network's competition ranks by mean over ``period`` (kept until the ratings change)."""
    return memo.kept(
        "ranks", (period, filters), lambda: arith.Ranks(per_branch_means(period, filters))
    )


def _per_branch_means(period: Period, filters: Filters) -> dict[int, float]:
    window = window_of(period)
    if window is None:
        return {b: m.total / m.n for b, m in per_branch(period, filters).items()}
    query = _filtered(
        select(
            RatingPeriodRollup.branch_id,
            func.sum(RatingPeriodRollup.n),
            func.sum(RatingPeriodRollup.total),
        )
        .where(
            RatingPeriodRollup.months == window[0],
            RatingPeriodRollup.first_month == window[1],
        )
        .group_by(RatingPeriodRollup.branch_id),
        RatingPeriodRollup,
        filters,
    )
    return {branch_id: float(total or 0.0) / int(n) for branch_id, n, total in _rows(query) if n}


# Read side: result shapes (plain dicts, as the API schemas serialise them) ----------------


class StatsDict(TypedDict):
    """A rating (`StatsSchema`): `arith.Stats` as a dict."""

    n: int
    mean: float | None
    sd: float | None
    ci_low: float | None
    ci_high: float | None
    too_few_visits: bool


class SpreadDict(TypedDict):
    """A region's or the network's rating (`SpreadSchema`): `arith.Spread` as a dict."""

    branches: int
    mean: float | None
    min: float | None
    max: float | None
    sd: float | None
    gap: float | None


class PeriodDict(TypedDict):
    """The period a reading covers (`PeriodSchema`)."""

    first_month: date
    last_month: date
    starts_on: date
    ends_on: date


class BranchRef(TypedDict):
    """A branch as readings name it (`BranchRefSchema`)."""

    id: int
    code: str
    name: str
    kind: str
    region_id: int


class RegionRef(TypedDict):
    """A region as readings name it (`RegionRefSchema`)."""

    id: int
    code: str
    name: str


class RankPlace(TypedDict):
    """A place in a ranking: rank of how many, rank range, significance, shrunk estimate."""

    rank: int
    of: int
    rank_best: int
    rank_worst: int
    significance: str | None
    shrunk_mean: float | None
    shrunk_rank: int


def _stats_dict(s: arith.Stats) -> StatsDict:
    return {
        "n": s.n,
        "mean": s.mean,
        "sd": s.sd,
        "ci_low": s.ci_low,
        "ci_high": s.ci_high,
        "too_few_visits": s.too_few_visits,
    }


def _spread_dict(s: arith.Spread) -> SpreadDict:
    return {
        "branches": s.branches,
        "mean": s.mean,
        "min": s.min,
        "max": s.max,
        "sd": s.sd,
        "gap": s.gap,
    }


def _period_dict(period: Period) -> PeriodDict:
    return {
        "first_month": period.first,
        "last_month": period.last,
        "starts_on": period.starts_on,
        "ends_on": period.ends_on,
    }


BREAKDOWN_KINDS = ("stage", "section", "role")


def _branch_breakdowns(
    period: Period, filters: Filters, branch_id: int, options: Options
) -> dict[str, dict[str, StatsDict]]:
    """Stage, section, role and channel ratings of one branch, from one read of its rows."""
    query: AnySelect = select(
        RatingRollup.part_kind,
        RatingRollup.checklist_slug,
        RatingRollup.part_key,
        RatingRollup.channel,
        RatingRollup.n,
        RatingRollup.total,
        RatingRollup.total_sq,
    ).where(RatingRollup.branch_id == branch_id, _months(RatingRollup, period))
    query = _filtered(query, RatingRollup, filters)
    sums: dict[str, dict[str, Moments]] = {kind: {} for kind in (*BREAKDOWN_KINDS, "channel")}
    rows: list[tuple[str, str, str, str, int, float, float]] = [
        (kind, slug, key, channel, int(n), float(total), float(total_sq))
        for kind, slug, key, channel, n, total, total_sq in db.session.execute(query).all()
    ]
    for cell in _edge_totals(period, filters, [branch_id]).values():
        rows += [
            (kind, slug, key, channel, int(v[0]), v[1], v[2])
            for (slug, channel, kind, key), v in cell.parts.items()
        ]
    for kind, slug, key, channel, n, total, total_sq in rows:
        kind, key = _part_name(kind, slug, key, channel)
        part = sums[kind]
        part[key] = part.get(key, Moments()) + Moments(n, total, total_sq)
    return {
        kind: {
            key: _stats_dict(arith.stats(m, options.min_visits))
            for key, m in sorted(per_key.items())
            if m.n
        }
        for kind, per_key in sums.items()
    }


def _group_breakdowns(
    period: Period, filters: Filters, branch_ids: Iterable[int] | None
) -> dict[str, dict[str, SpreadDict]]:
    """Per part: the spread of the branches' part means (each branch once), from one read."""
    query: AnySelect = (
        select(
            RatingRollup.branch_id,
            RatingRollup.part_kind,
            RatingRollup.checklist_slug,
            RatingRollup.part_key,
            RatingRollup.channel,
            func.sum(RatingRollup.n),
            func.sum(RatingRollup.total),
        )
        .where(_months(RatingRollup, period))
        .group_by(
            RatingRollup.branch_id,
            RatingRollup.part_kind,
            RatingRollup.checklist_slug,
            RatingRollup.part_key,
            RatingRollup.channel,
        )
    )
    query = _filtered(query, RatingRollup, filters, branch_ids)
    # (kind, key) -> branch -> [n, total]: channels and checklists merged per branch first.
    sums: dict[tuple[str, str], dict[int, list[float]]] = {}
    rows: list[tuple[int, str, str, str, str, Any, Any]] = list(db.session.execute(query).all())
    for (branch_id, _), cell in _edge_totals(period, filters, branch_ids).items():
        rows += [
            (branch_id, kind, slug, key, channel, v[0], v[1])
            for (slug, channel, kind, key), v in cell.parts.items()
        ]
    for branch_id, kind, slug, key, channel, n, total in rows:
        kind, key = _part_name(kind, slug, key, channel)
        row = sums.setdefault((kind, key), {}).setdefault(branch_id, [0, 0.0])
        row[0] += int(n or 0)
        row[1] += float(total or 0.0)
    result: dict[str, dict[str, SpreadDict]] = {kind: {} for kind in (*BREAKDOWN_KINDS, "channel")}
    for (kind, key), per_branch_sums in sorted(sums.items()):
        means = [t / n for n, t in per_branch_sums.values() if n]
        if means:
            result[kind][key] = _spread_dict(arith.spread(means))
    return result


def _network_filters(filters: Filters) -> Filters:
    """The comparison base for significance: the network under the same filters, all regions."""
    return Filters(filters.checklist, filters.channel, filters.branch_kind, None)


def _ranked_branches(
    period: Period, filters: Filters, options: Options
) -> tuple[arith.League[int], float | None]:
    """Rank the branches of the filtered set; significance against the network rating (kept
    until the ratings change)."""
    return memo.kept(
        "league",
        (period, filters, options.min_visits),
        lambda: _league(period, filters, options),
    )


def _league(
    period: Period, filters: Filters, options: Options
) -> tuple[arith.League[int], float | None]:
    moments = per_branch(period, filters)
    network = per_branch(period, _network_filters(filters)) if filters.region_id else moments
    network_mean = arith.spread(m.total / m.n for m in network.values()).mean
    return arith.League(
        moments, network_mean, arith.shrinkage(network), options.min_visits
    ), network_mean


# Read side: use cases ----------------------------------------------------------------------


class BranchPlace(RankPlace):
    """A branch's place in the network or its region, with its change (`PlaceSchema`)."""

    previous_rank: int | None
    rank_change: int | None


class BranchRating(TypedDict):
    """A branch's rating, breakdowns, change and places (`BranchRatingSchema`)."""

    branch: BranchRef
    period: PeriodDict
    rating: StatsDict
    previous: StatsDict
    mean_change: float | None
    significance: str | None
    network_mean: float | None
    # "network" and "region": None when the branch is unrated.
    places: dict[str, BranchPlace | None]
    # Part kind ("stage", "section", "role", "channel") -> part -> rating.
    breakdowns: dict[str, dict[str, StatsDict]]


def branch_rating(
    user: User, branch_id: int, period: Period, filters: Filters, options: Options
) -> BranchRating:
    """A branch's rating, breakdowns, change and place in its region and the network.

    The network's league of this period and its ranks of the previous one (kept until the
    ratings change) give both places and the changes; the branch's own rows give its
    previous rating and breakdowns.
    """
    branch = visible_branch(user, branch_id)
    filters = Filters(filters.checklist, filters.channel, None, None)
    league, network_mean = _ranked_branches(period, filters, options)
    now = per_branch(period, filters)
    previous = arith.stats(
        memo.kept(
            "branch_moments",
            (period.previous(), filters, branch_id),
            lambda: branch_moments(period.previous(), filters, branch_ids=[branch_id]),
            small=True,
        ).get((branch_id, ""), Moments()),
        options.min_visits,
    )
    stat = arith.stats(now.get(branch_id, Moments()), options.min_visits)
    region_branches: set[int] = memo.kept(
        "region_branches",
        branch.region_id,
        lambda: set(
            db.session.execute(
                select(Branch.id).where(Branch.region_id == branch.region_id)
            ).scalars()
        ),
        small=True,
    )
    before = per_branch_means(period.previous(), filters)
    places: dict[str, BranchPlace | None] = {"network": None, "region": None}
    if branch_id in league:
        network_place = _rank_dict(league.entry(branch_id), len(league))
        in_region = {b: now[b] for b in region_branches if b in now}
        region_place = _place_of(branch_id, in_region, network_mean, league.shrink, options)
        prior_ranks = _previous_ranks_of(period.previous(), filters)
        for scope, rank, old in (
            ("network", network_place, prior_ranks.get(branch_id)),
            (
                "region",
                region_place,
                arith.competition_rank(
                    branch_id, {b: before[b] for b in region_branches if b in before}
                ),
            ),
        ):
            if rank is not None:
                places[scope] = {
                    **rank,
                    "previous_rank": old,
                    "rank_change": None if old is None else old - rank["rank"],
                }
    return {
        "branch": _branch_ref(branch),
        "period": _period_dict(period),
        "rating": _stats_dict(stat),
        "previous": _stats_dict(previous),
        "mean_change": None
        if stat.mean is None or previous.mean is None
        else stat.mean - previous.mean,
        "significance": arith.significance(stat, network_mean),
        "network_mean": network_mean,
        "places": places,
        "breakdowns": memo.kept(
            "branch_breakdowns",
            (period, filters, branch_id, options.min_visits),
            lambda: _branch_breakdowns(period, filters, branch_id, options),
            small=True,
        ),
    }


def _place_of(
    branch_id: int,
    moments: dict[int, Moments],
    network_mean: float | None,
    shrink: arith.Shrinkage,
    options: Options,
) -> RankPlace | None:
    """The branch's rank, rank range and shrunk rank among ``moments`` (None if unrated):
    its entry of the full ranking, found in one pass without ranking every branch."""
    entry = arith.place(branch_id, moments, network_mean, shrink, options.min_visits)
    return None if entry is None else _rank_dict(entry, len(moments))


def _branch_ref(branch: Any) -> BranchRef:
    """A branch (ORM object or row) as ``BranchRefSchema``."""
    return {
        "id": branch.id,
        "code": branch.code,
        "name": branch.name,
        "kind": branch.kind,
        "region_id": branch.region_id,
    }


def _rank_dict(entry: arith.Ranked[Any], total: int) -> RankPlace:
    return {
        "rank": entry.rank,
        "of": total,
        "rank_best": entry.rank_best,
        "rank_worst": entry.rank_worst,
        "significance": entry.significance,
        "shrunk_mean": entry.shrunk_mean,
        "shrunk_rank": entry.shrunk_rank,
    }


def _branches_of(branch_ids: Iterable[int]) -> dict[int, Any]:
    """Branch id -> a row with what ``_branch_ref`` reads (columns, not ORM objects: a ranking
    page may name 5,000 branches)."""
    ids = list(branch_ids)
    if not ids:
        return {}
    query = select(Branch.id, Branch.code, Branch.name, Branch.kind, Branch.region_id).where(
        Branch.id.in_(ids)
    )
    return {row.id: row for row in db.session.execute(query)}


class GroupRating(TypedDict):
    """A region's or the network's rating, change and breakdowns (`GroupRatingSchema`)."""

    region: RegionRef | None
    period: PeriodDict
    rating: SpreadDict
    audits: int
    previous: SpreadDict
    mean_change: float | None
    # Part kind ("stage", "section", "role", "channel") -> part -> spread of branch means.
    breakdowns: dict[str, dict[str, SpreadDict]]


def group_rating(
    user: User, region_id: int | None, period: Period, filters: Filters, options: Options
) -> GroupRating:
    """A region's (or, with None, the network's) rating: mean of branch means and spread."""
    region = visible_region(user, region_id) if region_id is not None else None
    scoped = Filters(filters.checklist, filters.channel, filters.branch_kind, region_id)
    now = per_branch(period, scoped)
    before = per_branch(period.previous(), scoped)
    spread = arith.spread(m.total / m.n for m in now.values())
    prior = arith.spread(m.total / m.n for m in before.values())
    audits = arith.merge(now.values())
    return {
        "region": None
        if region is None
        else {"id": region.id, "code": region.code, "name": region.name},
        "period": _period_dict(period),
        "rating": _spread_dict(spread),
        "audits": audits.n,
        "previous": _spread_dict(prior),
        "mean_change": None
        if spread.mean is None or prior.mean is None
        else spread.mean - prior.mean,
        "breakdowns": memo.kept(
            "group_breakdowns", (period, scoped), lambda: _group_breakdowns(period, scoped, None)
        ),
    }


class BranchRankEntry(RankPlace):
    """One branch of a ranking page (`BranchRankSchema`)."""

    branch: BranchRef
    rating: StatsDict
    previous_rank: int | None
    rank_change: int | None
    previous_mean: float | None
    mean_change: float | None


class BranchRanking(TypedDict):
    """A page of branches ranked in a region or the network (`BranchRankingSchema`)."""

    period: PeriodDict
    within: str
    network_mean: float | None
    ranked: int
    total: int
    page: int
    per_page: int
    entries: list[BranchRankEntry]


def branch_ranking(
    user: User,
    period: Period,
    filters: Filters,
    options: Options,
    page: int = 1,
    per_page: int = 100,
) -> BranchRanking:
    """Branches ranked within a region (filter region_id) or the network; the caller sees the
    entries of the branches in their scope, each with its place among all, a page at a time
    (in rank order). Only the entries of the page are built (`arith.League`)."""
    if filters.region_id is not None:
        visible_region(user, filters.region_id)
    league, network_mean = _ranked_branches(period, filters, options)
    # The previous period needs only ranks and means, not intervals or shrinkage.
    before = per_branch_means(period.previous(), filters)
    prior_ranks = _previous_ranks_of(period.previous(), filters)
    visible = _visible_branch_ids(user)
    in_scope = league.order if visible is None else [b for b in league.order if b in visible]
    shown = [league.entry(b) for b in in_scope[(page - 1) * per_page : page * per_page]]
    branches = _branches_of(e.key for e in shown)
    entries: list[BranchRankEntry] = []
    for entry in shown:
        change = arith.change(
            entry.rank, entry.stats.mean, prior_ranks.get(entry.key), before.get(entry.key)
        )
        entries.append(
            {
                "branch": _branch_ref(branches[entry.key]),
                "rating": _stats_dict(entry.stats),
                **_rank_dict(entry, len(league)),
                "previous_rank": change.previous_rank,
                "rank_change": change.rank_change,
                "previous_mean": change.previous_mean,
                "mean_change": change.mean_change,
            }
        )
    return {
        "period": _period_dict(period),
        "within": "region" if filters.region_id is not None else "network",
        "network_mean": network_mean,
        "ranked": len(league),
        "total": len(in_scope),
        "page": page,
        "per_page": per_page,
        "entries": entries,
    }


class RegionRankEntry(RankPlace):
    """One region of the region ranking (`RegionRankSchema`)."""

    region: RegionRef
    branches: int
    mean: float | None
    sd: float | None
    ci_low: float | None
    ci_high: float | None
    previous_rank: int | None
    rank_change: int | None
    previous_mean: float | None
    mean_change: float | None


class RegionRanking(TypedDict):
    """Regions ranked by the mean of their branch means (`RegionRankingSchema`)."""

    period: PeriodDict
    network_mean: float | None
    ranked: int
    entries: list[RegionRankEntry]


def _ranked_regions(
    period: Period, filters: Filters
) -> tuple[list[arith.Ranked[int]], dict[int, arith.Ranked[int]], float | None]:
    """Every region ranked over ``period``, their entries over the previous period, and the
    network mean (for every caller: scope is applied afterwards)."""

    def region_moments(p: Period) -> dict[int, Moments]:
        moments = per_branch(p, filters)
        region_of = (
            dict(
                db.session.execute(
                    select(Branch.id, Branch.region_id).where(Branch.id.in_(list(moments)))
                ).all()
            )
            if moments
            else {}
        )
        means: dict[int, list[float]] = {}
        for branch_id, m in moments.items():
            means.setdefault(region_of[branch_id], []).append(m.total / m.n)
        return {region: Moments.of(values) for region, values in sorted(means.items())}

    now, before = region_moments(period), region_moments(period.previous())
    network_mean = arith.spread(value for m in now.values() for value in [m.total / m.n] * m.n).mean
    # Branches are the observations: a region with one branch has no interval.
    ranked = arith.rank(now, network_mean, arith.shrinkage(now), min_visits=2)
    prior = {e.key: e for e in arith.rank(before, None, arith.shrinkage(before), min_visits=2)}
    return ranked, prior, network_mean


def region_ranking(user: User, period: Period, filters: Filters, options: Options) -> RegionRanking:
    """Regions of the network ranked by the mean of their branch means (regions as they are
    now); a region's interval is the Student-t interval over its branch means."""
    filters = Filters(filters.checklist, filters.channel, filters.branch_kind, None)
    ranked, prior, network_mean = memo.kept(
        "regions", (period, filters), lambda: _ranked_regions(period, filters)
    )
    visible = set(db.session.execute(select(Region.id).where(access.region_filter(user))).scalars())
    regions = {r.id: r for r in db.session.execute(select(Region)).scalars()}
    entries: list[RegionRankEntry] = []
    for entry in ranked:
        if entry.key not in visible:
            continue
        old = prior.get(entry.key)
        change = arith.change(
            entry.rank, entry.stats.mean, old.rank if old else None, old.stats.mean if old else None
        )
        region = regions[entry.key]
        entries.append(
            {
                "region": {"id": region.id, "code": region.code, "name": region.name},
                "branches": entry.stats.n,
                "mean": entry.stats.mean,
                "sd": entry.stats.sd,
                "ci_low": entry.stats.ci_low,
                "ci_high": entry.stats.ci_high,
                **_rank_dict(entry, len(ranked)),
                "previous_rank": change.previous_rank,
                "rank_change": change.rank_change,
                "previous_mean": change.previous_mean,
                "mean_change": change.mean_change,
            }
        )
    return {
        "period": _period_dict(period),
        "network_mean": network_mean,
        "ranked": len(ranked),
        "entries": entries,
    }


def _monthly(
    months: Sequence[date], filters: Filters, branch_ids: Iterable[int] | None
) -> dict[int, dict[date, Moments]]:
    """branch id -> month -> moments of audit scores."""
    # For a few branches, "|| ''" keeps the database from reading the (part, month) index
    # through every branch of every month (SQLite, without statistics, chose it): the
    # branch's own rows are found by the primary key (branch, month, ...), all parts of its
    # months (a few hundred rows for 24 months) instead of 120,000 index entries.
    kind: Any = RatingRollup.part_kind
    if branch_ids is not None:
        kind = RatingRollup.part_kind + literal("")
    query: AnySelect = (
        select(
            RatingRollup.branch_id,
            RatingRollup.month,
            *_moment_sums(RatingRollup),
        )
        .where(
            kind == "audit",
            RatingRollup.month >= months[0],
            RatingRollup.month <= months[-1],
        )
        .group_by(RatingRollup.branch_id, RatingRollup.month)
    )
    query = _filtered(query, RatingRollup, filters, branch_ids)
    result: dict[int, dict[date, Moments]] = {}
    for branch_id, month, n, total, total_sq in db.session.execute(query).all():
        if n:
            result.setdefault(branch_id, {})[_as_date(month)] = Moments(
                int(n), float(total), float(total_sq)
            )
    return result


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class TrendPoint(TypedDict):
    """One month of a trend (`TrendPointSchema`)."""

    month: date
    n: int
    mean: float | None
    branches: int


class DeclineDict(TypedDict):
    """A decline alert (`DeclineSchema`): `arith.Decline` as a dict."""

    month: date
    latest_mean: float
    latest_n: int
    trailing_mean: float
    trailing_n: int
    drop: float


class BranchTrend(TypedDict):
    """A branch's monthly series and its decline alert (`TrendSchema`, scope "branch")."""

    scope: str
    branch: BranchRef
    points: list[TrendPoint]
    decline: DeclineDict | None


class GroupTrend(TypedDict):
    """A region's or the network's monthly series (`TrendSchema`; no decline alert)."""

    scope: str
    region_id: int | None
    points: list[TrendPoint]
    decline: None


def trend(
    user: User,
    scope: str,
    scope_id: int | None,
    last_month: date,
    months: int,
    filters: Filters,
    options: Options,
) -> BranchTrend | GroupTrend:
    """A monthly series ending at ``last_month``: a branch's audit means, or for a region or
    the network the mean of the branch means of each month (with the branch count)."""
    series = [arith.add_months(last_month, -i) for i in range(months - 1, -1, -1)]
    if scope == "branch":
        assert scope_id is not None
        branch = visible_branch(user, scope_id)
        # Read back far enough for the decline window too, whatever the series length.
        first = min(series[0], arith.add_months(last_month, -options.decline_window))
        own = Filters(filters.checklist, filters.channel)
        data = memo.kept(
            "branch_months",
            (branch.id, first, last_month, own),
            lambda: _monthly([first, last_month], own, [branch.id]).get(branch.id, {}),
            small=True,
        )
        points: list[TrendPoint] = [
            {"month": p.month, "n": p.n, "mean": p.mean, "branches": 1 if p.n else 0}
            for p in arith.trend(series, data)
        ]
        alert = arith.decline(last_month, data, options.decline_window, options.decline_points)
        return {
            "scope": scope,
            "branch": _branch_ref(branch),
            "points": points,
            "decline": None if alert is None else _decline_dict(alert),
        }
    if scope == "region":
        assert scope_id is not None
        visible_region(user, scope_id)
    scoped = Filters(filters.checklist, filters.channel, filters.branch_kind, scope_id)
    per_month = memo.kept(
        "monthly_means", (tuple(series), scoped), lambda: _monthly_branch_means(series, scoped)
    )
    points = []
    for month in series:
        branches, audits, mean = per_month.get(month, (0, 0, None))
        points.append({"month": month, "n": audits, "mean": mean, "branches": branches})
    return {"scope": scope, "region_id": scope_id, "points": points, "decline": None}


def _monthly_branch_means(
    months: Sequence[date], filters: Filters
) -> dict[date, tuple[int, int, float | None]]:
    """month -> (branches rated, audits, mean of the branch means), summed by the database:
    the branch x month sums of a 24-month network series are 120,000 rows at 5,000 branches,
    too many to carry into Python for one mean per month."""
    if _one_audit_row_per_branch_month(filters):
        # Each branch-month is one roll-up row: its mean is that row's total / n, and one
        # GROUP BY month over the (part, month, branch) covering index gives the same sums,
        # in the same order, as grouping by branch-month first (which sorted 120,000 groups).
        rated = func.nullif(RatingRollup.n, 0)
        flat = _filtered(
            select(
                RatingRollup.month,
                func.count(rated),
                func.sum(RatingRollup.n),
                func.avg(RatingRollup.total / rated),
            )
            .where(
                RatingRollup.part_kind == "audit",
                RatingRollup.month >= months[0],
                RatingRollup.month <= months[-1],
            )
            .group_by(RatingRollup.month),
            RatingRollup,
            filters,
        )
        return {
            _as_date(month): (int(branches), int(audits), float(mean))
            for month, branches, audits, mean in _rows(flat)
            if branches
        }
    per_branch_month = _filtered(
        select(
            RatingRollup.month.label("month"),
            RatingRollup.branch_id.label("branch_id"),
            func.sum(RatingRollup.n).label("n"),
            func.sum(RatingRollup.total).label("total"),
        )
        .where(
            RatingRollup.part_kind == "audit",
            RatingRollup.month >= months[0],
            RatingRollup.month <= months[-1],
        )
        .group_by(RatingRollup.month, RatingRollup.branch_id)
        .having(func.sum(RatingRollup.n) > 0),
        RatingRollup,
        filters,
    ).subquery()
    query = select(
        per_branch_month.c.month,
        func.count(),
        func.sum(per_branch_month.c.n),
        func.avg(per_branch_month.c.total / per_branch_month.c.n),
    ).group_by(per_branch_month.c.month)
    return {
        _as_date(month): (int(branches), int(audits), float(mean))
        for month, branches, audits, mean in db.session.execute(query).all()
    }


def _decline_dict(alert: arith.Decline) -> DeclineDict:
    return {
        "month": alert.month,
        "latest_mean": alert.latest_mean,
        "latest_n": alert.latest_n,
        "trailing_mean": alert.trailing_mean,
        "trailing_n": alert.trailing_n,
        "drop": alert.drop,
    }


class DeclineAlert(DeclineDict):
    """A branch's decline alert (`DeclineAlertSchema`)."""

    branch: BranchRef


class Declines(TypedDict):
    """Branches whose latest month fell below their trailing average (`DeclineListSchema`)."""

    month: date
    window: int
    points: float
    alerts: list[DeclineAlert]


def _declines(
    series: list[date], filters: Filters, branch_ids: set[int] | None, options: Options
) -> list[tuple[int, arith.Decline]]:
    """(branch id, alert) of the branches (all, or these) whose last month of ``series`` fell
    below their trailing average; largest drop first."""
    alerts = []
    for branch_id, per_month in _monthly(series, filters, branch_ids).items():
        alert = arith.decline(series[-1], per_month, options.decline_window, options.decline_points)
        if alert is not None:
            alerts.append((branch_id, alert))
    alerts.sort(key=lambda pair: (-pair[1].drop, pair[0]))
    return alerts


def declines(user: User, last_month: date, filters: Filters, options: Options) -> Declines:
    """Branches in the caller's scope whose latest month fell more than the threshold below
    their trailing average; largest drop first."""
    if filters.region_id is not None:
        visible_region(user, filters.region_id)
    series = [arith.add_months(last_month, -i) for i in range(options.decline_window, -1, -1)]
    visible = _visible_branch_ids(user)
    alerts = (
        memo.kept(
            "declines",
            (tuple(series), filters, options),
            lambda: _declines(series, filters, None, options),
        )
        if visible is None
        else _declines(series, filters, visible, options)
    )
    branches = _branches_of(b for b, _ in alerts)
    return {
        "month": last_month,
        "window": options.decline_window,
        "points": options.decline_points,
        "alerts": [{"branch": _branch_ref(branches[b]), **_decline_dict(a)} for b, a in alerts],
    }


class StandardRef(TypedDict):
    """A standard as readings name it: checklist, item id, clause and the item's text."""

    checklist: str
    item_id: str
    clause: str
    text: dict[str, str]  # the item's translations by language (`checklist.Text`)


class WeakStandardEntry(StandardRef):
    """A standard's pass rate over the period (`StandardsSchema.weakest`)."""

    n: int
    earned: float
    possible: float
    pass_rate: float


class DivergentStandardEntry(StandardRef):
    """How differently branches meet a standard (`StandardsSchema.divergent`)."""

    branches: int
    best_branch: BranchRef
    best_rate: float
    worst_branch: BranchRef
    worst_rate: float
    gap: float


class StandardsResult(TypedDict):
    """The weakest and the most divergent standards of a branch, region or the network."""

    scope: str
    scope_id: int | None
    period: PeriodDict
    weakest: list[WeakStandardEntry]
    divergent: list[DivergentStandardEntry]


StandardKey = tuple[str, str, str]  # (checklist slug, item id, clause)


def standards(
    user: User,
    scope: str,
    scope_id: int | None,
    period: Period,
    filters: Filters,
    limit: int,
) -> StandardsResult:
    """The weakest standards (lowest pass rate = earned / possible) of a branch, region or the
    network, and the standards whose pass rate differs most between branches (best and worst
    branch; among branches of equal rate, the lowest id)."""
    branch_ids: list[int] | None = None
    if scope == "branch":
        assert scope_id is not None
        branch_ids = [visible_branch(user, scope_id).id]
        scoped = Filters(filters.checklist, filters.channel)
    else:
        if scope == "region":
            assert scope_id is not None
            visible_region(user, scope_id)
        scoped = Filters(filters.checklist, filters.channel, filters.branch_kind, scope_id)
    if scope != "branch" and period.whole_months:
        totals, spreads = memo.kept(
            "standard_sums",
            (period, scoped, limit),
            lambda: _standard_sums_in_sql(period, scoped, limit),
        )
    else:
        totals, spreads = memo.kept(
            "standard_sums",
            (period, scoped, None if branch_ids is None else tuple(branch_ids), limit),
            lambda: _standard_sums(period, scoped, branch_ids, limit),
            small=branch_ids is not None,
        )
    weak = arith.weakest(dict(sorted(totals.items())), limit)
    texts = _item_texts({key[0] for key in totals})
    result: StandardsResult = {
        "scope": scope,
        "scope_id": scope_id,
        "period": _period_dict(period),
        "weakest": [
            {
                **_standard_ref(w.key, texts),
                "n": w.n,
                "earned": w.earned,
                "possible": w.possible,
                "pass_rate": w.pass_rate,
            }
            for w in weak
        ],
        "divergent": [],
    }
    if scope != "branch":
        branches = _branches_of(
            {cast(int, d.best_branch) for d in spreads}
            | {cast(int, d.worst_branch) for d in spreads}
        )
        result["divergent"] = [
            {
                **_standard_ref(d.key, texts),
                "branches": d.branches,
                "best_branch": _branch_ref(branches[cast(int, d.best_branch)]),
                "best_rate": d.best_rate,
                "worst_branch": _branch_ref(branches[cast(int, d.worst_branch)]),
                "worst_rate": d.worst_rate,
                "gap": d.gap,
            }
            for d in spreads
        ]
    return result


def _standard_sums(
    period: Period, scoped: Filters, branch_ids: list[int] | None, limit: int
) -> tuple[dict[StandardKey, PassCount], list[arith.Divergence[StandardKey]]]:
    """Totals per standard and the divergent standards (a branch, a region or the network),
    from the monthly item roll-ups summed per branch and standard by the database, and the
    edge days of a range of days."""
    query: AnySelect = (
        select(
            RatingItemRollup.branch_id,
            RatingItemRollup.checklist_slug,
            RatingItemRollup.item_id,
            RatingItemRollup.clause,
            *_point_sums(RatingItemRollup),
        )
        .where(_months(RatingItemRollup, period))
        .group_by(
            RatingItemRollup.branch_id,
            RatingItemRollup.checklist_slug,
            RatingItemRollup.item_id,
            RatingItemRollup.clause,
        )
    )
    query = _filtered(query, RatingItemRollup, scoped, branch_ids)
    item_rows: list[tuple[int, str, str, str, Any, Any, Any]] = list(
        db.session.execute(query).all()
    )
    for (branch_id, _), cell in _edge_totals(period, scoped, branch_ids).items():
        item_rows += [
            (branch_id, slug, item_id, clause, v[0], v[1], v[2])
            for (slug, _channel, item_id, clause), v in cell.items.items()
        ]
    # Summed as plain lists, in row order (the same floats as adding `PassCount`s, without
    # building one per row: 30,000 rows for the network's quarter).
    sums: dict[StandardKey, list[Any]] = {}
    by_branch: dict[StandardKey, dict[int, list[Any]]] = {}
    for branch_id, slug, item_id, clause, n, earned, possible in item_rows:
        key = (slug, item_id, clause)
        count = (int(n), float(earned), float(possible))
        _add_count(sums, key, count)
        _add_count(by_branch.setdefault(key, {}), branch_id, count)
    totals = {key: PassCount(*v) for key, v in sums.items()}
    # Branches in id order: of branches with equal rates, the lowest id is named.
    ordered = {
        key: {branch_id: PassCount(*v) for branch_id, v in sorted(per.items())}
        for key, per in sorted(by_branch.items())
    }
    return totals, arith.divergent(
        cast(dict[StandardKey, Mapping[Hashable, PassCount]], ordered), limit
    )


def _add_count(into: dict[Any, list[Any]], key: Any, count: tuple[int, float, float]) -> None:
    """Add (n, earned, possible) to ``into[key]``."""
    kept = into.get(key)
    if kept is None:
        into[key] = list(count)
    else:
        kept[0] += count[0]
        kept[1] += count[1]
        kept[2] += count[2]


def _standard_sums_in_sql(
    period: Period, scoped: Filters, limit: int
) -> tuple[dict[StandardKey, PassCount], list[arith.Divergence[StandardKey]]]:
    """`_standard_sums` of a region or the network over whole months, reduced by the database
    in one statement: every branch's pass rate on every standard (30,000 for the network's
    quarter of a 6-item checklist, 225,000 of a 45-item one) is computed once (a materialised
    common table expression) and never reaches Python; only each standard's totals, its lowest
    and highest branch rate and the branches holding them (the lowest id among equals) do."""
    source = RatingItemRollup
    sums = _point_sums(source)
    rates = (
        _filtered(
            select(
                source.checklist_slug,
                source.item_id,
                source.clause,
                source.branch_id,
                sums[0].label("n"),
                sums[1].label("earned"),
                sums[2].label("possible"),
                (sums[1] / func.nullif(sums[2], 0.0)).label("rate"),
            )
            .where(_months(source, period))
            .group_by(source.checklist_slug, source.item_id, source.clause, source.branch_id),
            source,
            scoped,
        )
        .cte("branch_rates")
        .prefix_with("MATERIALIZED")
    )
    keys = (rates.c.checklist_slug, rates.c.item_id, rates.c.clause)
    spread = (
        select(
            *keys,
            func.sum(rates.c.n).label("n"),
            func.sum(rates.c.earned).label("earned"),
            func.sum(rates.c.possible).label("possible"),
            func.count(rates.c.rate).label("branches"),
            func.min(rates.c.rate).label("low"),
            func.max(rates.c.rate).label("high"),
        )
        .group_by(*keys)
        .cte("spread")
        .prefix_with("MATERIALIZED")
    )
    same_key = and_(*(a == b for a, b in zip(keys, (spread.c[k.key] for k in keys), strict=True)))
    holders = (
        select(*keys, rates.c.rate, func.min(rates.c.branch_id).label("branch_id"))
        .join(spread, same_key)
        .where(or_(rates.c.rate == spread.c.low, rates.c.rate == spread.c.high))
        .group_by(*keys, rates.c.rate)
        .subquery("holders")
    )
    spread_keys = [spread.c.checklist_slug, spread.c.item_id, spread.c.clause]
    rows = db.session.execute(
        select(
            *spread_keys,
            spread.c.n,
            spread.c.earned,
            spread.c.possible,
            spread.c.branches,
            spread.c.low,
            spread.c.high,
            holders.c.rate,
            holders.c.branch_id,
        ).outerjoin(
            holders,
            and_(
                *(
                    a == b
                    for a, b in zip(
                        spread_keys,
                        (holders.c.checklist_slug, holders.c.item_id, holders.c.clause),
                        strict=True,
                    )
                )
            ),
        )
    ).all()
    totals: dict[StandardKey, PassCount] = {}
    found: dict[StandardKey, tuple[int, float, float]] = {}
    holder: dict[tuple[StandardKey, float], int] = {}
    for slug, item_id, clause, n, earned, possible, branches, low, high, rate, branch in rows:
        key = (slug, item_id, clause)
        totals[key] = PassCount(int(n), float(earned), float(possible))
        if branches >= 2:
            found[key] = (int(branches), float(low), float(high))
        if rate is not None:
            holder[(key, float(rate))] = int(branch)
    # Widest gap first; equal gaps in standard order (as `arith.divergent`).
    shown = sorted(found.items(), key=lambda kv: (-(kv[1][2] - kv[1][1]), kv[0]))[:limit]
    return totals, [
        arith.Divergence(
            key, branches, holder[(key, high)], high, holder[(key, low)], low, high - low
        )
        for key, (branches, low, high) in shown
    ]


def _one_audit_row_per_branch_month(filters: Filters) -> bool:
    """Whether a branch-month has at most one audit-part roll-up row under ``filters``: its
    rows are one per checklist and channel (an audit's channel is its version's), so this
    holds when one (checklist, channel) pair of the checklist versions passes the filters."""
    query = select(ChecklistVersion.slug, ChecklistVersion.channel).distinct()
    if filters.checklist is not None:
        query = query.where(ChecklistVersion.slug == filters.checklist)
    if filters.channel is not None:
        query = query.where(ChecklistVersion.channel == filters.channel)
    return len(db.session.execute(query.limit(2)).all()) <= 1


def _item_texts(slugs: set[str]) -> dict[tuple[str, str], dict[str, str]]:
    """(slug, item id) -> the item's text in the newest version of each checklist."""
    texts: dict[tuple[str, str], dict[str, str]] = {}
    if not slugs:
        return texts
    versions = db.session.execute(
        select(ChecklistVersion)
        .where(ChecklistVersion.slug.in_(sorted(slugs)))
        .order_by(ChecklistVersion.version)
    ).scalars()
    for version in versions:  # newest last, so newest wins
        for item in checklist_of(version).items():
            texts[(version.slug, item.id)] = dict(item.text)
    return texts


def _standard_ref(key: StandardKey, texts: dict[tuple[str, str], dict[str, str]]) -> StandardRef:
    slug, item_id, clause = key
    return {
        "checklist": slug,
        "item_id": item_id,
        "clause": clause,
        "text": texts.get((slug, item_id), {}),
    }


class ComparisonCell(TypedDict):
    """A branch's rating on one section or stage (`MatrixCellSchema`)."""

    n: int
    mean: float | None


class ComparisonRow(TypedDict):
    """A branch's row of the heat-map: its rating and a cell per column (`MatrixRowSchema`)."""

    branch: BranchRef
    rating: StatsDict
    cells: dict[str, ComparisonCell]


class Comparison(TypedDict):
    """Branches x sections or stages (`MatrixSchema`)."""

    period: PeriodDict
    by: str
    columns: list[str]
    rows: list[ComparisonRow]


def comparison(
    user: User, period: Period, filters: Filters, by: str, options: Options
) -> Comparison:
    """Branches (in scope, optionally of one region) x sections or stages: a heat-map."""
    if filters.region_id is not None:
        visible_region(user, filters.region_id)
    visible = _visible_branch_ids(user)
    if visible is None or filters.region_id is not None:
        # The network's or the region's (kept until the ratings change), then the caller's.
        moments, overall = memo.kept(
            "comparison",
            (period, filters, by),
            lambda: (
                branch_moments(period, filters, part_kind=by),
                branch_moments(period, filters),
            ),
        )
        if visible is not None:
            moments = {key: m for key, m in moments.items() if key[0] in visible}
            overall = {key: m for key, m in overall.items() if key[0] in visible}
    else:
        moments = branch_moments(period, filters, part_kind=by, branch_ids=visible)
        overall = branch_moments(period, filters, branch_ids=visible)
    table = arith.matrix(cast(dict[tuple[int, Any], Moments], moments))
    columns = sorted({key for _, key in moments})
    branches = _branches_of(b for (b, _), m in overall.items() if m.n)
    rows: list[ComparisonRow] = []
    for branch_id in sorted(branches, key=lambda b: branches[b].code):
        cells = table.get(branch_id, {})
        rows.append(
            {
                "branch": _branch_ref(branches[branch_id]),
                "rating": _stats_dict(arith.stats(overall[(branch_id, "")], options.min_visits)),
                "cells": {str(column): {"n": s.n, "mean": s.mean} for column, s in cells.items()},
            }
        )
    return {"period": _period_dict(period), "by": by, "columns": columns, "rows": rows}


class AuditsBehind(TypedDict):
    """A page of the audits behind a branch's rating (`RatingAuditPageSchema`)."""

    items: list[RatingAudit]
    total: int
    page: int
    per_page: int


def audits_behind(
    user: User, branch_id: int, period: Period, filters: Filters, page: int, per_page: int
) -> AuditsBehind:
    """The counted audits behind a branch's rating for the period (traceability)."""
    visible_branch(user, branch_id)
    query = select(RatingAudit).where(
        RatingAudit.branch_id == branch_id,
        RatingAudit.month >= period.first,
        RatingAudit.month <= period.last,
    )
    if not period.whole_months:
        query = query.where(RatingAudit.visit_date.between(period.starts_on, period.ends_on))
    if filters.checklist is not None:
        query = query.where(RatingAudit.checklist_slug == filters.checklist)
    if filters.channel is not None:
        query = query.where(RatingAudit.channel == filters.channel)
    query = query.order_by(RatingAudit.visit_date, RatingAudit.audit_id)
    found = paginate(query, page, per_page)
    return {
        "items": found["items"],
        "total": found["total"],
        "page": found["page"],
        "per_page": found["per_page"],
    }
