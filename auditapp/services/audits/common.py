"""What the audit use cases share: the history entry, the lifecycle step, the version check,
the locked audit and the stored score. Nothing here commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from auditapp import clock
from auditapp.domain.checklist import Checklist
from auditapp.domain.lifecycle import TransitionRefused, next_status
from auditapp.domain.scoring import ItemProblem
from auditapp.extensions import db
from auditapp.models import Audit, AuditHistory, User
from auditapp.services.checklists import checklist_of
from auditapp.services.errors import Conflict, NotFound


def problems_by_item(problems: list[ItemProblem]) -> dict[str, list[str]]:
    """Problems grouped by item id, as the error's ``fields`` carry them."""
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        grouped.setdefault(problem.item_id, []).append(problem.message)
    return grouped


def add_history(
    audit: Audit,
    actor: User | None,
    action: str,
    *,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    reason: str = "",
) -> None:
    """Append one entry to the audit's history (in the caller's transaction)."""
    db.session.add(
        AuditHistory(
            audit=audit,
            at=clock.now(),
            actor_id=actor.id if actor else None,
            actor_role=actor.role if actor else "system",
            action=action,
            field=field,
            old_value=old,
            new_value=new,
            reason=reason,
        )
    )


def transition(audit: Audit, action: str) -> str:
    """The status ``action`` leads to from the audit's status, else a 409."""
    try:
        return next_status(audit.status, action)
    except TransitionRefused as error:
        raise Conflict(str(error), code="transition_refused") from error


def check_version(audit: Audit, expected: int) -> None:
    """Optimistic concurrency: the caller says which version they looked at (never optional)."""
    if expected != audit.version:
        raise Conflict(
            f"The audit changed meanwhile (version {audit.version}, you had {expected}); "
            "reload it and try again.",
            code="stale_version",
        )


def stale_audit() -> Conflict:
    """What a commit that lost to a concurrent change of the audit answers."""
    return Conflict("The audit changed meanwhile; reload it and try again.", code="stale_version")


def checklist_for(audit: Audit) -> Checklist:
    """The checklist version the audit was filled with."""
    return checklist_of(audit.checklist_version)


def locked_audit(audit_id: int) -> Audit:
    """The audit, its row locked for this transaction, else NotFound."""
    audit = db.session.execute(
        select(Audit).where(Audit.id == audit_id).with_for_update()
    ).scalar_one_or_none()
    if audit is None:
        raise NotFound(f"Audit {audit_id} not found.")
    return audit


def store_score(audit: Audit, detail: dict[str, Any]) -> None:
    """Keep the scoring engine's result on the audit (ratings read it, never re-score)."""
    audit.score = detail["score"]
    audit.earned = detail["earned"]
    audit.possible = detail["possible"]
    audit.score_detail = detail
