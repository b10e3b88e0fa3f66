"""Ratings: keeping the monthly roll-ups (`keeping`) and reading ratings, rankings, trends
and standards from them (`reading`). Callers import this package; the names below are its
interface."""

from auditapp.services.ratings.keeping import (
    rebuild,
    record_released,
    record_rescored,
    refresh_cells,
    visit_day,
)
from auditapp.services.ratings.reading import (
    Filters,
    Options,
    audits_behind,
    branch_ranking,
    branch_rating,
    comparison,
    declines,
    employee_branch_id,
    group_rating,
    per_branch,
    region_ranking,
    standards,
    trend,
    visible_branch,
    visible_region,
)

__all__ = [
    "Filters",
    "Options",
    "audits_behind",
    "branch_ranking",
    "branch_rating",
    "comparison",
    "declines",
    "employee_branch_id",
    "group_rating",
    "per_branch",
    "rebuild",
    "record_released",
    "record_rescored",
    "refresh_cells",
    "region_ranking",
    "standards",
    "trend",
    "visible_branch",
    "visible_region",
    "visit_day",
]
