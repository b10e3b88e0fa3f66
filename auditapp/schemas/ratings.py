"""Request and response shapes of the ratings: periods, filters, ratings, rankings, trends."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate

from auditapp.domain import ratings as arith
from auditapp.domain.checklist import CHANNELS
from auditapp.domain.vocabulary import BRANCH_KINDS
from auditapp.schemas.common import ApiSchema, Id, PageArgs, PageMeta

# Longest period a reading may cover (a rating over more than three years is not a rating).
MAX_PERIOD_MONTHS = 36
_MONTH = r"(\d{4})-(\d{2})"


def _month(year: str, month: str) -> date:
    number = int(month)
    if not 1 <= number <= 12:
        raise ValidationError(f"No month {month}.")
    if not 2000 <= int(year) <= 2100:
        raise ValidationError(f"Year {year} is out of range (2000-2100).")
    return date(int(year), number, 1)


def parse_period(text: str) -> arith.Period:
    """``2026-03`` (month), ``2026-Q1`` (quarter), ``2026`` (year) or ``2026-01..2026-06``
    (a range of whole months, inclusive)."""
    text = text.strip()
    if match := re.fullmatch(_MONTH, text):
        return arith.month_period(_month(*match.groups()))
    if match := re.fullmatch(r"(\d{4})-Q([1-4])", text, flags=re.IGNORECASE):
        _month(match.group(1), "01")
        return arith.quarter_period(int(match.group(1)), int(match.group(2)))
    if match := re.fullmatch(r"(\d{4})", text):
        _month(match.group(1), "01")
        return arith.year_period(int(match.group(1)))
    if match := re.fullmatch(_MONTH + r"\.\." + _MONTH, text):
        first = _month(match.group(1), match.group(2))
        last = _month(match.group(3), match.group(4))
        if last < first:
            raise ValidationError("The range ends before it starts.")
        period = arith.Period(first, last)
        if len(period.months) > MAX_PERIOD_MONTHS:
            raise ValidationError(f"At most {MAX_PERIOD_MONTHS} months.")
        return period
    raise ValidationError(
        "Give a month (2026-03), a quarter (2026-Q1), a year (2026) or a range of months "
        "(2026-01..2026-06)."
    )


def current_month() -> date:
    """This month (UTC): the default period and the default end of a trend."""
    return arith.month_start(datetime.now(UTC).date())


class PeriodField(fields.String):
    """A period in one of the forms `parse_period` reads; loads to a `Period`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return parse_period(str(super()._deserialize(value, attr, data, **kwargs)))


class MonthField(fields.String):
    """A month ``2026-03``; loads to the date of its first day."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = str(super()._deserialize(value, attr, data, **kwargs)).strip()
        match = re.fullmatch(_MONTH, text)
        if match is None:
            raise ValidationError("Give a month as YYYY-MM, e.g. 2026-03.")
        return _month(*match.groups())


class FilterArgs(ApiSchema):
    """Filters every reading accepts."""

    checklist = fields.String(
        validate=validate.Length(min=1, max=80),
        metadata={"description": "Checklist slug"},
    )
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    branch_kind = fields.String(validate=validate.OneOf(BRANCH_KINDS))
    region_id = Id()
    min_visits = fields.Integer(
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "Below this many audits a rating is flagged too_few_visits"},
    )


class RatingArgs(FilterArgs):
    """A period and filters."""

    period = PeriodField(
        metadata={
            "description": "2026-03 (month), 2026-Q1, 2026 (year) or 2026-01..2026-06; "
            "default: the current month"
        }
    )

    @post_load
    def _default_period(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data.setdefault("period", arith.month_period(current_month()))
        return data


class TrendArgs(FilterArgs):
    """A monthly series: how many months, ending when."""

    months = fields.Integer(load_default=12, validate=validate.OneOf([12, 24]))
    until = MonthField(metadata={"description": "Last month of the series (default: this month)"})
    decline_window = fields.Integer(validate=validate.Range(min=1, max=24))
    decline_points = fields.Float(validate=validate.Range(min=0, max=100))

    @post_load
    def _default_until(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data.setdefault("until", current_month())
        return data


class DeclineArgs(FilterArgs):
    """Which month to judge, and the rule."""

    month = MonthField(metadata={"description": "The month judged (default: this month)"})
    decline_window = fields.Integer(
        validate=validate.Range(min=1, max=24),
        metadata={"description": "Trailing months averaged (default 6)"},
    )
    decline_points = fields.Float(
        validate=validate.Range(min=0, max=100),
        metadata={"description": "Alert when the month is more than this below (default 10)"},
    )

    @post_load
    def _default_month(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data.setdefault("month", current_month())
        return data


class StandardArgs(RatingArgs):
    """How many standards to list."""

    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))


class MatrixArgs(RatingArgs):
    """Columns of the comparison matrix."""

    by = fields.String(load_default="section", validate=validate.OneOf(["section", "stage"]))


class RatingAuditArgs(RatingArgs, PageArgs):
    """A period, filters and a page."""


RANKING_PAGE_MAX = 5000


class RankingArgs(RatingArgs, PageArgs):
    """A period, filters and a page of the ranking (in rank order)."""

    # Every page ranks the whole network again: the ranking screen reads a network of 5,000
    # branches in one request rather than ten (10 x the work; bench/screens.py).
    per_page = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=RANKING_PAGE_MAX),
        metadata={"description": f"1 to {RANKING_PAGE_MAX} (a whole network in one page)"},
    )


# Responses ---------------------------------------------------------------------------------


class PeriodSchema(ApiSchema):
    """The months a reading covers."""

    first_month = fields.Date()
    last_month = fields.Date()
    ends_on = fields.Date()


class StatsSchema(ApiSchema):
    """A rating: mean of the audit scores (0-100), n, sd, 95% Student-t interval."""

    n = fields.Integer()
    mean = fields.Float(allow_none=True)
    sd = fields.Float(allow_none=True)
    ci_low = fields.Float(allow_none=True)
    ci_high = fields.Float(allow_none=True)
    too_few_visits = fields.Boolean()


class SpreadSchema(ApiSchema):
    """A region's or the network's rating: mean of branch means and their spread."""

    branches = fields.Integer()
    mean = fields.Float(allow_none=True)
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)
    sd = fields.Float(allow_none=True)
    gap = fields.Float(allow_none=True, metadata={"description": "Best minus worst branch"})


class BranchRefSchema(ApiSchema):
    """A branch, briefly."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    region_id = fields.Integer()


class RegionRefSchema(ApiSchema):
    """A region, briefly."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()


def _breakdowns(schema: type[ApiSchema]) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Nested(schema)),
        metadata={
            "description": "stage / section (checklist:section) / role / channel -> key -> rating"
        },
    )


class PlaceSchema(ApiSchema):
    """A branch's place among the branches of its region or the network."""

    rank = fields.Integer()
    of = fields.Integer()
    rank_best = fields.Integer()
    rank_worst = fields.Integer()
    significance = fields.String(allow_none=True)
    shrunk_mean = fields.Float(allow_none=True)
    shrunk_rank = fields.Integer()
    previous_rank = fields.Integer(allow_none=True)
    rank_change = fields.Integer(allow_none=True)


class BranchRatingSchema(ApiSchema):
    """A branch's rating for a period."""

    branch = fields.Nested(BranchRefSchema)
    period = fields.Nested(PeriodSchema)
    rating = fields.Nested(StatsSchema)
    previous = fields.Nested(StatsSchema)
    mean_change = fields.Float(allow_none=True)
    significance = fields.String(allow_none=True)
    network_mean = fields.Float(allow_none=True)
    places = fields.Dict(keys=fields.String(), values=fields.Nested(PlaceSchema, allow_none=True))
    breakdowns = _breakdowns(StatsSchema)


class GroupRatingSchema(ApiSchema):
    """A region's or the network's rating for a period."""

    region = fields.Nested(RegionRefSchema, allow_none=True)
    period = fields.Nested(PeriodSchema)
    rating = fields.Nested(SpreadSchema)
    audits = fields.Integer()
    previous = fields.Nested(SpreadSchema)
    mean_change = fields.Float(allow_none=True)
    breakdowns = _breakdowns(SpreadSchema)


class RankedFields(ApiSchema):
    """Rank, plausible rank range, significance, shrunk estimate and change."""

    rank = fields.Integer()
    of = fields.Integer()
    rank_best = fields.Integer()
    rank_worst = fields.Integer()
    significance = fields.String(allow_none=True)
    shrunk_mean = fields.Float(allow_none=True)
    shrunk_rank = fields.Integer()
    previous_rank = fields.Integer(allow_none=True)
    rank_change = fields.Integer(allow_none=True)
    previous_mean = fields.Float(allow_none=True)
    mean_change = fields.Float(allow_none=True)


class BranchRankSchema(RankedFields):
    """One branch in a ranking."""

    branch = fields.Nested(BranchRefSchema)
    rating = fields.Nested(StatsSchema)


class BranchRankingSchema(ApiSchema):
    """Branches ranked within a region or the network."""

    period = fields.Nested(PeriodSchema)
    within = fields.String()
    network_mean = fields.Float(allow_none=True)
    ranked = fields.Integer(metadata={"description": "Branches ranked (with a rating)"})
    total = fields.Integer(metadata={"description": "Of them, in the caller's scope"})
    page = fields.Integer()
    per_page = fields.Integer()
    entries = fields.List(fields.Nested(BranchRankSchema))


class RegionRankSchema(RankedFields):
    """One region in the ranking of regions."""

    region = fields.Nested(RegionRefSchema)
    branches = fields.Integer()
    mean = fields.Float(allow_none=True)
    sd = fields.Float(allow_none=True)
    ci_low = fields.Float(allow_none=True)
    ci_high = fields.Float(allow_none=True)


class RegionRankingSchema(ApiSchema):
    """Regions ranked in the network."""

    period = fields.Nested(PeriodSchema)
    network_mean = fields.Float(allow_none=True)
    ranked = fields.Integer()
    entries = fields.List(fields.Nested(RegionRankSchema))


class TrendPointSchema(ApiSchema):
    """One month of a series."""

    month = fields.Date()
    n = fields.Integer()
    mean = fields.Float(allow_none=True)
    branches = fields.Integer()


class DeclineSchema(ApiSchema):
    """A decline: the month against the trailing average before it."""

    month = fields.Date()
    latest_mean = fields.Float()
    latest_n = fields.Integer()
    trailing_mean = fields.Float()
    trailing_n = fields.Integer()
    drop = fields.Float()


class TrendSchema(ApiSchema):
    """A monthly series (and, for a branch, its decline alert)."""

    scope = fields.String()
    branch = fields.Nested(BranchRefSchema)
    region_id = fields.Integer(allow_none=True)
    points = fields.List(fields.Nested(TrendPointSchema))
    decline = fields.Nested(DeclineSchema, allow_none=True)


class DeclineAlertSchema(DeclineSchema):
    """A branch in decline."""

    branch = fields.Nested(BranchRefSchema)


class DeclineListSchema(ApiSchema):
    """The branches in decline."""

    month = fields.Date()
    window = fields.Integer()
    points = fields.Float()
    alerts = fields.List(fields.Nested(DeclineAlertSchema))


class StandardRefFields(ApiSchema):
    """Which standard: checklist, item and clause, with the item's text."""

    checklist = fields.String()
    item_id = fields.String()
    clause = fields.String()
    text = fields.Dict(keys=fields.String(), values=fields.String())


class WeakStandardSchema(StandardRefFields):
    """A standard with its pass rate."""

    n = fields.Integer()
    earned = fields.Float()
    possible = fields.Float()
    pass_rate = fields.Float()


class DivergentStandardSchema(StandardRefFields):
    """A standard whose pass rate differs most between branches."""

    branches = fields.Integer()
    best_branch = fields.Nested(BranchRefSchema)
    best_rate = fields.Float()
    worst_branch = fields.Nested(BranchRefSchema)
    worst_rate = fields.Float()
    gap = fields.Float()


class StandardsSchema(ApiSchema):
    """Weakest and most divergent standards."""

    scope = fields.String()
    scope_id = fields.Integer(allow_none=True)
    period = fields.Nested(PeriodSchema)
    weakest = fields.List(fields.Nested(WeakStandardSchema))
    divergent = fields.List(fields.Nested(DivergentStandardSchema))


class MatrixCellSchema(ApiSchema):
    """One cell of the comparison matrix."""

    n = fields.Integer()
    mean = fields.Float(allow_none=True)


class MatrixRowSchema(ApiSchema):
    """A branch's row."""

    branch = fields.Nested(BranchRefSchema)
    rating = fields.Nested(StatsSchema)
    cells = fields.Dict(keys=fields.String(), values=fields.Nested(MatrixCellSchema))


class MatrixSchema(ApiSchema):
    """Branches x sections (or stages)."""

    period = fields.Nested(PeriodSchema)
    by = fields.String()
    columns = fields.List(fields.String())
    rows = fields.List(fields.Nested(MatrixRowSchema))


class RatingAuditSchema(ApiSchema):
    """An audit counted in a rating (no shopper: the branch side never learns who it was)."""

    audit_id = fields.Integer()
    visit_date = fields.Date()
    month = fields.Date()
    checklist_slug = fields.String()
    channel = fields.String()
    score = fields.Float(allow_none=True)


class RatingAuditPageSchema(PageMeta):
    """A page of counted audits."""

    items = fields.List(fields.Nested(RatingAuditSchema))
