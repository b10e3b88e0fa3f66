"""Disputes: a branch manager challenges an item of a released audit within the window; a
reviewer upholds it (the answer changes, the score is recomputed) or rejects it. Both sides go
to the audit's history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from auditapp import access, clock
from auditapp.domain.scoring import score_audit, validate_answers
from auditapp.extensions import db
from auditapp.models import Audit, AuditPhoto, Dispute, User
from auditapp.services import ratings as rating_service
from auditapp.services.audits.common import (
    add_history,
    check_version,
    checklist_for,
    locked_audit,
    stale_audit,
    store_score,
    transition,
)
from auditapp.services.audits.reading import get_audit
from auditapp.services.errors import Conflict, Invalid, NotFound
from auditapp.services.pagination import Page, paginate
from auditapp.services.transactions import commit


@dataclass(frozen=True)
class Claim:
    """A manager's dispute of one item, on the audit version they read; ``requested_value``
    counts only with ``value_requested`` (an N/A answer is a value too: ``None``)."""

    item_id: str
    reason: str
    version: int
    requested_value: Any = None
    value_requested: bool = False
    photo_uuid: uuid.UUID | None = None


@dataclass(frozen=True)
class Ruling:
    """The reviewer's decision on a dispute; ``new_value`` (with ``value_given``) overrides
    the value the manager asked for when upheld."""

    uphold: bool
    reason: str
    version: int
    new_value: Any = None
    value_given: bool = False


def raise_dispute(actor: User, audit_id: int, claim: Claim) -> Dispute:
    """A manager challenges one item of a released audit of their branch, within the window."""
    audit = get_audit(actor, audit_id)  # scope: manager's branches, released only
    transition(audit, "dispute")
    window = timedelta(days=int(current_app.config["DISPUTE_WINDOW_DAYS"]))
    assert audit.released_at is not None
    if clock.now() > audit.released_at + window:
        raise Conflict(
            f"Disputes are accepted for {window.days} days after release.",
            code="dispute_window_closed",
        )
    checklist = checklist_for(audit)
    item_id = claim.item_id
    if not checklist.has_item(item_id) or not checklist.item(item_id).scored:
        raise Invalid("No such scored item.", fields={"item_id": [f"Unknown item {item_id!r}."]})
    if claim.value_requested:
        problems = validate_answers(checklist, {item_id: claim.requested_value}, complete=False)
        if problems:
            raise Invalid(
                "Invalid value.", fields={"requested_value": [p.message for p in problems]}
            )
    audit = locked_audit(audit_id)
    check_version(audit, claim.version)
    if any(d.item_id == item_id and d.status == "open" for d in audit.disputes):
        raise Conflict("This item is already disputed.", code="dispute_open")
    photo_id = None
    if claim.photo_uuid is not None:
        photo = db.session.execute(
            select(AuditPhoto).where(
                AuditPhoto.client_uuid == claim.photo_uuid,
                AuditPhoto.audit_id == audit.id,
                AuditPhoto.purpose == "dispute",
                AuditPhoto.uploaded_by_id == actor.id,
            )
        ).scalar_one_or_none()
        if photo is None:
            raise Invalid("Unknown photo.", fields={"photo_uuid": ["Upload the photo first."]})
        photo_id = photo.id
    dispute = Dispute(
        audit=audit,
        item_id=item_id,
        reason=claim.reason.strip(),
        requested_value=claim.requested_value if claim.value_requested else None,
        photo_id=photo_id,
        raised_by_id=actor.id,
        raised_at=clock.now(),
    )
    db.session.add(dispute)
    add_history(
        audit,
        actor,
        "disputed",
        field=f"answers.{item_id}",
        old=audit.answers.get(item_id),
        new=claim.requested_value if claim.value_requested else None,
        reason=dispute.reason,
    )
    commit(stale_audit())
    return dispute


def locked_dispute(dispute_id: int) -> Dispute:
    dispute = db.session.execute(
        select(Dispute).where(Dispute.id == dispute_id).with_for_update()
    ).scalar_one_or_none()
    if dispute is None:
        raise NotFound(f"Dispute {dispute_id} not found.")
    return dispute


def resolve_dispute(actor: User, dispute_id: int, ruling: Ruling) -> Dispute:
    """The reviewer upholds (the answer changes, the score is recomputed) or rejects."""
    uphold, reason = ruling.uphold, ruling.reason
    new_value, has_value, expected = ruling.new_value, ruling.value_given, ruling.version
    dispute = locked_dispute(dispute_id)
    if dispute.status != "open":
        raise Conflict(f"The dispute is already {dispute.status}.", code="dispute_closed")
    audit = locked_audit(dispute.audit_id)
    check_version(audit, expected)
    if not reason.strip():
        raise Invalid("Say why.", fields={"reason": ["Required."]})
    dispute.status = "upheld" if uphold else "rejected"
    dispute.resolved_by_id = actor.id
    dispute.resolved_at = clock.now()
    dispute.resolution = reason.strip()
    if uphold:
        value = new_value if has_value else dispute.requested_value
        if not has_value and dispute.requested_value is None:
            raise Invalid("Give the corrected answer.", fields={"new_value": ["Required."]})
        change_answer(actor, audit, dispute.item_id, value, reason, action="dispute_upheld")
    else:
        add_history(
            audit,
            actor,
            "dispute_rejected",
            field=f"answers.{dispute.item_id}",
            old=audit.answers.get(dispute.item_id),
            new=audit.answers.get(dispute.item_id),
            reason=reason,
        )
    commit(stale_audit())
    return dispute


def change_answer(
    actor: User, audit: Audit, item_id: str, value: Any, reason: str, *, action: str
) -> None:
    """Change one answer after submission: rescore and append both changes to the history."""
    checklist = checklist_for(audit)
    answers = dict(audit.answers)
    answers[item_id] = value
    problems = validate_answers(checklist, answers, complete=True)
    if problems:
        raise Invalid("Invalid value.", fields={"new_value": [p.message for p in problems]})
    result = score_audit(checklist, answers).to_dict()
    old_value, old_score = audit.answers.get(item_id), audit.score
    audit.answers = answers
    store_score(audit, result)
    rating_service.record_rescored(audit)  # a released audit's ratings change with it
    add_history(
        audit, actor, action, field=f"answers.{item_id}", old=old_value, new=value, reason=reason
    )
    add_history(
        audit, actor, "score_changed", field="score", old=old_score, new=audit.score, reason=reason
    )


def list_disputes(user: User, audit_id: int) -> list[Dispute]:
    """The disputes of an audit the caller may see."""
    return list(get_audit(user, audit_id).disputes)


@dataclass(frozen=True)
class DisputeFilter(Page):
    """Which disputes to list: by status (``any`` for all) and branch."""

    status: str = "open"
    branch_id: int | None = None


def open_disputes(user: User, filters: DisputeFilter) -> dict[str, Any]:
    """Disputes of the audits ``user`` may see (HQ: all; managers and directors: their
    branches' released audits), oldest first; open ones unless ``status`` says otherwise."""
    query = (
        select(Dispute).join(Audit, Dispute.audit_id == Audit.id).where(access.audit_filter(user))
    )
    if filters.status != "any":
        query = query.where(Dispute.status == filters.status)
    if filters.branch_id is not None:
        query = query.where(Audit.branch_id == filters.branch_id)
    return paginate(query.order_by(Dispute.raised_at, Dispute.id), filters.page, filters.per_page)
