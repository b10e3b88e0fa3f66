"""Reports: the audit report, branch scorecard and attestation sheet PDFs, report jobs (the
region / network comparison, a branch's bundle of sheets), streamed CSV/XLSX exports of audits,
answers, ratings and attestation results, and a ZIP of an audit's display photos.

Each endpoint is scoped exactly like the data it renders (the services call ``access`` and
``visibility``): out of scope is 404, as for the JSON reads.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, request, stream_with_context
from flask_login import current_user

from auditapp.api import Blueprint, in_transaction, require
from auditapp.api.attestation import READERS as SHEET_SCOPED_READERS
from auditapp.api.attestation import SHEET_READERS
from auditapp.api.ratings import READERS as RATING_READERS
from auditapp.api.ratings import _filters, _options
from auditapp.schemas.common import ErrorSchema
from auditapp.schemas.reports import (
    AttestationExportArgs,
    BundleJobArgs,
    ComparisonJobArgs,
    ExportArgs,
    RatingExportArgs,
    ReportArgs,
    ReportJobSchema,
    ScorecardArgs,
)
from auditapp.services import exports as export_service
from auditapp.services import report_jobs as job_service
from auditapp.services import reports as service

blp = Blueprint("reports", __name__, description="PDF reports, exports and photo archives")

COMPARERS = ("admin", "reviewer", "director")
# Whoever may ask for a report job (each kind has its own route and roles) reads their jobs.
JOB_OWNERS = (*COMPARERS, "manager")
AUDIT_READERS = ("admin", "reviewer", "director", "manager", "shopper", "employee")
EXPORTERS = ("admin", "reviewer", "director", "manager")

_BINARY = {"type": "string", "format": "binary"}


def _binary(description: str, *media_types: str) -> dict[str, Any]:
    """An OpenAPI 200 answering with a file of one of ``media_types``."""
    return {
        "200": {
            "description": description,
            "headers": {
                "Content-Disposition": {
                    "description": "attachment; filename=... (the file's name)",
                    "schema": {"type": "string"},
                }
            },
            "content": {media_type: {"schema": _BINARY} for media_type in media_types},
        }
    }


def _attachment(body: Any, media_type: str, filename: str) -> Response:
    """A file download: ``Content-Disposition: attachment`` with the file's name, not cached
    by shared caches (the content depends on who asks)."""
    response = Response(body, mimetype=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _lang(args: dict[str, Any]) -> str:
    return service.language(args.get("lang"), request.headers.get("Accept-Language"))


@blp.route("/audits/<int:audit_id>/report.pdf")
@require(*AUDIT_READERS)
@blp.arguments(ReportArgs, location="query")
@blp.response(200, description="The audit report (PDF)", content_type="application/pdf")
@blp.doc(responses=_binary("The audit report (PDF)", "application/pdf"))
def audit_report(args: dict[str, Any], audit_id: int) -> Response:
    """The audit report as a PDF, for whoever may read the audit (``GET /audits/{id}``), built
    from the same redacted view: the branch side's report never names the shopper."""
    document = service.audit_report(current_user, audit_id, _lang(args))
    return _attachment(document.content, document.media_type, document.filename)


@blp.route("/ratings/branches/<int:branch_id>/scorecard.pdf")
@require(*RATING_READERS)
@blp.arguments(ScorecardArgs, location="query")
@blp.response(200, description="The branch scorecard (PDF)", content_type="application/pdf")
@blp.doc(responses=_binary("The branch scorecard (PDF)", "application/pdf"))
def branch_scorecard(args: dict[str, Any], branch_id: int) -> Response:
    """A branch's scorecard for a period: rating with its interval and rank range, trend,
    stage and section bars, weakest standards, ranks, decline alert. Scoped like the branch
    rating; employees, who may read only their branch's rating, get no scorecard (it holds
    the trend and the standards, which are the managers')."""
    document = service.branch_scorecard(
        current_user, branch_id, args["period"], _filters(args), _options(args), _lang(args)
    )
    return _attachment(document.content, document.media_type, document.filename)


def _streamed(export: export_service.Export) -> Response:
    """A streamed download; the rows are read while it is sent, in the request's context."""
    return _attachment(stream_with_context(export.chunks), export.media_type, export.filename)


@blp.route("/exports/<any(audits, answers):kind>")
@in_transaction
@require(*EXPORTERS)
@blp.arguments(ExportArgs, location="query")
@blp.response(200, description="The export (CSV or XLSX)", content_type="text/csv")
@blp.doc(
    responses=_binary(
        "The export: CSV (UTF-8 with BOM, streamed) or XLSX, by ``format``",
        "text/csv",
        export_service.XLSX_TYPE,
    )
)
def export(args: dict[str, Any], kind: str) -> Response:
    """Every audit (``audits``: one row per audit) or every answer (``answers``: one row per
    answer with checklist, version, clause, section and stage) in the caller's scope, filtered
    like ``GET /audits``. Managers and directors get no shopper column."""
    filters = export_service.AuditFilters(
        branch_id=args.get("branch_id"),
        wave_id=args.get("wave_id"),
        checklist_version_id=args.get("checklist_version_id"),
        status=args.get("status"),
    )
    return _streamed(
        export_service.export(current_user, kind, filters, args["format"], _lang(args))
    )


@blp.route("/audits/<int:audit_id>/photos.zip")
@require(*AUDIT_READERS)
@blp.response(200, description="The audit's display photos (ZIP)", content_type="application/zip")
@blp.doc(responses=_binary("The audit's display photos (ZIP)", export_service.ZIP_TYPE))
def photo_archive(audit_id: int) -> Response:
    """A ZIP of the display copies of the audit's photos the caller may see (scoped like
    ``GET /audits/{id}``; no originals, no EXIF)."""
    return _streamed(export_service.photo_archive(current_user, audit_id))


@blp.route("/ratings/comparison-jobs", methods=["POST"])
@require(*COMPARERS)
@blp.arguments(ComparisonJobArgs)
@blp.response(202, ReportJobSchema)
def request_comparison(args: dict[str, Any]) -> Any:
    """Ask for the comparison PDF of a region (``region_id``) or of the network: the spread,
    the ranking of every branch in scope, the branch x section heat-map, the trend. Built in
    the background; poll ``GET /reports/jobs/{id}`` and fetch its ``file_url`` when ready."""
    return job_service.request_comparison(
        current_user,
        args.get("region_id"),
        args["period"],
        _filters(args),
        _options(args),
        _lang(args),
    )


@blp.route("/reports/jobs/<uuid:job_id>")
@require(*JOB_OWNERS)
@blp.response(200, ReportJobSchema)
def report_job(job_id: uuid.UUID) -> Any:
    """One of the caller's report jobs (another user's job is 404)."""
    return job_service.get_job(current_user, job_id)


@blp.route("/reports/jobs/<uuid:job_id>/file")
@require(*JOB_OWNERS)
@blp.response(200, description="The finished document (PDF)", content_type="application/pdf")
@blp.doc(responses=_binary("The finished document (PDF)", "application/pdf"))
@blp.alt_response(409, schema=ErrorSchema, description="``report_not_ready`` or ``report_failed``")
@blp.alt_response(
    410,
    schema=ErrorSchema,
    description="``report_expired``: deleted after REPORTS_KEEP_DAYS; ask for it again",
)
def report_job_file(job_id: uuid.UUID) -> Response:
    """The finished document of one of the caller's jobs (409 ``report_not_ready`` before,
    410 ``report_expired`` once deleted after the retention period)."""
    content, filename = job_service.job_file(current_user, job_id)
    return _attachment(content, "application/pdf", filename)


@blp.route("/exports/ratings")
@require(*RATING_READERS)
@blp.arguments(RatingExportArgs, location="query")
@blp.response(200, description="The ranking export (CSV or XLSX)", content_type="text/csv")
@blp.doc(
    responses=_binary(
        "The branch ranking: CSV (UTF-8 with BOM) or XLSX, by ``format``",
        "text/csv",
        export_service.XLSX_TYPE,
    )
)
def export_ratings(args: dict[str, Any]) -> Response:
    """The branch ranking for a period as a file: the caller's branches (a manager's, a
    director's region, all for HQ), each placed among all, as ``GET /ratings/rankings/branches``
    but every page."""
    return _streamed(
        export_service.export_ratings(
            current_user,
            args["period"],
            _filters(args),
            _options(args),
            args["format"],
            _lang(args),
        )
    )


@blp.route("/attestation/periods/<int:period_id>/sheets/<int:staff_id>/sheet.pdf")
@require(*SHEET_READERS)
@blp.arguments(ReportArgs, location="query")
@blp.response(200, description="The attestation sheet (PDF)", content_type="application/pdf")
@blp.doc(responses=_binary("The attestation sheet (PDF)", "application/pdf"))
def attestation_sheet(args: dict[str, Any], period_id: int, staff_id: int) -> Response:
    """One employee's attestation sheet as a PDF, for whoever may read the sheet (``GET
    /attestation/periods/{id}/sheets/{staff_id}``: an employee their own, a manager their
    branches' staff, a director their regions', HQ all; else 404). It never names a shopper."""
    document = service.attestation_sheet(current_user, period_id, staff_id, _lang(args))
    return _attachment(document.content, document.media_type, document.filename)


@blp.route("/attestation/periods/<int:period_id>/bundle-jobs", methods=["POST"])
@require(*SHEET_SCOPED_READERS)
@blp.arguments(BundleJobArgs)
@blp.response(202, ReportJobSchema)
def request_bundle(args: dict[str, Any], period_id: int) -> Any:
    """Ask for every attestation sheet of a branch's staff for the period in one PDF (a
    summary, then each sheet). Built in the background; poll ``GET /reports/jobs/{id}`` and
    fetch its ``file_url`` when ready. A branch out of the caller's scope is 404."""
    return job_service.request_bundle(current_user, period_id, args["branch_id"], _lang(args))


@blp.route("/exports/attestation")
@require(*EXPORTERS)
@blp.arguments(AttestationExportArgs, location="query")
@blp.response(200, description="Attestation results (CSV or XLSX)", content_type="text/csv")
@blp.doc(
    responses=_binary(
        "Attestation results, one row per employee: CSV (UTF-8 with BOM) or XLSX, by ``format``",
        "text/csv",
        export_service.XLSX_TYPE,
    )
)
def export_attestation(args: dict[str, Any]) -> Response:
    """A period's attestation results, one row per employee (points, grade, state, each
    component's weight, weight used, score and status), for the sheets the caller may read,
    optionally of one branch's staff (``branch_id``) and one ``status``."""
    return _streamed(
        export_service.export_attestation(
            current_user,
            args["period_id"],
            args.get("branch_id"),
            args.get("status"),
            args["format"],
            _lang(args),
        )
    )
