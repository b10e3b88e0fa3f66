"""The network: regions, branches, staff members and their placement history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditapp.domain.vocabulary import BRANCH_KINDS
from auditapp.extensions import Base
from auditapp.models.types import UTCDateTime, one_of, utcnow


class Region(Base):
    """A region of the network; directors are bound to regions."""

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    branches: Mapped[list[Branch]] = relationship(back_populates="region")


class Branch(Base):
    """An outlet: a store, restaurant, hotel or service centre."""

    __tablename__ = "branch"
    __table_args__ = (CheckConstraint(one_of("kind", BRANCH_KINDS), name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(300), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    region: Mapped[Region] = relationship(back_populates="branches")


class StaffMember(Base):
    """An employee of the network. Where they work over time lives in ``StaffPlacement``."""

    __tablename__ = "staff_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_code: Mapped[str] = mapped_column(String(40), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(60))
    hired_on: Mapped[date]
    left_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    placements: Mapped[list[StaffPlacement]] = relationship(
        back_populates="staff_member", order_by="StaffPlacement.started_on"
    )


class StaffPlacement(Base):
    """A period a staff member worked at a branch in a position (``ended_on`` null: current).

    Kept as history so that collective results can later be weighted by days worked per branch.
    """

    __tablename__ = "staff_placement"
    __table_args__ = (
        UniqueConstraint("staff_member_id", "started_on"),
        Index("ix_staff_placement_branch_current", "branch_id", "ended_on"),
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    position: Mapped[str] = mapped_column(String(60))
    started_on: Mapped[date]
    ended_on: Mapped[date | None]

    staff_member: Mapped[StaffMember] = relationship(back_populates="placements")
    branch: Mapped[Branch] = relationship()
