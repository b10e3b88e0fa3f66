"""The audit lifecycle as use cases: the shopper's bundle, drafts, idempotent submission,
QA review, release and disputes. Every change after submission is appended to the history.

Scores are computed here, on the server, with the domain's scoring engine, and stored on the
audit, so ratings never re-score answers and nothing trusts the client for a score.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defaultload, joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from auditapp import access, clock, visibility
from auditapp.domain.checklist import Checklist
from auditapp.domain.lifecycle import TransitionRefused, next_status
from auditapp.domain.review import PhotoFacts, RedFlag, VisitFacts, red_flags
from auditapp.domain.scoring import (
    AnswerError,
    ItemProblem,
    check_photo_rules,
    score_audit,
    validate_answers,
)
from auditapp.domain.vocabulary import OPEN_STATUSES
from auditapp.extensions import db
from auditapp.models import (
    Assignment,
    Audit,
    AuditHistory,
    AuditPhoto,
    AuditStaff,
    Branch,
    ChecklistVersion,
    Dispute,
    StaffMember,
    StaffPlacement,
    User,
    Wave,
)
from auditapp.services import ratings as rating_service
from auditapp.services.checklists import checklist_of, definition_of
from auditapp.services.errors import Conflict, Invalid, NotFound
from auditapp.services.pagination import paginate


def _now() -> datetime:
    return clock.now()


def _problems_by_item(problems: list[ItemProblem]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        grouped.setdefault(problem.item_id, []).append(problem.message)
    return grouped


def _history(
    audit: Audit,
    actor: User | None,
    action: str,
    *,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    reason: str = "",
) -> None:
    db.session.add(
        AuditHistory(
            audit=audit,
            at=_now(),
            actor_id=actor.id if actor else None,
            actor_role=actor.role if actor else "system",
            action=action,
            field=field,
            old_value=old,
            new_value=new,
            reason=reason,
        )
    )


def _transition(audit: Audit, action: str) -> str:
    try:
        return next_status(audit.status, action)
    except TransitionRefused as error:
        raise Conflict(str(error), code="transition_refused") from error


def _check_version(audit: Audit, expected: int) -> None:
    """Optimistic concurrency: the caller says which version they looked at (never optional)."""
    if expected != audit.version:
        raise Conflict(
            f"The audit changed meanwhile (version {audit.version}, you had {expected}); "
            "reload it and try again.",
            code="stale_version",
        )


def _commit_or_conflict() -> None:
    try:
        db.session.commit()
    except StaleDataError as error:
        db.session.rollback()
        raise Conflict(
            "The audit changed meanwhile; reload it and try again.", code="stale_version"
        ) from error


def checklist_for(audit: Audit) -> Checklist:
    """The checklist version the audit was filled with."""
    return checklist_of(audit.checklist_version)


# The shopper's side ------------------------------------------------------------------------


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
    today = _now().date()
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


def _own_assignment(user: User, assignment_id: int) -> Assignment:
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


def _own_audit_by_uuid(user: User, client_uuid: uuid.UUID, *, lock: bool = False) -> Audit | None:
    audit = _find_by_uuid(client_uuid, lock=lock)
    if audit is not None and audit.shopper_id != user.id:
        # Someone else's UUID: indistinguishable from a clash, and reveals nothing.
        raise Conflict("This report id is already in use.", code="uuid_taken")
    return audit


def _new_audit(user: User, client_uuid: uuid.UUID, assignment: Assignment) -> Audit:
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


def ensure_draft(user: User, client_uuid: uuid.UUID, assignment_id: int) -> Audit:
    """The shopper's audit for this UUID, created as a draft on first use (photos may arrive
    before any answers). Concurrent first uses create one row."""
    audit = _own_audit_by_uuid(user, client_uuid)
    if audit is not None:
        if audit.assignment_id != assignment_id:
            raise Conflict("This report belongs to another assignment.", code="uuid_taken")
        return audit
    assignment = _own_assignment(user, assignment_id)
    if assignment.audit is not None:
        if assignment.audit.client_uuid == client_uuid:
            return assignment.audit  # created by a concurrent request since we looked
        raise Conflict(
            "This assignment already has a report with another id.", code="assignment_taken"
        )
    audit = _new_audit(user, client_uuid, assignment)
    db.session.add(audit)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = _own_audit_by_uuid(user, client_uuid)
        if existing is None or existing.assignment_id != assignment_id:
            raise Conflict(
                "This assignment already has a report with another id.", code="assignment_taken"
            ) from None
        return existing
    return audit


def save_draft(user: User, client_uuid: uuid.UUID, payload: dict[str, Any]) -> Audit:
    """Save partial answers as the shopper goes; values are checked, completeness is not."""
    audit = ensure_draft(user, client_uuid, payload["assignment_id"])
    audit = _own_audit_by_uuid(user, client_uuid, lock=True) or audit
    _transition(audit, "save_draft")
    problems = validate_answers(checklist_for(audit), payload["answers"], complete=False)
    if problems:
        raise Invalid("Some answers are invalid.", fields={"answers": _problems_by_item(problems)})
    audit.answers = dict(payload["answers"])
    for name in ("comment", "visit_started_at", "visit_ended_at"):
        if payload.get(name) is not None:
            setattr(audit, name, payload[name])
    db.session.commit()
    return audit


def submission_hash(payload: dict[str, Any]) -> str:
    """A digest of what was submitted; the device's own clock reading is left out so that a
    retry from the outbox is recognised as the same submission."""
    content = {
        "assignment_id": payload["assignment_id"],
        "answers": payload["answers"],
        "comment": payload.get("comment", ""),
        # The same instant sent with another UTC offset is the same submission.
        "visit_started_at": payload["visit_started_at"].astimezone(UTC).isoformat(),
        "visit_ended_at": payload["visit_ended_at"].astimezone(UTC).isoformat(),
        "geo": payload.get("geo"),
        "staff": sorted(
            json.dumps(s, sort_keys=True, ensure_ascii=False) for s in payload.get("staff", [])
        ),
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_staff(
    checklist: Checklist, audit: Audit, staff: list[dict[str, Any]]
) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    branch = db.session.get(Branch, audit.branch_id)
    assert branch is not None
    # The visit day as the branch's calendar has it (placements are dated locally).
    visit_day = (audit.visit_started_at or _now()).astimezone(ZoneInfo(branch.timezone)).date()
    ids = {s["staff_member_id"] for s in staff if s.get("staff_member_id") is not None}
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
        if entry["staff_role"] not in checklist.staff_roles:
            roles = ", ".join(checklist.staff_roles) or "none"
            problems.setdefault(key, []).append(
                f"Unknown staff role {entry['staff_role']!r}; this checklist has: {roles}."
            )
        member = entry.get("staff_member_id")
        if member is None and not (entry.get("description") or "").strip():
            problems.setdefault(key, []).append("Pick the employee or describe them.")
        if member is not None and member not in placed:
            problems.setdefault(key, []).append("Not on this branch's staff on the visit day.")
    return problems


def _photo_counts(audit: Audit) -> dict[str, int]:
    counts: dict[str, int] = {}
    for photo in audit.photos:
        if photo.purpose == "evidence" and photo.status in ("processing", "ready"):
            counts[photo.item_id] = counts.get(photo.item_id, 0) + 1
    return counts


def submit(user: User, client_uuid: uuid.UUID, payload: dict[str, Any]) -> tuple[Audit, bool]:
    """Submit a visit report. Returns (audit, created): created is False for a retry of the
    same submission. A different content under the same UUID is a Conflict, except when the
    reviewer returned the report for fixes."""
    digest = submission_hash(payload)
    for attempt in range(2):
        audit = _own_audit_by_uuid(user, client_uuid, lock=True)
        if audit is not None and audit.assignment_id != payload["assignment_id"]:
            raise Conflict("This report belongs to another assignment.", code="uuid_taken")
        if audit is not None and audit.status not in OPEN_STATUSES:
            if audit.submission_hash == digest:
                db.session.rollback()
                return audit, False
            raise Conflict(
                f"This report was already submitted with other content (it is {audit.status}).",
                code="submission_differs",
            )
        if audit is None:
            assignment = _own_assignment(user, payload["assignment_id"])
            if assignment.audit is not None and assignment.audit.client_uuid == client_uuid:
                db.session.rollback()  # created concurrently since we looked: read it again
                continue
            if assignment.audit is not None:
                raise Conflict(
                    "This assignment already has a report with another id.",
                    code="assignment_taken",
                )
            audit = _new_audit(user, client_uuid, assignment)
            db.session.add(audit)
        try:
            # One UPDATE at commit: autoflush would write (and version) the audit per query.
            with db.session.no_autoflush:
                _apply_submission(user, audit, payload, digest)
            # The answer is made of what this transaction wrote: keep it loaded instead of
            # reading the audit, its branch, checklist version and shopper back after COMMIT.
            session = db.session()
            session.expire_on_commit = False
            try:
                session.commit()
            finally:
                session.expire_on_commit = True
        except (IntegrityError, StaleDataError):
            # A concurrent submit got there first (inserted the row, or changed it where the
            # database has no row locks): read what it stored and compare.
            db.session.rollback()
            if attempt == 0:
                continue
            raise Conflict("The report was submitted concurrently; retry.") from None
        return audit, True
    raise Conflict("The report was submitted concurrently; retry.")


def _apply_submission(user: User, audit: Audit, payload: dict[str, Any], digest: str) -> None:
    checklist = checklist_for(audit)
    previous_status = audit.status
    new_status = _transition(audit, "submit")
    answers = payload["answers"]
    fields: dict[str, Any] = {}
    answer_problems = validate_answers(checklist, answers, complete=True)
    if answer_problems:
        fields["answers"] = _problems_by_item(answer_problems)
    photo_problems = check_photo_rules(checklist, answers, _photo_counts(audit))
    if photo_problems:
        fields["photos"] = _problems_by_item(photo_problems)
    start, end = payload["visit_started_at"], payload["visit_ended_at"]
    if end < start:
        fields["visit_ended_at"] = ["The visit ends before it starts."]
    audit.visit_started_at = start
    staff_problems = _check_staff(checklist, audit, payload.get("staff", []))
    if staff_problems:
        fields["staff"] = staff_problems
    if fields:
        db.session.rollback()
        raise Invalid("The report is not complete or has invalid values.", fields=fields)
    try:
        result = score_audit(checklist, answers)
    except AnswerError as error:  # validate_answers passed, so this would be a bug
        raise Invalid("Answers cannot be scored.", fields={"answers": str(error)}) from error
    now = _now()
    old_answers, old_score = dict(audit.answers or {}), audit.score
    audit.answers = dict(answers)
    audit.comment = payload.get("comment", "")
    audit.visit_ended_at = end
    audit.device_submitted_at = payload.get("device_submitted_at")
    geo = payload.get("geo") or {}
    audit.geo_lat, audit.geo_lon = geo.get("lat"), geo.get("lon")
    audit.geo_accuracy_m = geo.get("accuracy_m")
    audit.staff_served = [
        AuditStaff(
            staff_role=s["staff_role"],
            staff_member_id=s.get("staff_member_id"),
            description=(s.get("description") or "").strip(),
        )
        for s in payload.get("staff", [])
    ]
    audit.submitted_at = now
    audit.first_submitted_at = audit.first_submitted_at or now
    audit.submission_hash = digest
    audit.status = new_status
    _store_score(audit, result.to_dict())
    if previous_status == "returned":
        for item_id in sorted(set(old_answers) | set(answers)):
            if old_answers.get(item_id, "<none>") != answers.get(item_id, "<none>"):
                _history(
                    audit,
                    user,
                    "answer_changed",
                    field=f"answers.{item_id}",
                    old=old_answers.get(item_id),
                    new=answers.get(item_id),
                    reason="Fixed after the reviewer returned the report.",
                )
        _history(audit, user, "resubmitted", field="score", old=old_score, new=audit.score)
    else:
        _history(audit, user, "submitted", field="score", old=None, new=audit.score)


def _store_score(audit: Audit, detail: dict[str, Any]) -> None:
    audit.score = detail["score"]
    audit.earned = detail["earned"]
    audit.possible = detail["possible"]
    audit.score_detail = detail


# Reading -----------------------------------------------------------------------------------


def list_audits(user: User, filters: dict[str, Any]) -> dict[str, Any]:
    """Audits in the caller's scope, newest visit first."""
    # What the summary shows of the branch, checklist version and shopper (the branch side
    # does not see the shopper), joined in the page's own statement.
    query = (
        select(Audit)
        .where(access.audit_filter(user))
        .options(
            joinedload(Audit.branch, innerjoin=True),
            joinedload(Audit.checklist_version, innerjoin=True),
        )
    )
    if access.sees_shopper_identity(user):
        query = query.options(joinedload(Audit.shopper, innerjoin=True))
    for name in ("branch_id", "status", "checklist_version_id"):
        if name in filters:
            query = query.where(getattr(Audit, name) == filters[name])
    if "wave_id" in filters:
        query = query.join(Assignment).where(Assignment.wave_id == filters["wave_id"])
    query = query.order_by(Audit.id.desc())  # newest first, along the primary key
    page = paginate(query, filters["page"], filters["per_page"])
    page["items"] = [visibility.audit_summary(user, audit) for audit in page["items"]]
    return page


def get_audit(user: User, audit_id: int) -> Audit:
    """An audit in the caller's scope, else NotFound."""
    audit = db.session.execute(
        select(Audit)
        .where(Audit.id == audit_id, access.audit_filter(user))
        .options(
            # What the detail and its red flags read of the branch, assignment, checklist
            # version and shopper comes in this statement; each collection (photos, staff
            # served with their names, disputes, history) in one simple SELECT when read: for a
            # single audit that costs less than selectinload's IN-list machinery (measured with
            # bench/api.py --http), in as many statements.
            joinedload(Audit.branch, innerjoin=True),
            joinedload(Audit.assignment, innerjoin=True),
            joinedload(Audit.checklist_version, innerjoin=True),
            joinedload(Audit.shopper, innerjoin=True),
            defaultload(Audit.staff_served).joinedload(AuditStaff.staff_member),
        )
    ).scalar_one_or_none()
    if audit is None:
        raise NotFound(f"Audit {audit_id} not found.")
    return audit


def audit_view(user: User, audit_id: int) -> visibility.AuditView:
    """One audit in the caller's scope, redacted for the caller's role (red flags for QA)."""
    return visibility.audit_view(user, get_audit(user, audit_id), flags_of)


def flags_of(audit: Audit) -> list[RedFlag]:
    """The red flags of an audit, from what is stored now (photos may still be processing)."""
    branch = audit.branch
    location = (
        (branch.latitude, branch.longitude)
        if branch.latitude is not None and branch.longitude is not None
        else None
    )
    geo = (
        (audit.geo_lat, audit.geo_lon)
        if audit.geo_lat is not None and audit.geo_lon is not None
        else None
    )
    return red_flags(
        VisitFacts(
            channel=audit.channel,
            visit_started_at=audit.visit_started_at,
            visit_ended_at=audit.visit_ended_at,
            first_submitted_at=audit.first_submitted_at,
            due_at=audit.assignment.due_at,
            window_start=audit.assignment.window_start,
            window_end=audit.assignment.window_end,
            timezone=branch.timezone,
            geo=geo,
            geo_accuracy_m=audit.geo_accuracy_m,
            branch_location=location,
            photos=[
                PhotoFacts(p.id, p.item_id, p.captured_at, p.reuse_kind)
                for p in audit.photos
                if p.purpose == "evidence" and p.status != "withdrawn"
            ],
        )
    )


def review_queue(user: User, filters: dict[str, Any]) -> dict[str, Any]:
    """Submitted audits, oldest first (first in, first reviewed), with their red flags."""
    query = (
        select(Audit)
        .where(Audit.status == "submitted")
        .options(
            selectinload(Audit.branch),
            selectinload(Audit.photos),
            selectinload(Audit.assignment),
            selectinload(Audit.shopper),
            selectinload(Audit.checklist_version),
        )
        .order_by(Audit.submitted_at, Audit.id)
    )
    page = paginate(query, filters["page"], filters["per_page"])
    page["items"] = [visibility.audit_summary(user, audit, flags_of) for audit in page["items"]]
    return page


# QA review ---------------------------------------------------------------------------------


def _locked_audit(audit_id: int) -> Audit:
    audit = db.session.execute(
        select(Audit).where(Audit.id == audit_id).with_for_update()
    ).scalar_one_or_none()
    if audit is None:
        raise NotFound(f"Audit {audit_id} not found.")
    return audit


def review(actor: User, audit_id: int, action: str, comment: str, expected: int) -> Audit:
    """approve / return / reject a submitted audit (with the reviewer's comment)."""
    audit = _locked_audit(audit_id)
    _check_version(audit, expected)
    new_status = _transition(audit, action)
    if action in ("return", "reject") and not comment.strip():
        raise Invalid("Say why.", fields={"comment": ["Required when returning or rejecting."]})
    old_status = audit.status
    audit.status = new_status
    audit.reviewed_at = _now()
    audit.reviewed_by_id = actor.id
    audit.review_comment = comment.strip()
    _history(audit, actor, action, field="status", old=old_status, new=new_status, reason=comment)
    _commit_or_conflict()
    return audit


def release(actor: User, audit_id: int, expected: int) -> Audit:
    """Release an approved audit to the branch: its manager sees it and may dispute items."""
    audit = _locked_audit(audit_id)
    _check_version(audit, expected)
    audit.status = _transition(audit, "release")
    audit.released_at = _now()
    _history(audit, actor, "released", field="status", old="approved", new="released")
    rating_service.record_released([audit])  # counts from now on, in this transaction
    _commit_or_conflict()
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
    now = _now()
    for audit in audits:
        audit.status = "released"
        audit.released_at = now
        _history(audit, actor, "released", field="status", old="approved", new="released")
    rating_service.record_released(audits)  # counts from now on, in this transaction
    _commit_or_conflict()
    return len(audits)


# Disputes ----------------------------------------------------------------------------------


def raise_dispute(actor: User, audit_id: int, fields: dict[str, Any]) -> Dispute:
    """A manager challenges one item of a released audit of their branch, within the window."""
    audit = get_audit(actor, audit_id)  # scope: manager's branches, released only
    _transition(audit, "dispute")
    window = timedelta(days=int(current_app.config["DISPUTE_WINDOW_DAYS"]))
    assert audit.released_at is not None
    if _now() > audit.released_at + window:
        raise Conflict(
            f"Disputes are accepted for {window.days} days after release.",
            code="dispute_window_closed",
        )
    checklist = checklist_for(audit)
    item_id = fields["item_id"]
    if not checklist.has_item(item_id) or not checklist.item(item_id).scored:
        raise Invalid("No such scored item.", fields={"item_id": [f"Unknown item {item_id!r}."]})
    if "requested_value" in fields:
        problems = validate_answers(checklist, {item_id: fields["requested_value"]}, complete=False)
        if problems:
            raise Invalid(
                "Invalid value.", fields={"requested_value": [p.message for p in problems]}
            )
    audit = _locked_audit(audit_id)
    _check_version(audit, fields["version"])
    if any(d.item_id == item_id and d.status == "open" for d in audit.disputes):
        raise Conflict("This item is already disputed.", code="dispute_open")
    photo_id = None
    if fields.get("photo_uuid") is not None:
        photo = db.session.execute(
            select(AuditPhoto).where(
                AuditPhoto.client_uuid == fields["photo_uuid"],
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
        reason=fields["reason"].strip(),
        requested_value=fields.get("requested_value"),
        photo_id=photo_id,
        raised_by_id=actor.id,
        raised_at=_now(),
    )
    db.session.add(dispute)
    _history(
        audit,
        actor,
        "disputed",
        field=f"answers.{item_id}",
        old=audit.answers.get(item_id),
        new=fields.get("requested_value"),
        reason=dispute.reason,
    )
    db.session.commit()
    return dispute


def _locked_dispute(dispute_id: int) -> Dispute:
    dispute = db.session.execute(
        select(Dispute).where(Dispute.id == dispute_id).with_for_update()
    ).scalar_one_or_none()
    if dispute is None:
        raise NotFound(f"Dispute {dispute_id} not found.")
    return dispute


def resolve_dispute(
    actor: User,
    dispute_id: int,
    uphold: bool,
    reason: str,
    new_value: Any,
    has_value: bool,
    expected: int,
) -> Dispute:
    """The reviewer upholds (the answer changes, the score is recomputed) or rejects."""
    dispute = _locked_dispute(dispute_id)
    if dispute.status != "open":
        raise Conflict(f"The dispute is already {dispute.status}.", code="dispute_closed")
    audit = _locked_audit(dispute.audit_id)
    _check_version(audit, expected)
    if not reason.strip():
        raise Invalid("Say why.", fields={"reason": ["Required."]})
    dispute.status = "upheld" if uphold else "rejected"
    dispute.resolved_by_id = actor.id
    dispute.resolved_at = _now()
    dispute.resolution = reason.strip()
    if uphold:
        value = new_value if has_value else dispute.requested_value
        if not has_value and dispute.requested_value is None:
            raise Invalid("Give the corrected answer.", fields={"new_value": ["Required."]})
        change_answer(actor, audit, dispute.item_id, value, reason, action="dispute_upheld")
    else:
        _history(
            audit,
            actor,
            "dispute_rejected",
            field=f"answers.{dispute.item_id}",
            old=audit.answers.get(dispute.item_id),
            new=audit.answers.get(dispute.item_id),
            reason=reason,
        )
    _commit_or_conflict()
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
    _store_score(audit, result)
    rating_service.record_rescored(audit)  # a released audit's ratings change with it
    _history(
        audit, actor, action, field=f"answers.{item_id}", old=old_value, new=value, reason=reason
    )
    _history(
        audit, actor, "score_changed", field="score", old=old_score, new=audit.score, reason=reason
    )


def list_disputes(user: User, audit_id: int) -> list[Dispute]:
    """The disputes of an audit the caller may see."""
    return list(get_audit(user, audit_id).disputes)


def open_disputes(user: User, filters: dict[str, Any]) -> dict[str, Any]:
    """Disputes of the audits ``user`` may see (HQ: all; managers and directors: their
    branches' released audits), oldest first; open ones unless ``status`` says otherwise."""
    query = (
        select(Dispute).join(Audit, Dispute.audit_id == Audit.id).where(access.audit_filter(user))
    )
    if filters.get("status", "open") != "any":
        query = query.where(Dispute.status == filters.get("status", "open"))
    if "branch_id" in filters:
        query = query.where(Audit.branch_id == filters["branch_id"])
    return paginate(
        query.order_by(Dispute.raised_at, Dispute.id), filters["page"], filters["per_page"]
    )
