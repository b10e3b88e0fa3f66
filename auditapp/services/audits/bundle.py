"""The shopper's offline bundle: open assignments, their branches with staff lists, the
checklists, and returned reports with the reviewer's comments (read-only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

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
from auditapp.services.checklists import definition_of


def shopper_bundle(user: User) -> dict[str, Any]:
    """Everything a shopper's phone caches for offline work: open assignments, their branches
    with staff lists, the checklists, and returned reports with the reviewer's comments."""
    # One statement of plain columns (no ORM objects to build: this runs on every sync of
    # every phone): the assignment, its wave's checklist version, its branch, its open audit.
    open_assignments = db.session.execute(
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
        .where(Assignment.shopper_id == user.id)
        .where(Audit.id.is_(None) | Audit.status.in_(OPEN_STATUSES))
        .order_by(Assignment.window_start, Assignment.id)
    ).all()
    branch_ids = {a.branch_id for a in open_assignments}
    today = clock.now().date()
    staff_rows = db.session.execute(
        select(
            StaffPlacement.branch_id, StaffMember.id, StaffMember.full_name, StaffPlacement.position
        )
        .join(StaffMember, StaffMember.id == StaffPlacement.staff_member_id)
        .where(
            StaffPlacement.branch_id.in_(branch_ids),
            (StaffPlacement.ended_on.is_(None)) | (StaffPlacement.ended_on >= today),
        )
        .order_by(StaffMember.full_name)
    ).all()
    staff: dict[int, list[dict[str, Any]]] = {}
    for branch_id, staff_id, name, position in staff_rows:
        staff.setdefault(branch_id, []).append(
            {"id": staff_id, "full_name": name, "position": position}
        )
    version_ids = {a.checklist_version_id for a in open_assignments}
    # The definitions come from the process cache (a version is immutable once a wave uses it);
    # the rows are read without their big columns.
    versions = db.session.execute(
        select(ChecklistVersion).where(ChecklistVersion.id.in_(version_ids))
    ).scalars()
    return {
        "assignments": [
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
        ],
        "checklists": {str(v.id): definition_of(v) for v in versions},
    }
