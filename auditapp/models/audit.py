"""Waves, assignments, audits, their photos, staff served, disputes and the score history."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditapp.domain.vocabulary import AUDIT_STATUSES, DISPUTE_STATUSES, PHOTO_STATUSES
from auditapp.extensions import Base
from auditapp.models.checklist import ChecklistVersion
from auditapp.models.network import Branch, StaffMember
from auditapp.models.types import UTCDateTime, one_of, utcnow
from auditapp.models.user import User

wave_branch = Table(
    "wave_branch",
    Base.metadata,
    Column("wave_id", ForeignKey("wave.id", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", ForeignKey("branch.id"), primary_key=True),
)


class Wave(Base):
    """A period's programme of visits: one checklist version, the branches it covers."""

    __tablename__ = "wave"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        CheckConstraint("visits_per_branch >= 1", name="visits_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_version.id"))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    visits_per_branch: Mapped[int] = mapped_column(default=1)
    # DAY_PARTS the visits are spread over, e.g. ["morning", "afternoon", "evening"].
    day_parts: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    checklist_version: Mapped[ChecklistVersion] = relationship()
    branches: Mapped[list[Branch]] = relationship(secondary=wave_branch, order_by=Branch.code)


class Assignment(Base):
    """A shopper sent to a branch within a window. The database forbids the same shopper at the
    same branch twice in a wave."""

    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("wave_id", "branch_id", "shopper_id"),
        CheckConstraint("window_end >= window_start", name="window_ordered"),
        Index("ix_assignment_shopper_due", "shopper_id", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    shopper_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    window_start: Mapped[date]
    window_end: Mapped[date]
    day_part: Mapped[str | None] = mapped_column(String(20))
    # The end of the window in the branch's time zone, fixed by the server.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    wave: Mapped[Wave] = relationship()
    branch: Mapped[Branch] = relationship()
    shopper: Mapped[User] = relationship()
    audit: Mapped[Audit | None] = relationship(back_populates="assignment", uselist=False)


class Audit(Base):
    """The filled report of one visit: answers, timing, staff served, photos, score, status.

    ``client_uuid`` is made by the phone when the visit starts; its unique constraint is what
    makes a retried submission land once. ``version`` guards against concurrent edits.
    """

    __tablename__ = "audit"
    __table_args__ = (
        CheckConstraint(one_of("status", AUDIT_STATUSES), name="status_known"),
        Index("ix_audit_branch_status", "branch_id", "status"),
        Index("ix_audit_status_submitted", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), unique=True)
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_version.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    shopper_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="in_progress")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(20))
    # Device-reported times: stored for QA, never trusted for a deadline.
    visit_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    visit_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    device_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    geo_lat: Mapped[float | None]
    geo_lon: Mapped[float | None]
    geo_accuracy_m: Mapped[float | None]
    # Server times.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    review_comment: Mapped[str] = mapped_column(Text, default="")
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # sha256 of the canonical submitted content: a retry with the same content is the same.
    submission_hash: Mapped[str | None] = mapped_column(String(64))
    # The score, computed by the server at submission and on every later change.
    score: Mapped[float | None]
    earned: Mapped[float | None]
    possible: Mapped[float | None]
    score_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    assignment: Mapped[Assignment] = relationship(back_populates="audit")
    checklist_version: Mapped[ChecklistVersion] = relationship()
    branch: Mapped[Branch] = relationship()
    shopper: Mapped[User] = relationship(foreign_keys=[shopper_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    photos: Mapped[list[AuditPhoto]] = relationship(
        back_populates="audit", order_by="AuditPhoto.id"
    )
    staff_served: Mapped[list[AuditStaff]] = relationship(
        back_populates="audit", order_by="AuditStaff.id", cascade="all, delete-orphan"
    )
    disputes: Mapped[list[Dispute]] = relationship(back_populates="audit", order_by="Dispute.id")
    history: Mapped[list[AuditHistory]] = relationship(
        back_populates="audit", order_by="AuditHistory.id"
    )


class AuditStaff(Base):
    """Who served the shopper, per staff role: a staff member, or a description."""

    __tablename__ = "audit_staff"
    __table_args__ = (
        CheckConstraint(
            "staff_member_id IS NOT NULL OR description <> ''", name="member_or_description"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id", ondelete="CASCADE"), index=True)
    staff_role: Mapped[str] = mapped_column(String(60))
    staff_member_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")

    audit: Mapped[Audit] = relationship(back_populates="staff_served")
    staff_member: Mapped[StaffMember | None] = relationship()


class AuditPhoto(Base):
    """Photo evidence for one item. The original is kept for QA only; people see re-encoded
    copies with no metadata. Files are stored by content hash."""

    __tablename__ = "audit_photo"
    __table_args__ = (
        CheckConstraint(one_of("status", PHOTO_STATUSES), name="status_known"),
        Index("ix_audit_photo_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(80))
    # One of PHOTO_PURPOSES: "evidence" (the shopper's) or "dispute" (a manager's).
    purpose: Mapped[str] = mapped_column(String(20), default="evidence")
    status: Mapped[str] = mapped_column(String(20), default="processing")
    sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(10))
    byte_size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    original_key: Mapped[str] = mapped_column(String(200))
    display_key: Mapped[str | None] = mapped_column(String(200))
    thumb_key: Mapped[str | None] = mapped_column(String(200))
    phash: Mapped[str | None] = mapped_column(String(16))
    # From the original's EXIF, for QA only.
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    gps_lat: Mapped[float | None]
    gps_lon: Mapped[float | None]
    # Set when the same or a near-identical picture was seen in another audit.
    reused_from_photo_id: Mapped[int | None] = mapped_column(ForeignKey("audit_photo.id"))
    # One of REUSE_KINDS.
    reuse_kind: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The shopper took it back (wrong picture) while the report was open; kept for QA.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    audit: Mapped[Audit] = relationship(back_populates="photos")


class Dispute(Base):
    """A manager's challenge of one item of a released audit, and the reviewer's decision."""

    __tablename__ = "dispute"
    __table_args__ = (CheckConstraint(one_of("status", DISPUTE_STATUSES), name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default="open")
    reason: Mapped[str] = mapped_column(Text)
    requested_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("audit_photo.id"))
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str] = mapped_column(Text, default="")

    audit: Mapped[Audit] = relationship(back_populates="disputes")


class AuditHistory(Base):
    """One change to an audit after submission: who, when, why, old and new value.

    Append-only: the database refuses UPDATE and DELETE on this table (a trigger).
    """

    __tablename__ = "audit_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    field: Mapped[str | None] = mapped_column(String(120))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")

    audit: Mapped[Audit] = relationship(back_populates="history")
