"""Ratings: branch, region and network ratings, rankings, trends, declines, standards, matrix.

Read-only. Who may call what is the table in docs/ratings.md; which branches and regions each
caller sees is decided by ``auditapp.access`` inside the service (out of scope is 404).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_login import current_user
from flask_smorest import Blueprint

from auditapp.api import require
from auditapp.schemas.ratings import (
    BranchRankingSchema,
    BranchRatingSchema,
    DeclineArgs,
    DeclineListSchema,
    GroupRatingSchema,
    MatrixArgs,
    MatrixSchema,
    PeriodSchema,
    RankingArgs,
    RatingArgs,
    RatingAuditArgs,
    RatingAuditPageSchema,
    RegionRankingSchema,
    StandardArgs,
    StandardsSchema,
    TrendArgs,
    TrendSchema,
)
from auditapp.services import ratings as service

blp = Blueprint("ratings", __name__, description="Ratings of branches, regions and the network")

HQ = ("admin", "reviewer")
# Aggregates and own-scope rankings: HQ, directors (their regions), managers (their branches).
READERS = (*HQ, "director", "manager")


def _filters(args: dict[str, Any]) -> service.Filters:
    return service.Filters(
        checklist=args.get("checklist"),
        channel=args.get("channel"),
        branch_kind=args.get("branch_kind"),
        region_id=args.get("region_id"),
    )


def _as_built(result: Any) -> Any:
    """A reading of one entry per branch (a ranking page, the comparison matrix) sent as the
    service built it: its entries are already the documented JSON shape (ints, floats, None,
    str), and marshmallow's dump of 5,000 of them was half to two thirds of the request. Only
    the period (dates) goes through its schema; the route's schema stays in the OpenAPI
    document, and tests hold the two to the same JSON."""
    result["period"] = PeriodSchema().dump(result["period"])
    return current_app.json.response(result)


def _options(args: dict[str, Any]) -> service.Options:
    return service.Options.from_config(
        min_visits=args.get("min_visits"),
        decline_window=args.get("decline_window"),
        decline_points=args.get("decline_points"),
    )


@blp.route("/ratings/network")
@require(*READERS)
@blp.arguments(RatingArgs, location="query")
@blp.response(200, GroupRatingSchema)
def network_rating(args: dict[str, Any]) -> Any:
    """The network's rating: mean of branch means, spread, breakdowns, change."""
    return service.group_rating(current_user, None, args["period"], _filters(args), _options(args))


@blp.route("/ratings/regions/<int:region_id>")
@require(*READERS)
@blp.arguments(RatingArgs, location="query")
@blp.response(200, GroupRatingSchema)
def region_rating(args: dict[str, Any], region_id: int) -> Any:
    """A region's rating (its branches as they are now)."""
    return service.group_rating(
        current_user, region_id, args["period"], _filters(args), _options(args)
    )


@blp.route("/ratings/branches/<int:branch_id>")
@require(*READERS, "employee")
@blp.arguments(RatingArgs, location="query")
@blp.response(200, BranchRatingSchema)
def branch_rating(args: dict[str, Any], branch_id: int) -> Any:
    """A branch's rating, breakdowns, change and places (employees: their own branch)."""
    return service.branch_rating(
        current_user, branch_id, args["period"], _filters(args), _options(args)
    )


@blp.route("/ratings/branches/<int:branch_id>/audits")
@require(*READERS)
@blp.arguments(RatingAuditArgs, location="query")
@blp.response(200, RatingAuditPageSchema)
def branch_rating_audits(args: dict[str, Any], branch_id: int) -> Any:
    """The audits counted in a branch's rating for the period (traceability)."""
    return service.audits_behind(
        current_user, branch_id, args["period"], _filters(args), args["page"], args["per_page"]
    )


@blp.route("/ratings/rankings/branches")
@require(*READERS)
@blp.arguments(RankingArgs, location="query")
@blp.response(200, BranchRankingSchema)
def branch_ranking(args: dict[str, Any]) -> Any:
    """Branches ranked in the network (or in ``region_id``); the caller's branches are listed,
    each with its place among all, a page at a time in rank order."""
    ranking = service.branch_ranking(
        current_user,
        args["period"],
        _filters(args),
        _options(args),
        args["page"],
        args["per_page"],
    )
    return _as_built(ranking)


@blp.route("/ratings/rankings/regions")
@require(*READERS)
@blp.arguments(RatingArgs, location="query")
@blp.response(200, RegionRankingSchema)
def region_ranking(args: dict[str, Any]) -> Any:
    """Regions ranked in the network; the caller's regions are listed."""
    return service.region_ranking(current_user, args["period"], _filters(args), _options(args))


@blp.route("/ratings/network/trend")
@require(*READERS)
@blp.arguments(TrendArgs, location="query")
@blp.response(200, TrendSchema)
def network_trend(args: dict[str, Any]) -> Any:
    """The network's monthly series (mean of the branch means of each month)."""
    return service.trend(
        current_user,
        "network",
        None,
        args["until"],
        args["months"],
        _filters(args),
        _options(args),
    )


@blp.route("/ratings/regions/<int:region_id>/trend")
@require(*READERS)
@blp.arguments(TrendArgs, location="query")
@blp.response(200, TrendSchema)
def region_trend(args: dict[str, Any], region_id: int) -> Any:
    """A region's monthly series."""
    return service.trend(
        current_user,
        "region",
        region_id,
        args["until"],
        args["months"],
        _filters(args),
        _options(args),
    )


@blp.route("/ratings/branches/<int:branch_id>/trend")
@require(*READERS)
@blp.arguments(TrendArgs, location="query")
@blp.response(200, TrendSchema)
def branch_trend(args: dict[str, Any], branch_id: int) -> Any:
    """A branch's monthly series and its decline alert."""
    return service.trend(
        current_user,
        "branch",
        branch_id,
        args["until"],
        args["months"],
        _filters(args),
        _options(args),
    )


@blp.route("/ratings/declines")
@require(*READERS)
@blp.arguments(DeclineArgs, location="query")
@blp.response(200, DeclineListSchema)
def declines(args: dict[str, Any]) -> Any:
    """Branches in the caller's scope whose month fell below their trailing average."""
    return service.declines(current_user, args["month"], _filters(args), _options(args))


@blp.route("/ratings/network/standards")
@require(*HQ)
@blp.arguments(StandardArgs, location="query")
@blp.response(200, StandardsSchema)
def network_standards(args: dict[str, Any]) -> Any:
    """The network's weakest standards and those that differ most between branches."""
    return service.standards(
        current_user, "network", None, args["period"], _filters(args), args["limit"]
    )


@blp.route("/ratings/regions/<int:region_id>/standards")
@require(*HQ, "director")
@blp.arguments(StandardArgs, location="query")
@blp.response(200, StandardsSchema)
def region_standards(args: dict[str, Any], region_id: int) -> Any:
    """A region's weakest standards and those that differ most between its branches."""
    return service.standards(
        current_user, "region", region_id, args["period"], _filters(args), args["limit"]
    )


@blp.route("/ratings/branches/<int:branch_id>/standards")
@require(*READERS)
@blp.arguments(StandardArgs, location="query")
@blp.response(200, StandardsSchema)
def branch_standards(args: dict[str, Any], branch_id: int) -> Any:
    """A branch's weakest standards."""
    return service.standards(
        current_user, "branch", branch_id, args["period"], _filters(args), args["limit"]
    )


@blp.route("/ratings/matrix")
@require(*HQ, "director")
@blp.arguments(MatrixArgs, location="query")
@blp.response(200, MatrixSchema)
def matrix(args: dict[str, Any]) -> Any:
    """Branches x sections (or stages) with scores, for a heat-map."""
    comparison = service.comparison(
        current_user, args["period"], _filters(args), args["by"], _options(args)
    )
    return _as_built(comparison)
