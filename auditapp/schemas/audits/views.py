"""An audit as returned, in two views: ``AuditSchema`` for HQ and the shopper themself, and
``BranchAuditSchema`` for managers, directors and employees, which never carries the shopper's
identity, the device's location or photo originals. What each reader sees is decided by
``auditapp/visibility.py``; these name only the shapes."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_load, validate

from auditapp.domain.vocabulary import AUDIT_STATUSES
from auditapp.schemas.audits.disputes import DisputeSchema
from auditapp.schemas.audits.photos import PhotoQASchema, PhotoSchema
from auditapp.schemas.audits.submission import StaffServedSchema
from auditapp.schemas.common import ApiSchema, Id, PageArgs, PageMeta
from auditapp.services.audits import AuditFilters


class HistorySchema(ApiSchema):
    """One change after submission."""

    at = fields.DateTime()
    actor_role = fields.String()
    action = fields.String()
    field = fields.String(allow_none=True)
    old_value = fields.Raw(allow_none=True)
    new_value = fields.Raw(allow_none=True)
    reason = fields.String()


class HistoryQASchema(HistorySchema):
    """History with who did it (HQ only)."""

    actor_id = Id(allow_none=True)


class FlagSchema(ApiSchema):
    """A red flag for the reviewer."""

    code = fields.String()
    message = fields.String()


class BranchAuditSchema(ApiSchema):
    """An audit as the branch side sees it: no shopper identity, no device location."""

    id = fields.Integer()
    status = fields.String()
    branch_id = Id()
    branch_code = fields.Function(lambda a: a.branch.code)
    checklist_version_id = Id()
    checklist_slug = fields.Function(lambda a: a.checklist_version.slug)
    checklist_version = fields.Function(lambda a: a.checklist_version.version)
    channel = fields.String()
    visit_started_at = fields.DateTime(allow_none=True)
    visit_ended_at = fields.DateTime(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    released_at = fields.DateTime(allow_none=True)
    score = fields.Float(allow_none=True)
    score_detail = fields.Dict(allow_none=True)
    answers = fields.Dict()
    comment = fields.String()
    version = Id()


class BranchAuditDetailSchema(BranchAuditSchema):
    """One audit, branch side, with its photos, staff served, disputes and history."""

    # Which photos and history entries the branch sees is decided by auditapp/visibility.py;
    # the view object it builds holds only those.
    photos = fields.List(fields.Nested(PhotoSchema))
    staff_served = fields.List(fields.Nested(StaffServedSchema))
    disputes = fields.List(fields.Nested(DisputeSchema))
    history = fields.List(fields.Nested(HistorySchema))


class AuditSchema(BranchAuditSchema):
    """An audit as HQ and its own shopper see it."""

    client_uuid = fields.UUID()
    assignment_id = Id()
    shopper_id = Id()
    shopper_name = fields.Function(lambda a: a.shopper.display_name)
    first_submitted_at = fields.DateTime(allow_none=True)
    device_submitted_at = fields.DateTime(allow_none=True)
    geo_lat = fields.Float(allow_none=True)
    geo_lon = fields.Float(allow_none=True)
    geo_accuracy_m = fields.Float(allow_none=True)
    review_comment = fields.String()
    reviewed_at = fields.DateTime(allow_none=True)


class AuditDetailSchema(AuditSchema):
    """One audit, HQ side (or the shopper's own), with everything behind it; red flags and
    photo metadata are QA's only (absent for the shopper)."""

    photos = fields.List(fields.Nested(PhotoQASchema))
    staff_served = fields.List(fields.Nested(StaffServedSchema))
    disputes = fields.List(fields.Nested(DisputeSchema))
    history = fields.List(fields.Nested(HistoryQASchema))
    flags = fields.List(fields.Nested(FlagSchema))


class AuditQuery(PageArgs):
    """Filters for audits."""

    branch_id = Id()
    wave_id = Id()
    checklist_version_id = Id()
    status = fields.String(validate=validate.OneOf(AUDIT_STATUSES))

    @post_load
    def _filters(self, data: dict[str, Any], **_: Any) -> AuditFilters:
        return AuditFilters(**data)


class AuditPageSchema(PageMeta):
    """A page of audits (HQ view)."""

    items = fields.List(fields.Nested(AuditSchema))


class BranchAuditPageSchema(PageMeta):
    """A page of audits (branch view)."""

    items = fields.List(fields.Nested(BranchAuditSchema))


class QueueEntrySchema(AuditSchema):
    """A submitted audit in the review queue, with its red flags."""

    flags = fields.List(fields.Nested(FlagSchema))


class QueuePageSchema(PageMeta):
    """The review queue."""

    items = fields.List(fields.Nested(QueueEntrySchema))
