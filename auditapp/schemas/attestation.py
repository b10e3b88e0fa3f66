"""Request and response shapes of staff attestation: rule sets, periods, sheets, responses,
internal scores, overdue staff, leaderboards and awards."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from auditapp.domain import attestation as rules_arith
from auditapp.models.attestation import AWARD_KINDS
from auditapp.schemas.common import ApiSchema, Id, PageArgs, PageMeta
from auditapp.services.attestation import (
    InternalScoreEntry,
    ObjectionAnswer,
    ObjectionFilters,
    SheetFilters,
)

_CODE = validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,59}$", error="Use a-z, 0-9, '-' and '_'.")
_NAME = validate.Length(min=1, max=200)
_TEXT = validate.Length(max=4000)


# Rule sets ---------------------------------------------------------------------------------


class WeightsSchema(ApiSchema):
    """Component weights (sum 100)."""

    individual = fields.Float(required=True)
    collective = fields.Float(required=True)
    internal = fields.Float(required=True)


class GradeSchema(ApiSchema):
    """A grade band."""

    code = fields.String(required=True)
    min_points = fields.Float(required=True)
    label_ru = fields.String(required=True)
    label_en = fields.String(load_default="")


class RulesSchema(ApiSchema):
    """The rules of a version; the domain checks every business rule (sum, share, bands)."""

    weights = fields.Nested(WeightsSchema, required=True)
    min_external_share = fields.Float(
        load_default=rules_arith.DEFAULT_MIN_EXTERNAL_SHARE,
        metadata={"description": "Least share of individual + collective weights (50-100)."},
    )
    min_audits = fields.Integer(
        load_default=rules_arith.DEFAULT_MIN_AUDITS,
        metadata={"description": "Fewest attributed audits for the individual component."},
    )
    grades = fields.List(
        fields.Nested(GradeSchema),
        load_default=None,
        validate=validate.Length(min=1, max=20),
        metadata={"description": "Bands; one must start at 0. Default 85 / 70 / 0."},
    )


class RuleSetCreateSchema(ApiSchema):
    """A new version of rule set ``code`` (the first if the code is new)."""

    code = fields.String(required=True, validate=_CODE)
    name = fields.String(required=True, validate=_NAME)
    rules = fields.Nested(RulesSchema, required=True)


class RuleSetSchema(ApiSchema):
    """One rule set version (never edited)."""

    id = fields.Integer()
    code = fields.String()
    version = fields.Integer()
    name = fields.String()
    rules = fields.Nested(RulesSchema)
    created_at = fields.DateTime()


class RuleSetPageSchema(PageMeta):
    """A page of rule set versions."""

    items = fields.List(fields.Nested(RuleSetSchema))


# Periods -----------------------------------------------------------------------------------


class PeriodCreateSchema(ApiSchema):
    """A new period: a calendar ``year`` (default this year) or whole months."""

    name = fields.String(required=True, validate=_NAME)
    rule_set_id = Id(required=True)
    year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100))
    starts_on = fields.Date(load_default=None)
    ends_on = fields.Date(load_default=None)

    @validates_schema
    def _year_or_dates(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("year") is not None and (data.get("starts_on") or data.get("ends_on")):
            raise ValidationError("Give a year or dates, not both.", "year")
        for key in ("starts_on", "ends_on"):
            day = data.get(key)
            if day is not None and not 2000 <= day.year <= 2100:
                raise ValidationError("Years 2000-2100.", key)


class AttestationPeriodSchema(ApiSchema):
    """An attestation period."""

    id = fields.Integer()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    rule_set_id = fields.Integer()
    status = fields.String(metadata={"description": "open or closed"})
    closed_at = fields.DateTime(allow_none=True)
    version = fields.Integer()


class PeriodPageSchema(PageMeta):
    """A page of periods."""

    items = fields.List(fields.Nested(AttestationPeriodSchema))


class VersionSchema(ApiSchema):
    """The version read, so a change made by someone else in between is refused (409)."""

    version = Id(required=True)


class PeriodRuleSetSchema(VersionSchema):
    """Point an open period at another rule set version."""

    rule_set_id = Id(required=True)


class PeriodRefSchema(ApiSchema):
    """The period a sheet belongs to."""

    id = fields.Integer()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    status = fields.String()


# Sheets ------------------------------------------------------------------------------------


class StaffRefSchema(ApiSchema):
    """Who a sheet is about."""

    id = fields.Integer()
    employee_code = fields.String()
    full_name = fields.String()
    position = fields.String()


class SheetBranchSchema(ApiSchema):
    """A branch named on a sheet."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class BranchDaysSchema(SheetBranchSchema):
    """Days worked at a branch in the period and its rating (null: no audits there)."""

    days = fields.Integer()
    mean = fields.Float(allow_none=True)


class InternalEntrySchema(ApiSchema):
    """The internal score that counts: who entered it, when and why."""

    score = fields.Float()
    reason = fields.String()
    entered_by = fields.String()
    entered_at = fields.String()


class ComponentSchema(ApiSchema):
    """One component: weight as set, weight after re-normalisation, score, status."""

    component = fields.String()
    name_ru = fields.String()
    name_en = fields.String()
    external = fields.Boolean()
    weight = fields.Float()
    effective_weight = fields.Float()
    score = fields.Float(allow_none=True)
    status = fields.String(
        metadata={"description": "counted, insufficient_evidence, no_evidence, not_entered, unused"}
    )
    note_ru = fields.String()
    note_en = fields.String()
    audits = fields.Integer()
    earned = fields.Float()
    possible = fields.Float()
    branches = fields.List(fields.Nested(BranchDaysSchema))
    internal = fields.Nested(InternalEntrySchema, allow_none=True)


class GradeRefSchema(ApiSchema):
    """The grade given."""

    code = fields.String()
    label_ru = fields.String()
    label_en = fields.String()


class EvidenceSchema(ApiSchema):
    """One item behind the individual component (never the shopper)."""

    audit_id = fields.Integer()
    visit_date = fields.String()
    branch_id = fields.Integer()
    branch = fields.Nested(SheetBranchSchema)
    staff_role = fields.String()
    item_id = fields.String()
    item_text = fields.String()
    clause = fields.String()
    earned = fields.Float()
    possible = fields.Float()
    photo_ids = fields.List(
        fields.Integer(), metadata={"description": "Evidence photos the viewer may see."}
    )


class ResponseSchema(ApiSchema):
    """An acknowledgement or objection and its answer."""

    id = fields.Integer()
    kind = fields.String()
    comment = fields.String()
    at = fields.DateTime()
    answer = fields.String(allow_none=True)
    answered_by = fields.String(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)
    version = fields.Integer()


class RuleSetRefSchema(ApiSchema):
    """The rule set version a sheet was computed with."""

    id = fields.Integer()
    code = fields.String()
    version = fields.Integer()
    name = fields.String()


class SheetSchema(ApiSchema):
    """An employee's attestation sheet."""

    period = fields.Nested(PeriodRefSchema)
    staff_member = fields.Nested(StaffRefSchema)
    rule_set = fields.Nested(RuleSetRefSchema)
    status = fields.String(metadata={"description": "graded or not_gradable"})
    state = fields.String(
        metadata={"description": "live, pending, acknowledged, objected or answered"}
    )
    points = fields.Float(allow_none=True)
    grade = fields.Nested(GradeRefSchema, allow_none=True)
    external_share = fields.Float(allow_none=True)
    sufficient_evidence = fields.Boolean()
    formula_ru = fields.String()
    formula_en = fields.String()
    components = fields.List(fields.Nested(ComponentSchema))
    evidence = fields.List(fields.Nested(EvidenceSchema))
    audit_ids = fields.List(fields.Integer())
    frozen_at = fields.DateTime(allow_none=True)
    responses = fields.List(fields.Nested(ResponseSchema))


class SheetSummarySchema(ApiSchema):
    """A line of the sheet list."""

    staff_member = fields.Nested(StaffRefSchema)
    status = fields.String()
    points = fields.Float(allow_none=True)
    grade = fields.Nested(GradeRefSchema, allow_none=True)
    sufficient_evidence = fields.Boolean()
    state = fields.String()


class SheetPageSchema(PageMeta):
    """A page of sheet summaries."""

    period = fields.Nested(PeriodRefSchema)
    items = fields.List(fields.Nested(SheetSummarySchema))


class RespondSchema(ApiSchema):
    """An acknowledgement (comment optional) or an objection (comment required)."""

    comment = fields.String(load_default="", validate=_TEXT)


class AnswerSchema(VersionSchema):
    """The answer to an objection."""

    answer = fields.String(required=True, validate=validate.Length(min=1, max=4000))

    @post_load
    def _answer(self, data: dict[str, Any], **_: Any) -> ObjectionAnswer:
        return ObjectionAnswer(**data)


class ObjectionSchema(ResponseSchema):
    """An objection with whose sheet it is about."""

    period_id = fields.Integer()
    staff_member = fields.Nested(StaffRefSchema)


class SheetListArgs(PageArgs):
    """``?branch_id=`` lists only the staff placed in that branch during the period."""

    branch_id = Id()

    @post_load
    def _filters(self, data: dict[str, Any], **_: Any) -> SheetFilters:
        return SheetFilters(**data)


class ObjectionArgs(PageArgs):
    """``?unanswered=true`` lists only those waiting for an answer."""

    unanswered = fields.Boolean(load_default=False)

    @post_load
    def _filters(self, data: dict[str, Any], **_: Any) -> ObjectionFilters:
        return ObjectionFilters(**data)


class ObjectionPageSchema(PageMeta):
    """A page of objections."""

    items = fields.List(fields.Nested(ObjectionSchema))


class InternalScoreCreateSchema(ApiSchema):
    """An internal score (0-100) and why."""

    score = fields.Float(required=True, validate=validate.Range(min=0, max=100))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    request_id = fields.UUID(
        load_default=None,
        metadata={
            "description": "Made by the client once per entry it means to make: a retry with "
            "the same request_id and body returns the stored entry (200), with another body "
            "409 request_id_reused. Without it every POST is a new entry."
        },
    )

    @post_load
    def _entry(self, data: dict[str, Any], **_: Any) -> InternalScoreEntry:
        return InternalScoreEntry(**data)


class InternalScoreSchema(ApiSchema):
    """An entered internal score."""

    id = fields.Integer()
    period_id = fields.Integer()
    staff_member_id = fields.Integer()
    score = fields.Float()
    reason = fields.String()
    entered_by_id = fields.Integer()
    entered_at = fields.DateTime()
    request_id = fields.UUID(allow_none=True)


# Overdue, leaderboards, awards -------------------------------------------------------------


class OverdueSchema(ApiSchema):
    """An active employee not attested in the last year."""

    staff_member = fields.Nested(StaffRefSchema)
    hired_on = fields.Date()
    last_attested_on = fields.Date(allow_none=True)
    due_since = fields.Date()


class OverduePageSchema(PageMeta):
    """A page of overdue employees."""

    items = fields.List(fields.Nested(OverdueSchema))


class LeaderboardArgs(ApiSchema):
    """``?limit=`` entries per board (default 10)."""

    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))


class BoardRegionSchema(ApiSchema):
    """A region named on a board."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class BranchEntrySchema(ApiSchema):
    """A branch on a board: rank among all, the value (mean or change) and audits."""

    rank = fields.Integer()
    branch = fields.Nested(SheetBranchSchema)
    region = fields.Nested(BoardRegionSchema)
    value = fields.Float()
    audits = fields.Integer()


class RegionBoardSchema(ApiSchema):
    """The top branches of one region."""

    region = fields.Nested(BoardRegionSchema)
    branches = fields.List(fields.Nested(BranchEntrySchema))


class EmployeeEntrySchema(ApiSchema):
    """An employee on the board (sufficient evidence only)."""

    rank = fields.Integer()
    staff_member = fields.Nested(StaffRefSchema)
    points = fields.Float()
    grade = fields.Nested(GradeRefSchema, allow_none=True)


class StandardEntrySchema(ApiSchema):
    """A standard most often met."""

    checklist = fields.String()
    item_id = fields.String()
    clause = fields.String()
    audits = fields.Integer()
    pass_rate = fields.Float()


class LeaderboardsSchema(ApiSchema):
    """The leaderboards of a period."""

    period = fields.Nested(PeriodRefSchema)
    top_branches = fields.List(fields.Nested(BranchEntrySchema))
    regions = fields.List(fields.Nested(RegionBoardSchema))
    most_improved = fields.List(fields.Nested(BranchEntrySchema))
    top_employees = fields.List(fields.Nested(EmployeeEntrySchema))
    standards = fields.List(fields.Nested(StandardEntrySchema))


class AwardCreateSchema(ApiSchema):
    """An award: for a branch (``branch_id``) or an employee (``staff_member_id``)."""

    kind = fields.String(required=True, validate=validate.OneOf(AWARD_KINDS))
    title = fields.String(required=True, validate=_NAME)
    note = fields.String(load_default="", validate=_TEXT)
    branch_id = Id(load_default=None)
    staff_member_id = Id(load_default=None)


class AwardSchema(ApiSchema):
    """An award given."""

    id = fields.Integer()
    period_id = fields.Integer()
    kind = fields.String()
    branch_id = fields.Integer(allow_none=True)
    staff_member_id = fields.Integer(allow_none=True)
    title = fields.String()
    note = fields.String()
    awarded_at = fields.DateTime()


class AwardListSchema(ApiSchema):
    """A period's awards."""

    items = fields.List(fields.Nested(AwardSchema))
