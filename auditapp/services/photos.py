"""Photo evidence: durable upload, background re-encoding, reuse detection, authorised reads.

The upload is acknowledged once the original is stored durably and recorded; resizing runs in
a background job, so a shopper on a slow phone never waits for it. Files are stored by content
hash, outside the web root, and served only through the API after a scope check.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import UTC
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select

from auditapp import clock, jobs, visibility
from auditapp.adapters.images import (
    NEAR_DUPLICATE_DISTANCE,
    PhotoInfo,
    PhotoRejected,
    hamming,
    inspect_upload,
    process_photo,
)
from auditapp.adapters.storage import PhotoStorage, photo_key, storage_from_config
from auditapp.domain.checklist import Checklist
from auditapp.domain.vocabulary import OPEN_STATUSES
from auditapp.extensions import db
from auditapp.models import Audit, AuditHistory, AuditPhoto, User
from auditapp.services.audits import checklist_for, ensure_draft, get_audit
from auditapp.services.audits.drafts import own_assignment, own_audit_by_uuid
from auditapp.services.checklists import checklist_of
from auditapp.services.errors import Conflict, Invalid, NotFound
from auditapp.services.transactions import Clash, commit

_EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "heic": "heic"}
# Bumped whenever process_photo makes different copies, so browsers fetch the new ones.
COPIES_VERSION = 2


def storage() -> PhotoStorage:
    """The configured photo storage (a local directory, or S3-compatible object storage)."""
    cached = current_app.extensions.get("auditapp.storage")
    if cached is None:
        cached = storage_from_config(current_app.config["PHOTO_STORAGE_URL"])
        current_app.extensions["auditapp.storage"] = cached
    return cached


def _check_item(checklist: Checklist, item_id: str) -> None:
    if not checklist.has_item(item_id):
        raise Invalid(
            "Unknown item.", fields={"item_id": [f"No item {item_id!r} in this checklist."]}
        )


def _inspect(data: bytes) -> PhotoInfo:
    """The cheap upload-time check: a refused file is a 422 naming the ``file`` field."""
    try:
        return inspect_upload(data)
    except PhotoRejected as error:
        raise Invalid(str(error), fields={"file": [str(error)]}, code="photo_rejected") from error


def _same_upload(photo: AuditPhoto, audit_id: int | None, item_id: str, sha256: str) -> bool:
    """A retry carries the same photo id, audit, item and bytes; anything else is a clash."""
    return photo.audit_id == audit_id and photo.item_id == item_id and photo.sha256 == sha256


@dataclass(frozen=True)
class EvidencePhoto:
    """A shopper's photo for an item of the report with this assignment."""

    assignment_id: int
    item_id: str
    photo_uuid: uuid.UUID
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class DisputePhoto:
    """A manager's photo for the item they dispute."""

    item_id: str
    photo_uuid: uuid.UUID
    data: bytes = field(repr=False)


def _photo_differs() -> Conflict:
    return Conflict("This photo id was already used for another file.", code="photo_differs")


def _earlier_upload(
    photo_uuid: uuid.UUID, audit_id: int | None, item_id: str, info: PhotoInfo
) -> AuditPhoto | None:
    """The photo already recorded under this id if this is a retry of its upload, else None;
    the id used for anything else is a 409."""
    existing = db.session.execute(
        select(AuditPhoto).where(AuditPhoto.client_uuid == photo_uuid)
    ).scalar_one_or_none()
    if existing is None:
        return None
    if _same_upload(existing, audit_id, item_id, info.sha256):
        return existing
    raise _photo_differs()


def _new_photo(
    user: User,
    photo_uuid: uuid.UUID,
    item_id: str,
    data: bytes,
    info: PhotoInfo,
    purpose: str,
    *,
    timezone: str,
    audit_id: int | None,
) -> AuditPhoto:
    """Store the original durably and make its row (not yet in the session, no audit yet).

    Nothing is written to the database here: the file goes to storage before the use case's
    first write, so the transaction (and, on SQLite, the write lock) lasts only for the rows.
    """
    key = photo_key("originals", info.sha256, _EXTENSIONS[info.format])
    storage().put(key, data)  # durable before we say so
    captured_at = info.captured_at
    if captured_at is not None and (info.captured_at_is_local or captured_at.tzinfo is None):
        captured_at = captured_at.replace(tzinfo=ZoneInfo(timezone))
    photo = AuditPhoto(
        client_uuid=photo_uuid,
        item_id=item_id,
        purpose=purpose,
        status="processing",
        sha256=info.sha256,
        format=info.format,
        byte_size=info.byte_size,
        width=info.width,
        height=info.height,
        original_key=key,
        captured_at=captured_at.astimezone(UTC) if captured_at else None,
        gps_lat=info.gps.lat if info.gps else None,
        gps_lon=info.gps.lon if info.gps else None,
        uploaded_by_id=user.id,
    )
    if purpose == "evidence":
        earlier = select(AuditPhoto.id).where(
            AuditPhoto.sha256 == info.sha256, AuditPhoto.purpose == "evidence"
        )
        if audit_id is not None:
            earlier = earlier.where(AuditPhoto.audit_id != audit_id)
        reused = db.session.execute(earlier.order_by(AuditPhoto.id).limit(1)).scalar_one_or_none()
        if reused is not None:
            photo.reused_from_photo_id = reused
            photo.reuse_kind = "identical"
    return photo


def _record(photo: AuditPhoto, audit: Audit, info: PhotoInfo) -> tuple[AuditPhoto, bool]:
    """Attach the new photo to its audit and commit the use case; then queue the re-encoding.
    The same photo id raced in from a retry meanwhile: answer as for a retry."""
    photo.audit_id = audit.id
    db.session.add(photo)
    try:
        commit()
    except Clash:
        raced = db.session.execute(
            select(AuditPhoto).where(AuditPhoto.client_uuid == photo.client_uuid)
        ).scalar_one_or_none()
        if raced is None:
            raise
        if _same_upload(raced, audit.id, photo.item_id, info.sha256):
            return raced, False
        raise _photo_differs() from None
    schedule_processing(photo.id)
    db.session.refresh(photo)  # the job may already have run (inline queue)
    return photo, True


def upload_evidence(
    user: User, audit_uuid: uuid.UUID, upload: EvidencePhoto
) -> tuple[AuditPhoto, bool]:
    """A shopper's photo for an item, before or during the final submit; retried safely. The
    report's draft is made in the same transaction: a refused upload leaves no draft."""
    info = _inspect(upload.data)  # a refused file creates nothing, not even the draft
    audit = own_audit_by_uuid(user, audit_uuid)
    if audit is not None:
        if audit.assignment_id != upload.assignment_id:
            raise Conflict("This report belongs to another assignment.", code="uuid_taken")
        version, status, timezone = audit.checklist_version, audit.status, audit.branch.timezone
    else:
        assignment = own_assignment(user, upload.assignment_id)
        version, status = assignment.wave.checklist_version, "in_progress"
        timezone = assignment.branch.timezone
    audit_id = audit.id if audit is not None else None
    retry = _earlier_upload(upload.photo_uuid, audit_id, upload.item_id, info)
    if retry is not None:
        return retry, False
    if status not in OPEN_STATUSES:
        raise Conflict(
            f"The report is {status}; photos can no longer be added.", code="transition_refused"
        )
    _check_item(checklist_of(version), upload.item_id)
    photo = _new_photo(
        user,
        upload.photo_uuid,
        upload.item_id,
        upload.data,
        info,
        "evidence",
        timezone=timezone,
        audit_id=audit_id,
    )
    # The first write: the draft, made now if this is the report's first photo.
    audit = ensure_draft(user, audit_uuid, upload.assignment_id)
    return _record(photo, audit, info)


def withdraw_evidence(user: User, audit_uuid: uuid.UUID, photo_uuid: uuid.UUID) -> AuditPhoto:
    """Take back a wrong photo while the report is open. The row stays for QA, marked
    withdrawn; after a return for fixes the withdrawal goes into the history too."""
    audit = db.session.execute(
        select(Audit).where(Audit.client_uuid == audit_uuid, Audit.shopper_id == user.id)
    ).scalar_one_or_none()
    photo = db.session.execute(
        select(AuditPhoto).where(AuditPhoto.client_uuid == photo_uuid)
    ).scalar_one_or_none()
    if audit is None or photo is None or photo.audit_id != audit.id:
        raise NotFound("Photo not found.")
    if photo.status == "withdrawn":
        return photo  # a retried withdrawal
    if audit.status not in OPEN_STATUSES:
        raise Conflict(
            f"The report is {audit.status}; its photos can no longer change.",
            code="transition_refused",
        )
    photo.status = "withdrawn"
    photo.withdrawn_at = clock.now()
    if audit.status == "returned":
        db.session.add(
            AuditHistory(
                audit_id=audit.id,
                actor_id=user.id,
                actor_role=user.role,
                action="photo_withdrawn",
                field=f"photos.{photo.item_id}",
                old_value=photo.id,
                new_value=None,
                reason="Withdrawn by the shopper while fixing the report.",
            )
        )
    commit()
    return photo


def upload_dispute_photo(
    user: User, audit_id: int, upload: DisputePhoto
) -> tuple[AuditPhoto, bool]:
    """A manager's photo backing a dispute of a released audit of their branch."""
    audit = get_audit(user, audit_id)
    if audit.status != "released":
        raise Conflict("Only released audits can be disputed.", code="transition_refused")
    _check_item(checklist_for(audit), upload.item_id)
    info = _inspect(upload.data)
    retry = _earlier_upload(upload.photo_uuid, audit.id, upload.item_id, info)
    if retry is not None:
        return retry, False
    photo = _new_photo(
        user,
        upload.photo_uuid,
        upload.item_id,
        upload.data,
        info,
        "dispute",
        timezone=audit.branch.timezone,
        audit_id=audit.id,
    )
    return _record(photo, audit, info)


def schedule_processing(photo_id: int) -> None:
    """Queue the re-encoding (run inline when the queue is in immediate mode, as in tests)."""
    jobs.enqueue("process_photo", photo_id)


def process(photo_id: int) -> AuditPhoto | None:
    """Re-encode the display copy and thumbnail, and look for near-identical earlier photos.

    Idempotent: a photo already processed is left alone, so a job that runs twice is harmless.
    """
    photo = db.session.get(AuditPhoto, photo_id)
    if photo is None or photo.status != "processing":
        return photo
    try:
        result = process_photo(storage().get(photo.original_key))
    except PhotoRejected as error:
        photo.status = "failed"
        photo.error = str(error)
        photo.processed_at = clock.now()
        commit()
        return photo
    display_key = photo_key("display", photo.sha256, "jpg")
    thumb_key = photo_key("thumbs", photo.sha256, "jpg")
    storage().put(display_key, result.display)
    storage().put(thumb_key, result.thumbnail)
    photo.display_key, photo.thumb_key = display_key, thumb_key
    photo.phash = result.perceptual_hash
    photo.width, photo.height = result.display_size
    if photo.purpose == "evidence" and photo.reuse_kind is None:
        _flag_near_duplicate(photo)
    photo.status = "ready"
    photo.processed_at = clock.now()
    commit()
    return photo


def _flag_near_duplicate(photo: AuditPhoto) -> None:
    """Compare with earlier photos of the same shopper or branch (where reuse would happen)."""
    audit = photo.audit
    candidates = db.session.execute(
        select(AuditPhoto.id, AuditPhoto.phash)
        .join(Audit, Audit.id == AuditPhoto.audit_id)
        .where(
            AuditPhoto.audit_id != audit.id,
            AuditPhoto.phash.is_not(None),
            AuditPhoto.purpose == "evidence",
            or_(Audit.shopper_id == audit.shopper_id, Audit.branch_id == audit.branch_id),
        )
        .order_by(AuditPhoto.id)
    ).all()
    assert photo.phash is not None
    for other_id, other_hash in candidates:
        if other_hash is not None and hamming(photo.phash, other_hash) <= NEAR_DUPLICATE_DISTANCE:
            photo.reused_from_photo_id = other_id
            photo.reuse_kind = "near"
            return


def photo_etag(photo: AuditPhoto, variant: str) -> str:
    """An ETag for one variant of a photo that reveals nothing about it.

    Keyed with the server's secret over the photo's id, the variant and the version of its
    copies: different for the display copy and the thumbnail, unrelated to the original's hash
    (which is QA's only), and changed when the copies are made again.
    """
    made = photo.processed_at.isoformat() if photo.processed_at and variant != "original" else ""
    material = f"photo-etag:{photo.client_uuid}:{variant}:{COPIES_VERSION}:{made}"
    secret = current_app.config["SECRET_KEY"]
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    return hmac.new(key, material.encode(), hashlib.sha256).hexdigest()[:32]


def photo_file(user: User, photo_id: int, variant: str) -> tuple[bytes, str, str]:
    """The bytes, media type and ETag of a photo variant the caller may see: display and thumb
    for anyone who may see the audit and the photo, the original (with its metadata) for HQ."""
    photo = db.session.get(AuditPhoto, photo_id)
    if photo is None:
        raise NotFound(f"Photo {photo_id} not found.")
    get_audit(user, photo.audit_id)  # scope check: NotFound when out of scope
    if not visibility.serves_photo_file(user, photo, variant):
        raise NotFound(f"Photo {photo_id} not found.")
    if variant == "original":
        mime = {
            "jpeg": "image/jpeg",
            "png": "image/png",
            "webp": "image/webp",
            "heic": "image/heic",
        }[photo.format]
        return storage().get(photo.original_key), mime, photo_etag(photo, variant)
    if photo.status == "withdrawn" and photo.display_key is None:
        raise Conflict("The photo was withdrawn before it was processed.", code="photo_failed")
    if photo.status == "processing":
        raise Conflict("The photo is still being processed.", code="photo_processing")
    if photo.status == "failed":
        raise Conflict(f"The photo could not be processed: {photo.error}", code="photo_failed")
    key = photo.display_key if variant == "display" else photo.thumb_key
    assert key is not None
    return storage().get(key), "image/jpeg", photo_etag(photo, variant)
