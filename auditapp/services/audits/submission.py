"""Submitting a visit report: complete answers checked and scored on the server, the photo
rules, the staff who served; idempotent for a retry from the phone's outbox."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from auditapp import clock
from auditapp.domain.checklist import Checklist
from auditapp.domain.scoring import AnswerError, check_photo_rules, score_audit, validate_answers
from auditapp.domain.vocabulary import OPEN_STATUSES
from auditapp.extensions import db
from auditapp.models import Audit, AuditPhoto, AuditStaff, Branch, StaffPlacement, User
from auditapp.services.audits.common import (
    add_history,
    checklist_for,
    problems_by_item,
    store_score,
    transition,
)
from auditapp.services.audits.drafts import new_audit, own_assignment, own_audit_by_uuid
from auditapp.services.errors import Conflict, Invalid
from auditapp.services.transactions import Clash, commit, rollback


@dataclass(frozen=True)
class Geo:
    """Where the device was (for QA only)."""

    lat: float
    lon: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class StaffServed:
    """Who served the shopper in a staff role: picked from the branch's list, or described."""

    staff_role: str
    staff_member_id: int | None = None
    description: str = ""


@dataclass(frozen=True)
class Submission:
    """The complete report of a visit, as the phone sends it."""

    assignment_id: int
    answers: dict[str, Any]
    visit_started_at: datetime
    visit_ended_at: datetime
    comment: str = ""
    device_submitted_at: datetime | None = None
    geo: Geo | None = None
    staff: list[StaffServed] = field(default_factory=list)


def submission_hash(submission: Submission) -> str:
    """A digest of what was submitted; the device's own clock reading is left out so that a
    retry from the outbox is recognised as the same submission."""
    content = {
        "assignment_id": submission.assignment_id,
        "answers": submission.answers,
        "comment": submission.comment,
        # The same instant sent with another UTC offset is the same submission.
        "visit_started_at": submission.visit_started_at.astimezone(UTC).isoformat(),
        "visit_ended_at": submission.visit_ended_at.astimezone(UTC).isoformat(),
        "geo": dataclasses.asdict(submission.geo) if submission.geo else None,
        "staff": sorted(
            json.dumps(dataclasses.asdict(s), sort_keys=True, ensure_ascii=False)
            for s in submission.staff
        ),
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_staff(
    checklist: Checklist, audit: Audit, staff: list[StaffServed]
) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    branch = db.session.get(Branch, audit.branch_id)
    assert branch is not None
    # The visit day as the branch's calendar has it (placements are dated locally).
    visit_day = (audit.visit_started_at or clock.now()).astimezone(ZoneInfo(branch.timezone)).date()
    ids = {s.staff_member_id for s in staff if s.staff_member_id is not None}
    placed = set(
        db.session.execute(
            select(StaffPlacement.staff_member_id).where(
                StaffPlacement.staff_member_id.in_(ids),
                StaffPlacement.branch_id == audit.branch_id,
                StaffPlacement.started_on <= visit_day,
                (StaffPlacement.ended_on.is_(None)) | (StaffPlacement.ended_on >= visit_day),
            )
        ).scalars()
    )
    for index, entry in enumerate(staff):
        key = f"staff[{index}]"
        if entry.staff_role not in checklist.staff_roles:
            roles = ", ".join(checklist.staff_roles) or "none"
            problems.setdefault(key, []).append(
                f"Unknown staff role {entry.staff_role!r}; this checklist has: {roles}."
            )
        member = entry.staff_member_id
        if member is None and not entry.description.strip():
            problems.setdefault(key, []).append("Pick the employee or describe them.")
        if member is not None and member not in placed:
            problems.setdefault(key, []).append("Not on this branch's staff on the visit day.")
    return problems


def _photo_counts(audit: Audit) -> dict[str, int]:
    """Evidence photos per item that count (processing or ready), counted in SQL."""
    if audit.id is None:
        return {}  # a report submitted before any photo
    rows = db.session.execute(
        select(AuditPhoto.item_id, func.count())
        .where(
            AuditPhoto.audit_id == audit.id,
            AuditPhoto.purpose == "evidence",
            AuditPhoto.status.in_(("processing", "ready")),
        )
        .group_by(AuditPhoto.item_id)
    ).all()
    return {item_id: count for item_id, count in rows}


def submit(user: User, client_uuid: uuid.UUID, submission: Submission) -> tuple[Audit, bool]:
    """Submit a visit report. Returns (audit, created): created is False for a retry of the
    same submission. A different content under the same UUID is a Conflict, except when the
    reviewer returned the report for fixes."""
    digest = submission_hash(submission)
    for attempt in range(2):
        audit = own_audit_by_uuid(user, client_uuid, lock=True)
        if audit is not None and audit.assignment_id != submission.assignment_id:
            raise Conflict("This report belongs to another assignment.", code="uuid_taken")
        if audit is not None and audit.status not in OPEN_STATUSES:
            if audit.submission_hash == digest:
                return audit, False
            raise Conflict(
                f"This report was already submitted with other content (it is {audit.status}).",
                code="submission_differs",
            )
        if audit is None:
            assignment = own_assignment(user, submission.assignment_id)
            if assignment.audit is not None and assignment.audit.client_uuid == client_uuid:
                rollback()  # created concurrently since we looked: start over and read it
                continue
            if assignment.audit is not None:
                raise Conflict(
                    "This assignment already has a report with another id.",
                    code="assignment_taken",
                )
            audit = new_audit(user, client_uuid, assignment)
            db.session.add(audit)
        # One UPDATE at commit: autoflush would write (and version) the audit per query.
        with db.session.no_autoflush:
            _apply_submission(user, audit, submission, digest)
        try:
            # The answer is made of what this transaction wrote: keep it loaded instead of
            # reading the audit, its branch, checklist version and shopper back after COMMIT.
            commit(keep_loaded=True)
        except Clash:
            # A concurrent submit got there first (inserted the row, or changed it where the
            # database has no row locks): read what it stored and compare.
            if attempt == 0:
                continue
            raise
        return audit, True
    raise Conflict("The report was submitted concurrently; retry.")


def _apply_submission(user: User, audit: Audit, submission: Submission, digest: str) -> None:
    checklist = checklist_for(audit)
    previous_status = audit.status
    new_status = transition(audit, "submit")
    answers = submission.answers
    fields: dict[str, Any] = {}
    answer_problems = validate_answers(checklist, answers, complete=True)
    if answer_problems:
        fields["answers"] = problems_by_item(answer_problems)
    photo_problems = check_photo_rules(checklist, answers, _photo_counts(audit))
    if photo_problems:
        fields["photos"] = problems_by_item(photo_problems)
    start, end = submission.visit_started_at, submission.visit_ended_at
    if end < start:
        fields["visit_ended_at"] = ["The visit ends before it starts."]
    audit.visit_started_at = start
    staff_problems = _check_staff(checklist, audit, submission.staff)
    if staff_problems:
        fields["staff"] = staff_problems
    if fields:
        raise Invalid("The report is not complete or has invalid values.", fields=fields)
    try:
        result = score_audit(checklist, answers)
    except AnswerError as error:  # validate_answers passed, so this would be a bug
        raise Invalid("Answers cannot be scored.", fields={"answers": str(error)}) from error
    now = clock.now()
    old_answers, old_score = dict(audit.answers or {}), audit.score
    audit.answers = dict(answers)
    audit.comment = submission.comment
    audit.visit_ended_at = end
    audit.device_submitted_at = submission.device_submitted_at
    geo = submission.geo
    audit.geo_lat, audit.geo_lon = (geo.lat, geo.lon) if geo else (None, None)
    audit.geo_accuracy_m = geo.accuracy_m if geo else None
    if audit.id is not None and audit.first_submitted_at is None:
        # Staff served are written only by a submission: a report never submitted has none,
        # so the collection is known empty without reading it back.
        set_committed_value(audit, "staff_served", [])
    audit.staff_served = [
        AuditStaff(
            staff_role=s.staff_role,
            staff_member_id=s.staff_member_id,
            description=s.description.strip(),
        )
        for s in submission.staff
    ]
    audit.submitted_at = now
    audit.first_submitted_at = audit.first_submitted_at or now
    audit.submission_hash = digest
    audit.status = new_status
    store_score(audit, result.to_dict())
    if previous_status == "returned":
        for item_id in sorted(set(old_answers) | set(answers)):
            if old_answers.get(item_id, "<none>") != answers.get(item_id, "<none>"):
                add_history(
                    audit,
                    user,
                    "answer_changed",
                    field=f"answers.{item_id}",
                    old=old_answers.get(item_id),
                    new=answers.get(item_id),
                    reason="Fixed after the reviewer returned the report.",
                )
        add_history(audit, user, "resubmitted", field="score", old=old_score, new=audit.score)
    else:
        add_history(audit, user, "submitted", field="score", old=None, new=audit.score)
