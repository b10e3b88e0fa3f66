"""The shopper's report before submission: found by the phone's UUID, created as a draft on
first use (a photo may come before any answer), saved as the shopper goes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from auditapp.domain.scoring import validate_answers
from auditapp.extensions import db
from auditapp.models import Assignment, Audit, User
from auditapp.services.audits.common import (
    checklist_for,
    problems_by_item,
    stale_audit,
    transition,
)
from auditapp.services.errors import Conflict, Invalid, NotFound
from auditapp.services.transactions import commit


@dataclass(frozen=True)
class Draft:
    """Answers so far (partial allowed); a field left ``None`` keeps what was saved before."""

    assignment_id: int
    answers: dict[str, Any] = field(default_factory=dict)
    comment: str | None = None
    visit_started_at: datetime | None = None
    visit_ended_at: datetime | None = None


def own_assignment(user: User, assignment_id: int) -> Assignment:
    """The shopper's own assignment, else NotFound (someone else's is not found either)."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.shopper_id != user.id:
        raise NotFound(f"Assignment {assignment_id} not found.")
    return assignment


def _find_by_uuid(client_uuid: uuid.UUID, *, lock: bool = False) -> Audit | None:
    query = select(Audit).where(Audit.client_uuid == client_uuid)
    if lock:
        # Locked to be changed: the checklist and the branch come in the same statement (the
        # lock stays on the audit row alone).
        query = query.options(
            joinedload(Audit.checklist_version, innerjoin=True),
            joinedload(Audit.branch, innerjoin=True),
        ).with_for_update(of=Audit)
    return db.session.execute(query).scalar_one_or_none()


def own_audit_by_uuid(user: User, client_uuid: uuid.UUID, *, lock: bool = False) -> Audit | None:
    """The shopper's audit with this UUID (row-locked with ``lock``), None if there is none."""
    audit = _find_by_uuid(client_uuid, lock=lock)
    if audit is not None and audit.shopper_id != user.id:
        # Someone else's UUID: indistinguishable from a clash, and reveals nothing.
        raise Conflict("This report id is already in use.", code="uuid_taken")
    return audit


def new_audit(user: User, client_uuid: uuid.UUID, assignment: Assignment) -> Audit:
    """A new in-progress audit of ``assignment`` (not yet added to the session)."""
    version = assignment.wave.checklist_version
    return Audit(
        client_uuid=client_uuid,
        assignment=assignment,
        checklist_version_id=version.id,
        checklist_version=version,
        branch_id=assignment.branch_id,
        shopper_id=user.id,
        status="in_progress",
        answers={},
        channel=version.channel,
    )


def _taken() -> Conflict:
    return Conflict(
        "This assignment already has a report with another id.", code="assignment_taken"
    )


def _insert_unless_present(user: User, client_uuid: uuid.UUID, assignment: Assignment) -> None:
    """INSERT the draft's row, or nothing when a concurrent first use inserted it (or another
    report of the assignment) meanwhile: the statement waits for that transaction and yields to
    it, so this one goes on instead of failing, and nothing needs rolling back."""
    version = assignment.wave.checklist_version
    values = {
        "client_uuid": client_uuid,
        "assignment_id": assignment.id,
        "checklist_version_id": version.id,
        "branch_id": assignment.branch_id,
        "shopper_id": user.id,
        "status": "in_progress",
        "answers": {},
        "channel": version.channel,
    }
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(Audit).values(values).on_conflict_do_nothing())


def ensure_draft(user: User, client_uuid: uuid.UUID, assignment_id: int) -> Audit:
    """The shopper's audit for this UUID, created as a draft on first use, in the caller's
    transaction (it is written, not committed: a request refused later leaves no draft).
    Concurrent first uses create one row."""
    audit = own_audit_by_uuid(user, client_uuid)
    if audit is not None:
        if audit.assignment_id != assignment_id:
            raise Conflict("This report belongs to another assignment.", code="uuid_taken")
        return audit
    assignment = own_assignment(user, assignment_id)
    if assignment.audit is not None:
        if assignment.audit.client_uuid == client_uuid:
            return assignment.audit  # created by a concurrent request since we looked
        raise _taken()
    _insert_unless_present(user, client_uuid, assignment)
    audit = own_audit_by_uuid(user, client_uuid)  # this one's row, or the concurrent one's
    if audit is None or audit.assignment_id != assignment_id:
        raise _taken()
    return audit


def save_draft(user: User, client_uuid: uuid.UUID, draft: Draft) -> Audit:
    """Save partial answers as the shopper goes; values are checked, completeness is not."""
    audit = ensure_draft(user, client_uuid, draft.assignment_id)
    audit = own_audit_by_uuid(user, client_uuid, lock=True) or audit
    transition(audit, "save_draft")
    problems = validate_answers(checklist_for(audit), draft.answers, complete=False)
    if problems:
        raise Invalid("Some answers are invalid.", fields={"answers": problems_by_item(problems)})
    audit.answers = dict(draft.answers)
    if draft.comment is not None:
        audit.comment = draft.comment
    if draft.visit_started_at is not None:
        audit.visit_started_at = draft.visit_started_at
    if draft.visit_ended_at is not None:
        audit.visit_ended_at = draft.visit_ended_at
    commit(stale_audit())
    return audit
