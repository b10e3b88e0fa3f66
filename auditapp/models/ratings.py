"""What ratings read: released audits by branch-local month, and monthly roll-ups per branch.

Roll-ups hold moments ``(n, total, total_sq)`` of 0-100 scores plus ``earned``/``possible``
points, so any period's rating is a sum of months. They are keyed by branch, never by region:
a region is read through the branch's current region ("the network as it is now").
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from auditapp.extensions import Base

# The kinds of part a roll-up row aggregates: the whole audit, a stage, a section, a staff role.
PART_KINDS = ("audit", "stage", "section", "role")


class RatingAudit(Base):
    """A released audit as ratings count it: its branch-local visit day and month, and score.

    Written on release (and by ``ratings rebuild``); it fixes which month an audit belongs to
    and lists the audits behind every rating (traceability).
    """

    __tablename__ = "rating_audit"
    __table_args__ = (
        Index("ix_rating_audit_branch_month", "branch_id", "month"),
        Index("ix_rating_audit_month_branch_score", "month", "branch_id", "score"),
    )

    audit_id: Mapped[int] = mapped_column(
        ForeignKey("audit.id", ondelete="CASCADE"), primary_key=True
    )
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    visit_date: Mapped[date]
    month: Mapped[date]
    checklist_slug: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column(Float)


class RatingRollup(Base):
    """Branch x month x checklist x channel x part: moments of part scores and points."""

    __tablename__ = "rating_rollup"
    __table_args__ = (
        # Covers the network and region readings (no table lookup for the moments).
        Index(
            "ix_rating_rollup_kind_month",
            "part_kind",
            "month",
            "branch_id",
            "n",
            "total",
            "total_sq",
        ),
    )

    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    checklist_slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    part_kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    part_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    n: Mapped[int]
    total: Mapped[float] = mapped_column(Float)
    total_sq: Mapped[float] = mapped_column(Float)
    earned: Mapped[float] = mapped_column(Float)
    possible: Mapped[float] = mapped_column(Float)


class RatingItemRollup(Base):
    """Branch x month x checklist x channel x standard (item id and clause): points earned and
    possible and the number of audits where it applied (N/A answers count in neither)."""

    __tablename__ = "rating_item_rollup"
    __table_args__ = (Index("ix_rating_item_rollup_month", "month", "checklist_slug"),)

    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    checklist_slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    clause: Mapped[str] = mapped_column(String(80), primary_key=True)
    n: Mapped[int]
    earned: Mapped[float] = mapped_column(Float)
    possible: Mapped[float] = mapped_column(Float)


# Windows the period roll-ups are kept for: every run of 3 consecutive months (calendar
# quarters and rolling ones such as September-November), and calendar years.
QUARTER_MONTHS, YEAR_MONTHS = 3, 12


class RatingPeriodRollup(Base):
    """Branch x window of months x checklist x channel: moments of audit scores, summed from
    `RatingRollup` (derived; see ``auditapp.services.ratings.periods``).

    A ranking of 5,000 branches for a quarter reads 5,000 of these rows instead of summing
    15,000 monthly ones.
    """

    __tablename__ = "rating_period_rollup"
    __table_args__ = (
        # Covers the network readings (no table lookup for the moments).
        Index(
            "ix_rating_period_rollup_window",
            "months",
            "first_month",
            "branch_id",
            "n",
            "total",
            "total_sq",
        ),
    )

    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), primary_key=True)
    months: Mapped[int] = mapped_column(primary_key=True)
    first_month: Mapped[date] = mapped_column(primary_key=True)
    checklist_slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int]
    total: Mapped[float] = mapped_column(Float)
    total_sq: Mapped[float] = mapped_column(Float)


class RatingState(Base):
    """One row: which state the ratings are in. ``version`` goes up with every committed change
    of what ratings read (a release, an upheld dispute, a rebuild, a branch edited);
    ``token`` names this database's row (a new one when the row is made again), so readings
    kept in memory (``auditapp.services.ratings.memo``) are never taken for another database's.

    Written last in the changing transaction, just before its commit (one row lock, held for
    the commit only)."""

    __tablename__ = "rating_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(BigInteger)
