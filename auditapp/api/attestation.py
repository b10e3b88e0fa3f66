"""Staff attestation: rule sets and periods (HQ), sheets (each role its scope), internal
scores, acknowledgements and objections, overdue staff, leaderboards and awards.

Who may call what is the table in docs/attestation.md; whose sheets each caller reaches is
decided inside the service through ``auditapp.access`` (out of scope is 404).
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_login import current_user

from auditapp.api import Blueprint, require
from auditapp.schemas.attestation import (
    AnswerSchema,
    AttestationPeriodSchema,
    AwardCreateSchema,
    AwardListSchema,
    AwardSchema,
    InternalScoreCreateSchema,
    InternalScoreSchema,
    LeaderboardArgs,
    LeaderboardsSchema,
    ObjectionArgs,
    ObjectionPageSchema,
    ObjectionSchema,
    OverduePageSchema,
    PeriodCreateSchema,
    PeriodPageSchema,
    PeriodRuleSetSchema,
    RespondSchema,
    RuleSetCreateSchema,
    RuleSetPageSchema,
    RuleSetSchema,
    SheetListArgs,
    SheetPageSchema,
    SheetSchema,
    VersionSchema,
)
from auditapp.schemas.common import PageQuery
from auditapp.services import attestation as service
from auditapp.services.pagination import Page

blp = Blueprint("attestation", __name__, description="Staff attestation")

HQ = ("admin", "reviewer")
ADMIN = ("admin",)
# Scoped readers of sheets, overdue staff and leaderboards.
READERS = (*HQ, "director", "manager")
# Everyone but shoppers reads periods and sheets (employees: their own).
SHEET_READERS = (*READERS, "employee")
# Who answers objections and enters internal scores: the manager and HQ's admin (HR).
ANSWERERS = ("admin", "manager")


@blp.route("/attestation/rule-sets")
@require(*HQ)
@blp.arguments(PageQuery, location="query")
@blp.response(200, RuleSetPageSchema)
def list_rule_sets(page: Page) -> Any:
    """Every rule set version."""
    return service.list_rule_sets(page)


@blp.route("/attestation/rule-sets", methods=["POST"])
@require(*ADMIN)
@blp.arguments(RuleSetCreateSchema)
@blp.response(201, RuleSetSchema)
def create_rule_set(payload: dict[str, Any]) -> Any:
    """A new version of a rule set (versions are never edited)."""
    return service.create_rule_set_version(
        current_user, service.RuleSetCommand(payload["code"], payload["name"], payload["rules"])
    )


@blp.route("/attestation/rule-sets/<int:rule_set_id>")
@require(*SHEET_READERS)
@blp.response(200, RuleSetSchema)
def get_rule_set(rule_set_id: int) -> Any:
    """One rule set version: the published rules every sheet cites."""
    return service.get_rule_set(rule_set_id)


@blp.route("/attestation/periods")
@require(*SHEET_READERS)
@blp.arguments(PageQuery, location="query")
@blp.response(200, PeriodPageSchema)
def list_periods(page: Page) -> Any:
    """Attestation periods, latest first."""
    return service.list_periods(page)


@blp.route("/attestation/periods", methods=["POST"])
@require(*ADMIN)
@blp.arguments(PeriodCreateSchema)
@blp.response(201, AttestationPeriodSchema)
def create_period(payload: dict[str, Any]) -> Any:
    """Open a period (default: the calendar year) under a rule set version."""
    return service.create_period(current_user, service.PeriodCommand(**payload))


@blp.route("/attestation/periods/<int:period_id>")
@require(*SHEET_READERS)
@blp.response(200, AttestationPeriodSchema)
def get_period(period_id: int) -> Any:
    """One period."""
    return service.get_period(period_id)


@blp.route("/attestation/periods/<int:period_id>/rule-set", methods=["PUT"])
@require(*ADMIN)
@blp.arguments(PeriodRuleSetSchema)
@blp.response(200, AttestationPeriodSchema)
def set_period_rule_set(payload: dict[str, Any], period_id: int) -> Any:
    """Point an open period at another rule set version (409 once closed)."""
    return service.set_period_rule_set(
        current_user, period_id, payload["rule_set_id"], payload["version"]
    )


@blp.route("/attestation/periods/<int:period_id>/close", methods=["POST"])
@require(*ADMIN)
@blp.arguments(VersionSchema)
@blp.response(200, AttestationPeriodSchema)
def close_period(payload: dict[str, Any], period_id: int) -> Any:
    """Close the period: every sheet is computed once and frozen."""
    return service.close_period(current_user, period_id, payload["version"])


@blp.route("/attestation/periods/<int:period_id>/sheets")
@require(*SHEET_READERS)
@blp.arguments(SheetListArgs, location="query")
@blp.response(200, SheetPageSchema)
def list_sheets(filters: service.SheetFilters, period_id: int) -> Any:
    """The sheets the caller may read (an employee: their own); ``branch_id``: only the staff
    placed in that branch during the period."""
    return service.list_sheets(current_user, period_id, filters)


@blp.route("/attestation/periods/<int:period_id>/sheets/<int:staff_id>")
@require(*SHEET_READERS)
@blp.response(200, SheetSchema)
def get_sheet(period_id: int, staff_id: int) -> Any:
    """One sheet: components, weights, scores, the formula and the evidence (404 out of
    scope; an employee reaches only their own)."""
    return service.get_sheet(current_user, period_id, staff_id)


@blp.route(
    "/attestation/periods/<int:period_id>/sheets/<int:staff_id>/acknowledge", methods=["POST"]
)
@require("employee")
@blp.arguments(RespondSchema)
@blp.response(200, SheetSchema)
def acknowledge(payload: dict[str, Any], period_id: int, staff_id: int) -> Any:
    """The employee acknowledges their frozen sheet."""
    return service.respond(current_user, period_id, staff_id, "acknowledged", payload["comment"])


@blp.route("/attestation/periods/<int:period_id>/sheets/<int:staff_id>/object", methods=["POST"])
@require("employee")
@blp.arguments(RespondSchema)
@blp.response(200, SheetSchema)
def object_to(payload: dict[str, Any], period_id: int, staff_id: int) -> Any:
    """The employee objects to their frozen sheet, with a comment (to the manager and HQ)."""
    return service.respond(current_user, period_id, staff_id, "objected", payload["comment"])


@blp.route(
    "/attestation/periods/<int:period_id>/sheets/<int:staff_id>/internal-scores",
    methods=["POST"],
)
@require(*ANSWERERS)
@blp.arguments(InternalScoreCreateSchema)
@blp.response(201, InternalScoreSchema)
@blp.alt_response(200, schema=InternalScoreSchema, description="A retry of the same entry")
def enter_internal_score(entry: service.InternalScoreEntry, period_id: int, staff_id: int) -> Any:
    """Enter an internal score with why (the latest entry counts; all are kept). A retry with
    the same ``request_id`` and body returns the stored entry (200); another body is 409."""
    stored, created = service.enter_internal_score(current_user, period_id, staff_id, entry)
    return stored, (201 if created else 200)


@blp.route("/attestation/objections")
@require(*ANSWERERS)
@blp.arguments(ObjectionArgs, location="query")
@blp.response(200, ObjectionPageSchema)
def list_objections(filters: service.ObjectionFilters) -> Any:
    """Objections to answer (a manager: their branches' staff)."""
    return service.list_objections(current_user, filters)


@blp.route("/attestation/objections/<int:response_id>/answer", methods=["POST"])
@require(*ANSWERERS)
@blp.arguments(AnswerSchema)
@blp.response(200, ObjectionSchema)
def answer_objection(answer: service.ObjectionAnswer, response_id: int) -> Any:
    """Answer an objection (once)."""
    return service.answer_objection(current_user, response_id, answer)


@blp.route("/attestation/overdue")
@require(*READERS)
@blp.arguments(PageQuery, location="query")
@blp.response(200, OverduePageSchema)
def overdue(page: Page) -> Any:
    """Active employees not attested in the last year, in the caller's scope."""
    return service.overdue(current_user, page)


@blp.route("/attestation/periods/<int:period_id>/leaderboards")
@require(*READERS)
@blp.arguments(LeaderboardArgs, location="query")
@blp.response(200, LeaderboardsSchema)
def leaderboards(args: dict[str, Any], period_id: int) -> Any:
    """Top branches (network, regions), most improved, top employees, standards met."""
    return service.leaderboards(current_user, period_id, args["limit"])


@blp.route("/attestation/periods/<int:period_id>/awards")
@require(*HQ)
@blp.response(200, AwardListSchema)
def list_awards(period_id: int) -> Any:
    """The period's awards."""
    return {"items": service.list_awards(period_id)}


@blp.route("/attestation/periods/<int:period_id>/awards", methods=["POST"])
@require(*ADMIN)
@blp.arguments(AwardCreateSchema)
@blp.response(201, AwardSchema)
def create_award(payload: dict[str, Any], period_id: int) -> Any:
    """Mark an award for a branch or an employee."""
    return service.create_award(current_user, period_id, service.AwardCommand(**payload))


@blp.route("/attestation/periods/<int:period_id>/awards.csv")
@require(*HQ)
@blp.response(200, description="The award list as CSV (UTF-8 with BOM)", content_type="text/csv")
def awards_csv(period_id: int) -> Response:
    """The period's awards as CSV."""
    text = service.awards_csv(period_id)
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="awards-{period_id}.csv"'},
    )
