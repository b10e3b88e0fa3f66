"""Query parameters of the reports: the document's language, and the export filters."""

from __future__ import annotations

from marshmallow import fields, validate

from auditapp.schemas.audits import AuditQuery
from auditapp.schemas.common import ApiSchema
from auditapp.schemas.ratings import RatingArgs

_LANG = {
    "description": "Language of the document: ru or en (default: the best of Accept-Language, "
    "else ru)"
}


class ReportArgs(ApiSchema):
    """A document's language."""

    lang = fields.String(validate=validate.OneOf(("ru", "en")), metadata=_LANG)


class ScorecardArgs(RatingArgs):
    """A period, the rating filters, the decline rule and the language."""

    lang = fields.String(validate=validate.OneOf(("ru", "en")), metadata=_LANG)
    decline_window = fields.Integer(
        validate=validate.Range(min=1, max=24),
        metadata={"description": "Trailing months averaged for the decline alert (default 6)"},
    )
    decline_points = fields.Float(
        validate=validate.Range(min=0, max=100),
        metadata={"description": "Alert when the last month is more than this below"},
    )


class ExportArgs(ApiSchema):
    """The audit list's filters (an export has every matching row, not a page), the file
    format and the language of the headers."""

    branch_id = AuditQuery._declared_fields["branch_id"]
    wave_id = AuditQuery._declared_fields["wave_id"]
    checklist_version_id = AuditQuery._declared_fields["checklist_version_id"]
    status = AuditQuery._declared_fields["status"]

    format = fields.String(
        load_default="csv",
        validate=validate.OneOf(("csv", "xlsx")),
        metadata={"description": "csv (UTF-8 with BOM, streamed) or xlsx"},
    )
    lang = fields.String(validate=validate.OneOf(("ru", "en")), metadata=_LANG)


class ComparisonJobArgs(RatingArgs):
    """A comparison to build: the network, or one region (``region_id``), for a period."""

    lang = fields.String(validate=validate.OneOf(("ru", "en")), metadata=_LANG)


class ReportJobSchema(ApiSchema):
    """A report job: queued, running, ready (fetch ``file_url``), failed (``error``) or expired
    (its file was deleted after the retention period)."""

    id = fields.UUID()
    kind = fields.String()
    status = fields.String(
        validate=validate.OneOf(("queued", "running", "ready", "failed", "expired"))
    )
    error = fields.String()
    filename = fields.String()
    byte_size = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    file_url = fields.Function(
        lambda job: f"/api/v1/reports/jobs/{job.id}/file" if job.status == "ready" else None,
        allow_none=True,
    )


class RatingExportArgs(RatingArgs):
    """A period, the ranking's filters, the file format and the language of the headers."""

    format = fields.String(
        load_default="csv",
        validate=validate.OneOf(("csv", "xlsx")),
        metadata={"description": "csv (UTF-8 with BOM) or xlsx"},
    )
    lang = fields.String(validate=validate.OneOf(("ru", "en")), metadata=_LANG)


class BundleJobArgs(ApiSchema):
    """The branch whose staff's attestation sheets go into one PDF, and its language."""

    branch_id = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "The branch (staff placed in it during the period)"},
    )
    lang = fields.String(validate=validate.OneOf(("ru", "en")), metadata=_LANG)


class AttestationExportArgs(ApiSchema):
    """A period's attestation results as a file: the filters, the format and the language."""

    period_id = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "The attestation period"},
    )
    branch_id = fields.Integer(
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "Only staff placed in this branch during the period"},
    )
    status = fields.String(
        validate=validate.OneOf(("graded", "not_gradable")),
        metadata={"description": "Only sheets with this status"},
    )
    format = fields.String(
        load_default="csv",
        validate=validate.OneOf(("csv", "xlsx")),
        metadata={"description": "csv (UTF-8 with BOM, streamed) or xlsx"},
    )
    lang = fields.String(validate=validate.OneOf(("ru", "en")), metadata=_LANG)
