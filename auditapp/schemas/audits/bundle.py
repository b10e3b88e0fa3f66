"""The shopper's offline bundle."""

from __future__ import annotations

from marshmallow import fields

from auditapp.schemas.audits.checklists import ChecklistDefinitionSchema
from auditapp.schemas.audits.submission import AnyValue
from auditapp.schemas.common import ApiSchema


class BundleStaffSchema(ApiSchema):
    """A staff member of the branch, to pick who served the shopper."""

    id = fields.Integer(required=True)
    full_name = fields.String(required=True)
    position = fields.String(required=True)


class BundleBranchSchema(ApiSchema):
    """The branch to visit, with its current staff."""

    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    city = fields.String(required=True)
    address = fields.String(required=True)
    timezone = fields.String(required=True)
    staff = fields.List(fields.Nested(BundleStaffSchema), required=True)


class BundleAuditSchema(ApiSchema):
    """The report already started (or returned by QA) for an assignment."""

    client_uuid = fields.UUID(required=True)
    status = fields.String(required=True)
    answers = fields.Dict(keys=fields.String(), values=AnyValue(allow_none=True), required=True)
    comment = fields.String(required=True)
    review_comment = fields.String(required=True)
    version = fields.Integer(required=True)


class BundleAssignmentSchema(ApiSchema):
    """An open assignment with everything needed to do it offline."""

    id = fields.Integer(required=True)
    wave_id = fields.Integer(required=True)
    checklist_version_id = fields.Integer(required=True)
    window_start = fields.Date(required=True)
    window_end = fields.Date(required=True)
    day_part = fields.String(required=True, allow_none=True)
    due_at = fields.DateTime(required=True)
    branch = fields.Nested(BundleBranchSchema, required=True)
    audit = fields.Nested(BundleAuditSchema, required=True, allow_none=True)


class BundleSchema(ApiSchema):
    """The shopper's offline bundle: open assignments (branch, staff, report so far) and the
    definitions of their checklists, by checklist version id."""

    assignments = fields.List(fields.Nested(BundleAssignmentSchema), required=True)
    checklists = fields.Dict(
        keys=fields.String(metadata={"description": "checklist_version_id"}),
        values=fields.Nested(ChecklistDefinitionSchema),
        required=True,
    )
