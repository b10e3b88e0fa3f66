"""QA review and release: approve, return or reject a submitted audit; release approved audits
to their branches (from then on they count in the ratings)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from auditapp import clock
from auditapp.extensions import db
from auditapp.models import Assignment, Audit, User
from auditapp.services import ratings as rating_service
from auditapp.services.audits.common import (
    add_history,
    check_version,
    locked_audit,
    stale_audit,
    transition,
)
from auditapp.services.errors import Invalid
from auditapp.services.transactions import commit


@dataclass(frozen=True)
class Decision:
    """The reviewer's comment (required to return or reject) on the version they reviewed."""

    version: int
    comment: str = ""


def review(actor: User, audit_id: int, action: str, decision: Decision) -> Audit:
    """approve / return / reject a submitted audit (with the reviewer's comment)."""
    comment = decision.comment
    audit = locked_audit(audit_id)
    check_version(audit, decision.version)
    new_status = transition(audit, action)
    if action in ("return", "reject") and not comment.strip():
        raise Invalid("Say why.", fields={"comment": ["Required when returning or rejecting."]})
    old_status = audit.status
    audit.status = new_status
    audit.reviewed_at = clock.now()
    audit.reviewed_by_id = actor.id
    audit.review_comment = comment.strip()
    add_history(
        audit, actor, action, field="status", old=old_status, new=new_status, reason=comment
    )
    commit(stale_audit())
    return audit


def release(actor: User, audit_id: int, expected: int) -> Audit:
    """Release an approved audit to the branch: its manager sees it and may dispute items."""
    audit = locked_audit(audit_id)
    check_version(audit, expected)
    audit.status = transition(audit, "release")
    audit.released_at = clock.now()
    add_history(audit, actor, "released", field="status", old="approved", new="released")
    rating_service.record_released([audit])  # counts from now on, in this transaction
    commit(stale_audit())
    return audit


def release_wave(actor: User, wave_id: int) -> int:
    """Release every approved audit of a wave at once; returns how many."""
    audits = (
        db.session.execute(
            select(Audit)
            .join(Assignment)
            .where(Assignment.wave_id == wave_id, Audit.status == "approved")
            .with_for_update()
        )
        .scalars()
        .all()
    )
    now = clock.now()
    for audit in audits:
        audit.status = "released"
        audit.released_at = now
        add_history(audit, actor, "released", field="status", old="approved", new="released")
    rating_service.record_released(audits)  # counts from now on, in this transaction
    commit(stale_audit())
    return len(audits)
