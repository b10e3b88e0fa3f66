"""Waves, assignments, the shopper's bundle, drafts, submission, photos, review and disputes.

Views parse with a schema, call a service, dump. Which view of an audit a caller gets depends on
the role: the branch side never sees who the shopper was.
"""

from __future__ import annotations

import io
import uuid
from typing import TYPE_CHECKING, Any

from flask import Response, jsonify, request, send_file
from flask_login import current_user

from auditapp import access, visibility
from auditapp.api import Blueprint, require
from auditapp.domain.vocabulary import HQ_ROLES, ROLES
from auditapp.schemas.audits import (
    AssignmentCreateSchema,
    AssignmentPageSchema,
    AssignmentQuery,
    AssignmentSchema,
    AuditDetailSchema,
    AuditPageSchema,
    AuditQuery,
    AuditSchema,
    BranchAuditDetailSchema,
    BranchAuditPageSchema,
    BranchAuditSchema,
    BundleSchema,
    DisputeCreateSchema,
    DisputePageSchema,
    DisputePhotoUploadSchema,
    DisputeQuery,
    DisputeResolveSchema,
    DisputeSchema,
    DistributeSchema,
    DistributionSchema,
    DraftSchema,
    PhotoQASchema,
    PhotoSchema,
    PhotoUploadSchema,
    QueuePageSchema,
    ReleaseSchema,
    ReleaseWaveResultSchema,
    ReviewSchema,
    SubmitSchema,
    WaveOutSchema,
    WavePageSchema,
    WaveSchema,
)
from auditapp.schemas.common import PageQuery
from auditapp.schemas.dumping import compiled
from auditapp.services import audits as audit_service
from auditapp.services import photos as photo_service
from auditapp.services import waves as wave_service
from auditapp.services.pagination import Page

if TYPE_CHECKING:
    from auditapp.models import User

blp = Blueprint("audits", __name__, description="Waves, assignments, audits and disputes")

HQ = HQ_ROLES
AUDIT_READERS = ROLES

# Built once: a schema instance copies its fields (and nested schemas) when it is made, which
# cost more than the dump itself on every request. Dumping keeps no state in the instance.
_AUDIT_LIST = AuditSchema(many=True)
_BRANCH_AUDIT_LIST = BranchAuditSchema(many=True)


def _audit_detail_json(user: User, view: visibility.AuditView) -> dict[str, Any]:
    """One audit, already redacted for ``user``; the schema names only the shape (compiled
    to a plain function: marshmallow's dump cost a third of the request)."""
    if not access.sees_shopper_identity(user):
        return compiled(BranchAuditDetailSchema)(view)
    return compiled(AuditDetailSchema)(view)


def _one_of_two_views(hq_view: type, branch_view: type) -> dict[str, Any]:
    """The OpenAPI 200 of a read that answers with the HQ/shopper view or the branch view.

    ``anyOf``, not ``oneOf``: the branch view is a subset of the other, so a branch answer
    (or an empty page) is valid against both.
    """
    return {
        "200": {
            "description": "HQ and the audit's own shopper get the first shape; managers, "
            "directors and employees the branch view, without the shopper's identity, device "
            "location or photo metadata.",
            "content": {"application/json": {"schema": {"anyOf": [hq_view, branch_view]}}},
        }
    }


# Waves and assignments (HQ) ----------------------------------------------------------------


@blp.route("/waves")
@require(*HQ)
@blp.arguments(PageQuery, location="query")
@blp.response(200, WavePageSchema)
def list_waves(args: Page) -> Any:
    """Waves, newest first."""
    return wave_service.list_waves(args)


@blp.route("/waves", methods=["POST"])
@require("admin")
@blp.arguments(WaveSchema)
@blp.response(201, WaveOutSchema)
def create_wave(plan: wave_service.WavePlan) -> Any:
    """Plan a wave: period, checklist version, branches, visits per branch, day parts."""
    return wave_service.create_wave(current_user, plan)


@blp.route("/waves/<int:wave_id>")
@require(*HQ)
@blp.response(200, WaveOutSchema)
def get_wave(wave_id: int) -> Any:
    """A wave."""
    return wave_service.get_wave(wave_id)


@blp.route("/waves/<int:wave_id>/assignments", methods=["POST"])
@require("admin")
@blp.arguments(AssignmentCreateSchema)
@blp.response(201, AssignmentSchema)
def add_assignment(new: wave_service.NewAssignment, wave_id: int) -> Any:
    """Assign a shopper to a branch by hand."""
    return wave_service.add_assignment(wave_id, new)


@blp.route("/waves/<int:wave_id>/distribute", methods=["POST"])
@require("admin")
@blp.arguments(DistributeSchema)
@blp.response(200, DistributionSchema)
def distribute(args: dict[str, Any], wave_id: int) -> Any:
    """Distribute the wave's remaining visits evenly among shoppers."""
    created, unfilled = wave_service.auto_distribute(wave_id, args["shopper_ids"])
    return {"created": created, "unfilled": unfilled}


@blp.route("/waves/<int:wave_id>/release", methods=["POST"])
@require(*HQ)
@blp.response(200, ReleaseWaveResultSchema)
def release_wave(wave_id: int) -> Any:
    """Release every approved audit of the wave to the branches."""
    wave_service.get_wave(wave_id)
    return {"released": audit_service.release_wave(current_user, wave_id)}


@blp.route("/assignments")
@require(*HQ, "shopper")
@blp.arguments(AssignmentQuery, location="query")
@blp.response(200, AssignmentPageSchema)
def list_assignments(filters: wave_service.AssignmentFilters) -> Any:
    """Assignments: HQ sees all, a shopper their own."""
    return wave_service.list_assignments(current_user, filters)


@blp.route("/assignments/<int:assignment_id>")
@require(*HQ, "shopper")
@blp.response(200, AssignmentSchema)
def get_assignment(assignment_id: int) -> Any:
    """An assignment (a shopper: only their own)."""
    return wave_service.get_assignment(current_user, assignment_id)


@blp.route("/assignments/<int:assignment_id>", methods=["DELETE"])
@require("admin")
@blp.response(204)
def delete_assignment(assignment_id: int) -> None:
    """Withdraw an assignment nobody has started."""
    wave_service.delete_assignment(assignment_id)


# The shopper -------------------------------------------------------------------------------


@blp.route("/shopper/bundle")
@require("shopper")
@blp.response(200, BundleSchema)
def bundle() -> Any:
    """Everything the phone caches for offline work, in one payload (with an ETag)."""
    response = Response(
        audit_service.shopper_bundle_json(current_user), mimetype="application/json"
    )
    response.add_etag()
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)


@blp.route("/audits/<uuid:client_uuid>/draft", methods=["PUT"])
@require("shopper")
@blp.arguments(DraftSchema)
@blp.response(200, AuditSchema)
def save_draft(draft: audit_service.Draft, client_uuid: uuid.UUID) -> Any:
    """Save answers so far (partial answers allowed); the UUID is made by the phone."""
    return audit_service.save_draft(current_user, client_uuid, draft)


@blp.route("/audits/<uuid:client_uuid>/submit", methods=["POST"])
@require("shopper")
@blp.arguments(SubmitSchema)
@blp.response(201, AuditSchema)
@blp.alt_response(200, schema=AuditSchema, description="A retry of the same submission")
def submit(submission: audit_service.Submission, client_uuid: uuid.UUID) -> Any:
    """Submit the report. Retrying with the same content returns the stored result (200);
    other content under the same UUID is 409. 201 is sent only after the commit."""
    audit, created = audit_service.submit(current_user, client_uuid, submission)
    return audit, (201 if created else 200)


@blp.route("/audits/<uuid:client_uuid>/photos", methods=["POST"])
@require("shopper")
@blp.arguments(PhotoUploadSchema, location="multipart")
@blp.response(201, PhotoQASchema)
@blp.alt_response(200, schema=PhotoQASchema, description="A retry of the same upload")
def upload_photo(upload: photo_service.EvidencePhoto, client_uuid: uuid.UUID) -> Any:
    """Upload a photo for an item (multipart: file, assignment_id, item_id, photo_uuid).
    Acknowledged once the original is stored; the resized copies follow ("processing")."""
    photo, created = photo_service.upload_evidence(current_user, client_uuid, upload)
    return visibility.photo_view(current_user, photo), (201 if created else 200)


@blp.route("/audits/<uuid:client_uuid>/photos/<uuid:photo_uuid>", methods=["DELETE"])
@require("shopper")
@blp.response(200, PhotoQASchema)
def withdraw_photo(client_uuid: uuid.UUID, photo_uuid: uuid.UUID) -> Any:
    """Withdraw a wrong photo while the report is open (kept for QA, not counted)."""
    photo = photo_service.withdraw_evidence(current_user, client_uuid, photo_uuid)
    return visibility.photo_view(current_user, photo)


# Reading audits ----------------------------------------------------------------------------


@blp.route("/audits")
@require(*AUDIT_READERS)
@blp.arguments(AuditQuery, location="query")
@blp.doc(responses=_one_of_two_views(AuditPageSchema, BranchAuditPageSchema))
def list_audits(filters: audit_service.AuditFilters) -> Any:
    """Audits in the caller's scope (branch roles: released only, without shopper identity)."""
    page = audit_service.list_audits(current_user, filters)
    schema = _AUDIT_LIST if access.sees_shopper_identity(current_user) else _BRANCH_AUDIT_LIST
    page["items"] = schema.dump(page["items"])
    return jsonify(page)


@blp.route("/audits/<int:audit_id>")
@require(*AUDIT_READERS)
@blp.doc(responses=_one_of_two_views(AuditDetailSchema, BranchAuditDetailSchema))
def get_audit(audit_id: int) -> Any:
    """One audit with its photos, staff served, disputes and history (and red flags for HQ)."""
    # The user itself, not Flask-Login's proxy: the scope and the redaction read it a dozen
    # times (once per photo), and each read through the proxy looks the user up again.
    user = current_user._get_current_object()
    return jsonify(_audit_detail_json(user, audit_service.audit_detail(user, audit_id)))


@blp.route("/photos/<int:photo_id>/<any(display, thumb, original):variant>")
@require(*AUDIT_READERS)
@blp.response(200, description="The image (JPEG for display and thumb)")
def photo_file(photo_id: int, variant: str) -> Response:
    """A photo: display copy and thumbnail for anyone who may see the audit; the original
    (with its metadata) for HQ only. Each variant has its own ETag that reveals nothing about
    the original; browsers keep the image privately and revalidate it (a cheap 304) on every
    use, so a withdrawn photo or a revoked access is not served from a cache."""
    data, mime, etag = photo_service.photo_file(current_user, photo_id, variant)
    response = send_file(io.BytesIO(data), mimetype=mime, etag=etag, conditional=True)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response


# Review ------------------------------------------------------------------------------------


@blp.route("/review/queue")
@require(*HQ)
@blp.arguments(PageQuery, location="query")
@blp.response(200, QueuePageSchema)
def review_queue(args: Page) -> Any:
    """Submitted audits, oldest first, with red flags."""
    return audit_service.review_queue(current_user, args)


def _review(action: str, audit_id: int, decision: audit_service.Decision) -> Any:
    return audit_service.review(current_user, audit_id, action, decision)


@blp.route("/audits/<int:audit_id>/approve", methods=["POST"])
@require(*HQ)
@blp.arguments(ReviewSchema)
@blp.response(200, AuditSchema)
def approve(decision: audit_service.Decision, audit_id: int) -> Any:
    """Approve a submitted audit (409 if someone else changed it since your version)."""
    return _review("approve", audit_id, decision)


@blp.route("/audits/<int:audit_id>/return", methods=["POST"])
@require(*HQ)
@blp.arguments(ReviewSchema)
@blp.response(200, AuditSchema)
def return_audit(decision: audit_service.Decision, audit_id: int) -> Any:
    """Return a submitted audit to the shopper with comments for fixing."""
    return _review("return", audit_id, decision)


@blp.route("/audits/<int:audit_id>/reject", methods=["POST"])
@require(*HQ)
@blp.arguments(ReviewSchema)
@blp.response(200, AuditSchema)
def reject(decision: audit_service.Decision, audit_id: int) -> Any:
    """Reject an audit (it never counts)."""
    return _review("reject", audit_id, decision)


@blp.route("/audits/<int:audit_id>/release", methods=["POST"])
@require(*HQ)
@blp.arguments(ReleaseSchema)
@blp.response(200, AuditSchema)
def release(args: dict[str, Any], audit_id: int) -> Any:
    """Release an approved audit to the branch."""
    return audit_service.release(current_user, audit_id, args["version"])


# Disputes ----------------------------------------------------------------------------------


@blp.route("/audits/<int:audit_id>/dispute-photos", methods=["POST"])
@require("manager")
@blp.arguments(DisputePhotoUploadSchema, location="multipart")
@blp.response(201, PhotoSchema)
@blp.alt_response(200, schema=PhotoSchema, description="A retry of the same upload")
def upload_dispute_photo(upload: photo_service.DisputePhoto, audit_id: int) -> Any:
    """A photo backing a dispute (multipart: file, item_id, photo_uuid)."""
    photo, created = photo_service.upload_dispute_photo(current_user, audit_id, upload)
    return visibility.photo_view(current_user, photo), (201 if created else 200)


@blp.route("/audits/<int:audit_id>/disputes", methods=["POST"])
@require("manager")
@blp.arguments(DisputeCreateSchema)
@blp.response(201, DisputeSchema)
def raise_dispute(claim: audit_service.Claim, audit_id: int) -> Any:
    """Dispute an item of a released audit of your branch, within the dispute window."""
    return audit_service.raise_dispute(current_user, audit_id, claim)


@blp.route("/disputes")
@require(*HQ, "director", "manager")
@blp.arguments(DisputeQuery, location="query")
@blp.response(200, DisputePageSchema)
def open_disputes(args: audit_service.DisputeFilter) -> Any:
    """Disputes of the audits the caller may see, oldest first: open ones by default
    (``status=any`` for all, e.g. a manager following their branch's disputes)."""
    return audit_service.open_disputes(current_user, args)


@blp.route("/disputes/<int:dispute_id>/resolve", methods=["POST"])
@require(*HQ)
@blp.arguments(DisputeResolveSchema)
@blp.response(200, DisputeSchema)
def resolve_dispute(ruling: audit_service.Ruling, dispute_id: int) -> Any:
    """Uphold (the answer changes, the score is recomputed, both go to the history) or reject."""
    return audit_service.resolve_dispute(current_user, dispute_id, ruling)
