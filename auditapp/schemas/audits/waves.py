"""Request and response shapes of waves, assignments and their distribution."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from auditapp.domain.vocabulary import DAY_PARTS
from auditapp.schemas.common import ApiSchema, Id, PageArgs, PageMeta
from auditapp.services.waves import AssignmentFilters, NewAssignment, WavePlan


class WaveSchema(ApiSchema):
    """A wave of visits."""

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    checklist_version_id = Id(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    visits_per_branch = fields.Integer(load_default=1, validate=validate.Range(min=1, max=31))
    day_parts = fields.List(fields.String(validate=validate.OneOf(DAY_PARTS)), load_default=list)
    branch_ids = fields.List(Id(), required=True, validate=validate.Length(min=1))
    created_at = fields.DateTime(dump_only=True)

    @validates_schema
    def _dates(self, data: dict[str, Any], **_: Any) -> None:
        if data["ends_on"] < data["starts_on"]:
            raise ValidationError("Must not be before starts_on.", "ends_on")

    @post_load
    def _plan(self, data: dict[str, Any], **_: Any) -> WavePlan:
        return WavePlan(**data)


class WaveOutSchema(WaveSchema):
    """A wave as returned (branch ids from the relation)."""

    branch_ids = fields.Method("_branch_ids")  # type: ignore[assignment]

    def _branch_ids(self, wave: Any) -> list[int]:
        return [b.id for b in wave.branches]


class WavePageSchema(PageMeta):
    """A page of waves."""

    items = fields.List(fields.Nested(WaveOutSchema))


class AssignmentCreateSchema(ApiSchema):
    """A hand-made assignment."""

    branch_id = Id(required=True)
    shopper_id = Id(required=True)
    window_start = fields.Date(required=True)
    window_end = fields.Date(required=True)
    day_part = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(DAY_PARTS))

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> NewAssignment:
        return NewAssignment(**data)


class DistributeSchema(ApiSchema):
    """Distribute the wave's remaining visits among these shoppers."""

    shopper_ids = fields.List(Id(), required=True, validate=validate.Length(min=1))


class AssignmentSchema(ApiSchema):
    """An assignment (shopper + branch + window)."""

    id = fields.Integer()
    wave_id = Id()
    branch_id = Id()
    branch_code = fields.Function(lambda a: a.branch.code)
    shopper_id = Id()
    window_start = fields.Date()
    window_end = fields.Date()
    day_part = fields.String(allow_none=True)
    due_at = fields.DateTime()
    audit_status = fields.Function(lambda a: a.audit.status if a.audit else "assigned")


class SlotSchema(ApiSchema):
    """A visit the distribution could not give to anyone."""

    branch_id = Id()
    visit_number = fields.Integer()
    window_start = fields.Date()
    window_end = fields.Date()
    day_part = fields.String(allow_none=True)


class DistributionSchema(ApiSchema):
    """What the distribution made."""

    created = fields.List(fields.Nested(AssignmentSchema))
    unfilled = fields.List(fields.Nested(SlotSchema))


class AssignmentQuery(PageArgs):
    """Filters for assignments."""

    wave_id = Id()
    branch_id = Id()
    shopper_id = Id()

    @post_load
    def _filters(self, data: dict[str, Any], **_: Any) -> AssignmentFilters:
        return AssignmentFilters(**data)


class AssignmentPageSchema(PageMeta):
    """A page of assignments."""

    items = fields.List(fields.Nested(AssignmentSchema))
