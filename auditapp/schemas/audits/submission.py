"""What the shopper sends: drafts and the complete report (answers, visit times, where the
device was, who served)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_load, validate

from auditapp.schemas.common import ApiSchema, Id
from auditapp.services.audits import Draft, Geo, StaffServed, Submission


class AnyValue(fields.Raw):
    """An answer: true/false, a number, an option id, a comment, or null for N/A."""


class DraftSchema(ApiSchema):
    """Partial answers saved as the shopper goes."""

    assignment_id = Id(required=True)
    answers = fields.Dict(keys=fields.String(), values=AnyValue(allow_none=True), load_default=dict)
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    visit_started_at = fields.AwareDateTime(load_default=None, allow_none=True)
    visit_ended_at = fields.AwareDateTime(load_default=None, allow_none=True)

    @post_load
    def _draft(self, data: dict[str, Any], **_: Any) -> Draft:
        return Draft(**data)


class GeoSchema(ApiSchema):
    """Where the device was (optional; for QA only)."""

    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    accuracy_m = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0))

    @post_load
    def _geo(self, data: dict[str, Any], **_: Any) -> Geo:
        return Geo(**data)


class StaffServedSchema(ApiSchema):
    """Who served the shopper in a staff role: picked from the list, or described."""

    staff_role = fields.String(required=True, validate=validate.Length(min=1, max=60))
    staff_member_id = Id(load_default=None, allow_none=True)
    description = fields.String(load_default="", validate=validate.Length(max=500))
    staff_member_name = fields.Function(
        lambda s: s.staff_member.full_name if s.staff_member else None, dump_only=True
    )

    @post_load
    def _staff(self, data: dict[str, Any], **_: Any) -> StaffServed:
        return StaffServed(**data)


class SubmitSchema(ApiSchema):
    """The complete report of a visit."""

    assignment_id = Id(required=True)
    answers = fields.Dict(keys=fields.String(), values=AnyValue(allow_none=True), required=True)
    comment = fields.String(load_default="", validate=validate.Length(max=5000))
    visit_started_at = fields.AwareDateTime(required=True)
    visit_ended_at = fields.AwareDateTime(required=True)
    device_submitted_at = fields.AwareDateTime(load_default=None, allow_none=True)
    geo = fields.Nested(GeoSchema, load_default=None, allow_none=True)
    staff = fields.List(fields.Nested(StaffServedSchema), load_default=list)

    @post_load
    def _submission(self, data: dict[str, Any], **_: Any) -> Submission:
        return Submission(**data)
