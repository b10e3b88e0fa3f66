"""Request and response shapes for waves, assignments, audits, photos, review and disputes.

Two views of an audit: ``AuditSchema`` for HQ and the shopper themself, and
``BranchAuditSchema`` for managers, directors and employees, which never carries the shopper's
identity, the device's location or photo originals.
"""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import ValidationError, fields, validate, validates_schema

from auditapp.domain.checklist import CHANNELS, ITEM_TYPES, PHOTO_RULES, STAGES
from auditapp.domain.vocabulary import AUDIT_STATUSES, DAY_PARTS
from auditapp.schemas.common import ApiSchema, Id, PageArgs, PageMeta


class AnyValue(fields.Raw):
    """An answer: true/false, a number, an option id, a comment, or null for N/A."""


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


class AssignmentPageSchema(PageMeta):
    """A page of assignments."""

    items = fields.List(fields.Nested(AssignmentSchema))


class DraftSchema(ApiSchema):
    """Partial answers saved as the shopper goes."""

    assignment_id = Id(required=True)
    answers = fields.Dict(keys=fields.String(), values=AnyValue(allow_none=True), load_default=dict)
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    visit_started_at = fields.AwareDateTime(load_default=None, allow_none=True)
    visit_ended_at = fields.AwareDateTime(load_default=None, allow_none=True)


class GeoSchema(ApiSchema):
    """Where the device was (optional; for QA only)."""

    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    accuracy_m = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0))


class StaffServedSchema(ApiSchema):
    """Who served the shopper in a staff role: picked from the list, or described."""

    staff_role = fields.String(required=True, validate=validate.Length(min=1, max=60))
    staff_member_id = Id(load_default=None, allow_none=True)
    description = fields.String(load_default="", validate=validate.Length(max=500))
    staff_member_name = fields.Function(
        lambda s: s.staff_member.full_name if s.staff_member else None, dump_only=True
    )


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


class PhotoFile(Upload):
    """The ``file`` part of a multipart upload (documented as binary)."""

    default_error_messages = {"required": "Send the photo as multipart field 'file'."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not hasattr(value, "read"):
            raise ValidationError("Send the photo as a file part, not as a text field.")
        return value


class PhotoUploadSchema(ApiSchema):
    """A photo file and the form fields that come with it (multipart/form-data)."""

    file = PhotoFile(required=True, metadata={"description": "JPEG, PNG, WebP or HEIC"})
    assignment_id = Id(required=True)
    item_id = fields.String(required=True, validate=validate.Length(min=1, max=80))
    photo_uuid = fields.UUID(required=True)


class DisputePhotoUploadSchema(ApiSchema):
    """A manager's dispute photo and its form fields (multipart/form-data)."""

    file = PhotoFile(required=True, metadata={"description": "JPEG, PNG, WebP or HEIC"})
    item_id = fields.String(required=True, validate=validate.Length(min=1, max=80))
    photo_uuid = fields.UUID(required=True)


class PhotoSchema(ApiSchema):
    """A photo as everyone may see it (no EXIF data, no file names).

    Photo schemas dump a ``visibility.PhotoView``: a field the reader may not see is absent.
    """

    id = fields.Integer()
    item_id = fields.String()
    purpose = fields.String()
    status = fields.String(metadata={"description": "processing, ready or failed"})
    width = fields.Integer()
    height = fields.Integer()
    error = fields.String(allow_none=True)


class PhotoQASchema(PhotoSchema):
    """A photo with what only QA sees: capture time, GPS, the reuse verdict. The shopper gets
    the receipt of their own uploads (photo id, hash, format, size, times) and nothing else of
    these; see the role table in docs/security.md."""

    client_uuid = fields.UUID()
    sha256 = fields.String()
    format = fields.String()
    byte_size = fields.Integer()
    captured_at = fields.DateTime(allow_none=True)
    gps_lat = fields.Float(allow_none=True)
    gps_lon = fields.Float(allow_none=True)
    reuse_kind = fields.String(allow_none=True)
    reused_from_photo_id = Id(allow_none=True)
    uploaded_at = fields.DateTime()
    withdrawn_at = fields.DateTime(allow_none=True)


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


class DisputeSchema(ApiSchema):
    """A dispute of one item."""

    id = fields.Integer()
    audit_id = Id()
    item_id = fields.String()
    status = fields.String()
    reason = fields.String()
    requested_value = fields.Raw(allow_none=True)
    photo_id = Id(allow_none=True)
    raised_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    resolution = fields.String()


class DisputeCreateSchema(ApiSchema):
    """A manager's dispute."""

    item_id = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=3, max=5000))
    requested_value = AnyValue(allow_none=True)
    photo_uuid = fields.UUID(load_default=None, allow_none=True)
    version = Id(
        required=True,
        metadata={"description": "The audit version you looked at (409 if it changed since)"},
    )


class DisputeQuery(PageArgs):
    """Which disputes to list."""

    status = fields.String(
        load_default="open",
        validate=validate.OneOf(("open", "upheld", "rejected", "any")),
        metadata={"description": "open (default), upheld, rejected or any"},
    )
    branch_id = Id()


class DisputeResolveSchema(ApiSchema):
    """The reviewer's decision on a dispute."""

    decision = fields.String(required=True, validate=validate.OneOf(("uphold", "reject")))
    reason = fields.String(required=True, validate=validate.Length(min=3, max=5000))
    new_value = AnyValue(allow_none=True)
    version = Id(
        required=True,
        metadata={"description": "The audit version you looked at (409 if it changed since)"},
    )


class ReviewSchema(ApiSchema):
    """approve / return / reject."""

    comment = fields.String(load_default="", validate=validate.Length(max=5000))
    version = Id(required=True, metadata={"description": "The version you reviewed"})


class ReleaseSchema(ApiSchema):
    """Release an approved audit."""

    version = Id(
        required=True,
        metadata={"description": "The audit version you approved (409 if it changed since)"},
    )


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


class DisputePageSchema(PageMeta):
    """Open disputes."""

    items = fields.List(fields.Nested(DisputeSchema))


class ReleaseWaveResultSchema(ApiSchema):
    """How many audits a wave release released."""

    released = fields.Integer()


def _text(**kwargs: Any) -> fields.Dict:
    """A text in several languages: ``{"ru": ..., "en": ...}`` (``"*"``: any language)."""
    return fields.Dict(keys=fields.String(), values=fields.String(), **kwargs)


class ChecklistBandSchema(ApiSchema):
    """A band of a number item: answers up to ``upto`` earn ``score`` (the last has no upto)."""

    upto = fields.Float()
    score = fields.Float(required=True)


class ChecklistOptionSchema(ApiSchema):
    """An option of a choice item."""

    id = fields.String(required=True)
    label = _text(required=True)
    score = fields.Float(required=True)


class ChecklistItemSchema(ApiSchema):
    """An item as the phone shows and checks it (docs/checklists.md)."""

    id = fields.String(required=True)
    clause = fields.String(required=True)
    text = _text(required=True)
    guidance = _text()
    type = fields.String(required=True, validate=validate.OneOf(ITEM_TYPES))
    weight = fields.Float(required=True)
    na = fields.Boolean(required=True)
    critical = fields.Boolean(required=True)
    photo = fields.String(required=True, validate=validate.OneOf(PHOTO_RULES))
    staff_role = fields.String()
    min = fields.Integer(metadata={"description": "scale items"})
    max = fields.Integer(metadata={"description": "scale items"})
    unit = _text(metadata={"description": "number items"})
    bands = fields.List(fields.Nested(ChecklistBandSchema), metadata={"description": "number"})
    options = fields.List(fields.Nested(ChecklistOptionSchema), metadata={"description": "choice"})


class ChecklistSectionSchema(ApiSchema):
    """A section of a checklist."""

    id = fields.String(required=True)
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    title = _text(required=True)
    items = fields.List(fields.Nested(ChecklistItemSchema), required=True)


class ChecklistStandardSchema(ApiSchema):
    """The service standard a checklist implements."""

    code = fields.String(required=True)
    title = _text(required=True)


class ChecklistDefinitionSchema(ApiSchema):
    """A checklist version's full definition: the YAML format with every default spelled out."""

    checklist = fields.String(required=True, metadata={"description": "The slug"})
    version = fields.Integer(required=True)
    title = _text(required=True)
    standard = fields.Nested(ChecklistStandardSchema, required=True)
    applies_to = fields.List(fields.String(), required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    critical_rule = fields.String(
        required=True, metadata={"description": "zero_audit, zero_section or cap_N"}
    )
    staff_roles = fields.List(fields.String(), required=True)
    sections = fields.List(fields.Nested(ChecklistSectionSchema), required=True)


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


class ChecklistVersionSchema(ApiSchema):
    """A stored checklist version."""

    id = fields.Integer()
    slug = fields.String()
    version = Id()
    title = fields.Dict()
    standard_code = fields.String()
    channel = fields.String()
    applies_to = fields.List(fields.String())
    content_hash = fields.String()
    imported_at = fields.DateTime()


class ChecklistVersionDetailSchema(ChecklistVersionSchema):
    """A checklist version with its full definition."""

    definition = fields.Nested(ChecklistDefinitionSchema)


class ChecklistQuery(PageArgs):
    """Filters for checklist versions."""

    slug = fields.String()


class ChecklistPageSchema(PageMeta):
    """A page of checklist versions."""

    items = fields.List(fields.Nested(ChecklistVersionSchema))


class ChecklistImportSchema(ApiSchema):
    """A checklist YAML file's text."""

    yaml = fields.String(required=True, validate=validate.Length(min=1, max=2_000_000))
    filename = fields.String(load_default="checklist.yaml")


class ChecklistImportResultSchema(ApiSchema):
    """What an import did."""

    id = fields.Integer()
    slug = fields.String()
    version = Id()
    action = fields.String()


class ChecklistValidationSchema(ApiSchema):
    """A valid checklist file, and what importing it would do."""

    slug = fields.String()
    version = fields.Integer()
    title = fields.Dict(keys=fields.String(), values=fields.String())
    sections = fields.Integer()
    items = fields.Integer()
    would = fields.String(
        validate=validate.OneOf(["create", "update", "unchanged", "refuse"]),
        metadata={
            "description": "create, update (an unused version), unchanged, or refuse (the "
            "version is used and the file differs: give it the next version number)"
        },
    )
