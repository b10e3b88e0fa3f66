"""The shopper's offline bundle: open assignments, their branches with staff lists, the
checklists, and returned reports with the reviewer's comments (read-only)."""

from __future__ import annotations

import functools
import json
from typing import Any

from sqlalchemy import Executable, bindparam, select

from auditapp import clock
from auditapp.domain.vocabulary import OPEN_STATUSES
from auditapp.extensions import db
from auditapp.models import (
    Assignment,
    Audit,
    Branch,
    ChecklistVersion,
    StaffMember,
    StaffPlacement,
    User,
    Wave,
)
from auditapp.services.checklists import definition_json, definition_of


# The statements are built once (with bound parameters): building a 21-column SELECT with
# its joins cost as much as running it, on every sync of every phone.
@functools.cache
def _assignments_statement() -> Executable:
    # Plain columns (no ORM objects to build): the assignment, its wave's checklist version,
    # its branch, its open audit.
    return (
        select(
            Assignment.id,
            Assignment.wave_id,
            Wave.checklist_version_id,
            Assignment.window_start,
            Assignment.window_end,
            Assignment.day_part,
            Assignment.due_at,
            Assignment.branch_id,
            Branch.code.label("branch_code"),
            Branch.name.label("branch_name"),
            Branch.kind.label("branch_kind"),
            Branch.city.label("branch_city"),
            Branch.address.label("branch_address"),
            Branch.timezone.label("branch_timezone"),
            Audit.id.label("audit_id"),
            Audit.client_uuid,
            Audit.status,
            Audit.answers,
            Audit.comment,
            Audit.review_comment,
            Audit.version,
        )
        .join(Wave, Wave.id == Assignment.wave_id)
        .join(Branch, Branch.id == Assignment.branch_id)
        .outerjoin(Audit, Audit.assignment_id == Assignment.id)
        .where(Assignment.shopper_id == bindparam("shopper_id"))
        .where(Audit.id.is_(None) | Audit.status.in_(OPEN_STATUSES))
        .order_by(Assignment.window_start, Assignment.id)
    )


@functools.cache
def _staff_statement() -> Executable:
    return (
        select(
            StaffPlacement.branch_id, StaffMember.id, StaffMember.full_name, StaffPlacement.position
        )
        .join(StaffMember, StaffMember.id == StaffPlacement.staff_member_id)
        .where(
            StaffPlacement.branch_id.in_(bindparam("branch_ids", expanding=True)),
            (StaffPlacement.ended_on.is_(None)) | (StaffPlacement.ended_on >= bindparam("today")),
        )
        .order_by(StaffMember.full_name)
    )


@functools.cache
def _versions_statement() -> Executable:
    # The definitions come from the process cache (a version is immutable once a wave uses
    # it); the rows are read without their big columns.
    return select(ChecklistVersion).where(
        ChecklistVersion.id.in_(bindparam("version_ids", expanding=True))
    )


def _bundle(user: User) -> tuple[list[dict[str, Any]], list[ChecklistVersion]]:
    open_assignments = db.session.execute(_assignments_statement(), {"shopper_id": user.id}).all()
    staff: dict[int, list[dict[str, Any]]] = {}
    branch_ids = sorted({a.branch_id for a in open_assignments})
    if branch_ids:
        staff_rows = db.session.execute(
            _staff_statement(), {"branch_ids": branch_ids, "today": clock.now().date()}
        ).all()
        for branch_id, staff_id, name, position in staff_rows:
            staff.setdefault(branch_id, []).append(
                {"id": staff_id, "full_name": name, "position": position}
            )
    version_ids = sorted({a.checklist_version_id for a in open_assignments})
    versions = (
        list(db.session.execute(_versions_statement(), {"version_ids": version_ids}).scalars())
        if version_ids
        else []
    )
    assignments = [
        {
            "id": a.id,
            "wave_id": a.wave_id,
            "checklist_version_id": a.checklist_version_id,
            "window_start": a.window_start.isoformat(),
            "window_end": a.window_end.isoformat(),
            "day_part": a.day_part,
            "due_at": a.due_at.isoformat(),
            "branch": {
                "id": a.branch_id,
                "code": a.branch_code,
                "name": a.branch_name,
                "kind": a.branch_kind,
                "city": a.branch_city,
                "address": a.branch_address,
                "timezone": a.branch_timezone,
                "staff": staff.get(a.branch_id, []),
            },
            "audit": None
            if a.audit_id is None
            else {
                "client_uuid": str(a.client_uuid),
                "status": a.status,
                "answers": a.answers,
                "comment": a.comment,
                "review_comment": a.review_comment,
                "version": a.version,
            },
        }
        for a in open_assignments
    ]
    return assignments, versions


def shopper_bundle(user: User) -> dict[str, Any]:
    """Everything a shopper's phone caches for offline work: open assignments, their branches
    with staff lists, the checklists (by checklist version id), and returned reports with the
    reviewer's comments."""
    assignments, versions = _bundle(user)
    return {
        "assignments": assignments,
        "checklists": {str(v.id): definition_of(v) for v in versions},
    }


def shopper_bundle_json(user: User) -> str:
    """``shopper_bundle`` as JSON text, with each checklist's text encoded once per content."""
    assignments, versions = _bundle(user)
    checklists = ",".join(f'"{v.id}":{definition_json(v)}' for v in versions)
    encoded = json.dumps(assignments, ensure_ascii=False, separators=(",", ":"))
    return f'{{"assignments":{encoded},"checklists":{{{checklists}}}}}'
