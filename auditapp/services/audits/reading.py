"""Reading audits: lists in the caller's scope, one audit redacted for the caller's role, its
red flags, and the reviewers' queue."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Integer,
    Select,
    True_,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import defaultload, joinedload, selectinload

from auditapp import access, visibility
from auditapp.domain.review import PhotoFacts, RedFlag, VisitFacts, red_flags
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
    User,
)
from auditapp.services.errors import NotFound
from auditapp.services.pagination import Page, paginate


@dataclass(frozen=True)
class AuditFilters(Page):
    """Which audits to list (each filter optional), and which page."""

    branch_id: int | None = None
    wave_id: int | None = None
    checklist_version_id: int | None = None
    status: str | None = None


def list_audits(user: User, filters: AuditFilters) -> dict[str, Any]:
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
    if filters.branch_id is not None:
        query = query.where(Audit.branch_id == filters.branch_id)
    if filters.status is not None:
        query = query.where(Audit.status == filters.status)
    if filters.checklist_version_id is not None:
        query = query.where(Audit.checklist_version_id == filters.checklist_version_id)
    if filters.wave_id is not None:
        query = query.join(Assignment).where(Assignment.wave_id == filters.wave_id)
    query = query.order_by(Audit.id.desc())  # newest first, along the primary key
    page = paginate(query, filters.page, filters.per_page)
    page["items"] = [visibility.audit_summary(user, audit) for audit in page["items"]]
    return page


@functools.cache
def _detail_statement() -> Select[Audit]:
    """The audit with what its detail and red flags read of the branch, assignment, checklist
    version and shopper, in one statement; built once (its loader options cost about as much
    to build as the statement takes to run)."""
    # Staff served (with their names) and disputes come in one simple SELECT each when read:
    # for a single audit that costs less than selectinload's IN-list machinery (measured with
    # bench/api.py --http); photos and history as narrow rows (``audit_view``).
    return select(Audit).options(
        joinedload(Audit.branch, innerjoin=True),
        joinedload(Audit.assignment, innerjoin=True),
        joinedload(Audit.checklist_version, innerjoin=True),
        joinedload(Audit.shopper, innerjoin=True),
        defaultload(Audit.staff_served).joinedload(AuditStaff.staff_member),
    )


def get_audit(user: User, audit_id: int) -> Audit:
    """An audit in the caller's scope, else NotFound."""
    audit = db.session.execute(
        _detail_statement().where(Audit.id == audit_id, access.audit_filter(user))
    ).scalar_one_or_none()
    if audit is None:
        raise NotFound(f"Audit {audit_id} not found.")
    return audit


@functools.cache
def _photos_statement() -> Select[Any]:
    """An audit's photos: only the columns the views read (rows, not ORM objects)."""
    columns = [getattr(AuditPhoto, name) for name in visibility.PHOTO_COLUMNS]
    return (
        select(*columns).where(AuditPhoto.audit_id == bindparam("audit_id")).order_by(AuditPhoto.id)
    )


@functools.cache
def _history_statement() -> Select[Any]:
    """An audit's history: only the columns the views read (rows, not ORM objects)."""
    columns = [getattr(AuditHistory, name) for name in visibility.HISTORY_COLUMNS]
    return (
        select(*columns)
        .where(AuditHistory.audit_id == bindparam("audit_id"))
        .order_by(AuditHistory.id)
    )


def audit_view(user: User, audit_id: int) -> visibility.AuditView:
    """One audit in the caller's scope, redacted for the caller's role (red flags for QA),
    over the ORM audit: for outputs that read more of it than the API's detail (PDFs, ZIPs).

    Its photos and history come as narrow rows (no ORM objects); the view is the same."""
    audit = get_audit(user, audit_id)
    photos = db.session.execute(_photos_statement(), {"audit_id": audit.id}).all()
    history = db.session.execute(_history_statement(), {"audit_id": audit.id}).all()
    return visibility.audit_view(
        user, audit, lambda a: flags_of(a, photos), photos=photos, history=history
    )


@functools.cache
def _record_statement() -> Select[Any]:
    """The audit's own columns and what its detail and red flags read of its branch,
    assignment, checklist version and shopper, as one row (Core columns: no ORM objects)."""
    audit, branch = Audit.__table__, Branch.__table__
    assignment, version, shopper = Assignment.__table__, ChecklistVersion.__table__, User.__table__
    extra = [
        branch.c.code.label("_branch_code"),
        branch.c.timezone.label("_branch_timezone"),
        branch.c.latitude.label("_branch_latitude"),
        branch.c.longitude.label("_branch_longitude"),
        assignment.c.due_at.label("_due_at"),
        assignment.c.window_start.label("_window_start"),
        assignment.c.window_end.label("_window_end"),
        version.c.slug.label("_version_slug"),
        version.c.version.label("_version_version"),
        shopper.c.display_name.label("_shopper_name"),
    ]
    return (
        select(*audit.c, *extra)
        .select_from(
            audit.join(branch, branch.c.id == audit.c.branch_id)
            .join(assignment, assignment.c.id == audit.c.assignment_id)
            .join(version, version.c.id == audit.c.checklist_version_id)
            .join(shopper, shopper.c.id == audit.c.shopper_id)
        )
        .where(audit.c.id == bindparam("audit_id"))
    )


#: The parts of an audit read together with ``_parts_statement``: (kind, table, the columns
#: read). Staff served carry the served member's name (``staff_member_name``).
_PART_KINDS: Final = ("photo", "history", "staff", "dispute")


@functools.cache
def _parts_statement() -> tuple[CompoundSelect, dict[str, tuple[str, ...]], dict[str, slice]]:
    """An audit's photos, history, staff served (with names) and disputes in ONE statement
    (a ``UNION ALL``; one round trip instead of four): each row has the part's kind, its id
    (for the order) and the columns of every kind, NULL but for its own. Built once.

    Returns the statement, the column names of each kind, and where they sit in a row."""
    photo, history = AuditPhoto.__table__, AuditHistory.__table__
    staff, member, dispute = AuditStaff.__table__, StaffMember.__table__, Dispute.__table__
    columns: dict[str, list[tuple[str, Any]]] = {
        "photo": [(name, photo.c[name]) for name in visibility.PHOTO_COLUMNS],
        "history": [(name, history.c[name]) for name in visibility.HISTORY_COLUMNS],
        "staff": [
            ("staff_role", staff.c.staff_role),
            ("staff_member_id", staff.c.staff_member_id),
            ("description", staff.c.description),
            ("staff_member_name", member.c.full_name),
        ],
        "dispute": [(column.name, column) for column in dispute.c],
    }
    sources = {
        "photo": (photo, photo.c.audit_id, photo.c.id),
        "history": (history, history.c.audit_id, history.c.id),
        "staff": (
            staff.outerjoin(member, member.c.id == staff.c.staff_member_id),
            staff.c.audit_id,
            staff.c.id,
        ),
        "dispute": (dispute, dispute.c.audit_id, dispute.c.id),
    }
    selects = []
    for number, kind in enumerate(_PART_KINDS):
        source, audit_id, order = sources[kind]
        values = [literal_column(str(number), Integer).label("part"), order.label("part_order")]
        for other in _PART_KINDS:
            for name, column in columns[other]:
                label = f"{other}__{name}"
                # Another kind's column: a NULL cast to that column's type (PostgreSQL types
                # a bare NULL as text; the result column keeps its type's conversion).
                value = column if other == kind else cast(null(), column.type)
                values.append(value.label(label))
        selects.append(select(*values).select_from(source).where(audit_id == bindparam("audit_id")))
    statement = union_all(*selects).order_by(text("part"), text("part_order"))
    names = {kind: tuple(name for name, _ in columns[kind]) for kind in _PART_KINDS}
    places: dict[str, slice] = {}
    at = 2
    for kind in _PART_KINDS:
        places[kind] = slice(at, at + len(names[kind]))
        at += len(names[kind])
    return statement, names, places


def _audit_parts(
    connection: Connection, audit_id: int
) -> tuple[
    list[visibility.ColumnRecord],
    list[visibility.ColumnRecord],
    list[visibility.StaffServedRecord],
    list[visibility.ColumnRecord],
]:
    """An audit's photos, history, staff served and disputes, each in id order."""
    statement, names, places = _parts_statement()
    parts: list[list[visibility.ColumnRecord]] = [[] for _ in _PART_KINDS]
    for row in connection.execute(statement, {"audit_id": audit_id}):
        kind = _PART_KINDS[row[0]]
        parts[row[0]].append(visibility.ColumnRecord(names[kind], row[places[kind]]))
    photos, history, staff_rows, disputes = parts
    staff = [
        visibility.StaffServedRecord(
            r.staff_role,
            r.staff_member_id,
            r.description,
            None if r.staff_member_name is None else visibility.StaffName(r.staff_member_name),
        )
        for r in staff_rows
    ]
    return photos, history, staff, disputes


def audit_detail(user: User, audit_id: int) -> visibility.AuditView:
    """One audit in the caller's scope for the API's detail: the same redacted view as
    ``audit_view``, built from Core rows (an ``AuditRecord``) instead of ORM objects, which
    cost most of the request, in two statements (the audit, then its parts). The scope rule is
    the same ``access.audit_filter``."""
    connection = db.session.connection()
    scope = access.audit_filter(user)
    statement = _record_statement()
    if not isinstance(scope, True_):  # HQ reaches every audit: the statement built once
        statement = statement.where(scope)
    row = connection.execute(statement, {"audit_id": audit_id}).first()
    if row is None:
        raise NotFound(f"Audit {audit_id} not found.")
    photos, history, staff, disputes = _audit_parts(connection, audit_id)
    record = visibility.AuditRecord(row, staff, disputes)
    return visibility.audit_view(
        user, record, lambda a: flags_of(a, photos), photos=photos, history=history
    )


def flags_of(
    audit: visibility.AuditLike, photos: Sequence[visibility.PhotoLike] | None = None
) -> list[RedFlag]:
    """The red flags of an audit, from what is stored now (photos may still be processing);
    ``photos`` when they are already loaded (by default the audit's collection)."""
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
                for p in (audit.photos if photos is None else photos)
                if p.purpose == "evidence" and p.status != "withdrawn"
            ],
        )
    )


def review_queue(user: User, filters: Page) -> dict[str, Any]:
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
    page = paginate(query, filters.page, filters.per_page)
    page["items"] = [visibility.audit_summary(user, audit, flags_of) for audit in page["items"]]
    return page
