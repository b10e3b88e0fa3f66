"""Staff attestation: versioned rule sets, periods, internal scores, frozen sheets, the
employee's acknowledgements and objections with their answers, and awards.

Rule set versions are never updated (a change is a new version); a closed period's sheets are
stored results (points, grade, the rule version and the audits used) that nothing recomputes.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditapp.extensions import Base
from auditapp.models.network import Branch, StaffMember
from auditapp.models.types import UTCDateTime, utcnow
from auditapp.models.user import User

PERIOD_STATUSES = ("open", "closed")
RESPONSE_KINDS = ("acknowledged", "objected")
AWARD_KINDS = ("branch", "employee")


class AttestationRuleSet(Base):
    """One version of a rule set (weights, minimum external share, minimum audits, grades).

    Rows are written once: a change is a new row with the same ``code`` and the next version.
    """

    __tablename__ = "attestation_rule_set"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    # The validated document (``auditapp.domain.attestation.RuleSet.to_dict``).
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AttestationPeriod(Base):
    """An attestation period (default the calendar year) under one rule set version."""

    __tablename__ = "attestation_period"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("attestation_rule_set.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    rule_set: Mapped[AttestationRuleSet] = relationship()


class InternalScore(Base):
    """A score (0-100) entered by a manager or HQ for one employee in one period, with why.

    Append-only: a correction is a new entry; the latest entry is the one that counts.
    ``request_id`` is made by the client for each entry it means to make (as a phone makes an
    audit's ``client_uuid``): its unique constraint turns a retried POST into a read of the
    stored entry instead of a second one.
    """

    __tablename__ = "attestation_internal_score"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        Index("ix_attestation_internal_score_period_staff", "period_id", "staff_member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("attestation_period.id"))
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    request_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)

    entered_by: Mapped[User] = relationship()


class AttestationSheet(Base):
    """An employee's sheet of a closed period, frozen when the period closed: the stored result
    (components, formula, evidence), the rule version and the audits used."""

    __tablename__ = "attestation_sheet"
    __table_args__ = (
        UniqueConstraint("period_id", "staff_member_id"),
        CheckConstraint("status IN ('graded', 'not_gradable')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("attestation_period.id"))
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("attestation_rule_set.id"))
    status: Mapped[str] = mapped_column(String(20))
    points: Mapped[float | None] = mapped_column(Float)
    grade_code: Mapped[str | None] = mapped_column(String(40))
    sufficient_evidence: Mapped[bool]
    audit_ids: Mapped[list[int]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    staff_member: Mapped[StaffMember] = relationship()


class SheetResponse(Base):
    """The employee's acknowledgement of, or objection to, their sheet, and the answer to an
    objection (by the manager or HQ): who and when for each."""

    __tablename__ = "attestation_response"
    __table_args__ = (
        CheckConstraint("kind IN ('acknowledged', 'objected')", name="kind_known"),
        Index("ix_attestation_response_period_staff", "period_id", "staff_member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("attestation_period.id"))
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    kind: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    staff_member: Mapped[StaffMember] = relationship()
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])


class Award(Base):
    """Best practice recognised by HQ for a period: a branch or an employee, with a title."""

    __tablename__ = "attestation_award"
    __table_args__ = (
        CheckConstraint("kind IN ('branch', 'employee')", name="kind_known"),
        CheckConstraint(
            "(kind = 'branch' AND branch_id IS NOT NULL AND staff_member_id IS NULL) OR "
            "(kind = 'employee' AND staff_member_id IS NOT NULL AND branch_id IS NULL)",
            name="subject_matches_kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("attestation_period.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id"))
    staff_member_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    awarded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    branch: Mapped[Branch | None] = relationship()
    staff_member: Mapped[StaffMember | None] = relationship()
