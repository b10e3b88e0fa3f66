"""Users, their roles and scope bindings, and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditapp.domain.vocabulary import ROLES
from auditapp.extensions import Base
from auditapp.models.network import Branch, Region, StaffMember
from auditapp.models.types import UTCDateTime, one_of, utcnow

user_region = Table(
    "user_region",
    Base.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("region.id", ondelete="CASCADE"), primary_key=True),
)

user_branch = Table(
    "user_branch",
    Base.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", ForeignKey("branch.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    """A person who signs in. What they may see follows from ``role`` and the bindings."""

    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint(one_of("role", ROLES), name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(5), default="ru")
    active: Mapped[bool] = mapped_column(default=True)
    # Changing it signs the user out everywhere: sign-out, password change (the cookie and the
    # remember-me cookie carry it).
    session_generation: Mapped[int] = mapped_column(default=1)
    staff_member_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    regions: Mapped[list[Region]] = relationship(secondary=user_region, order_by=Region.code)
    branches: Mapped[list[Branch]] = relationship(secondary=user_branch, order_by=Branch.code)
    staff_member: Mapped[StaffMember | None] = relationship()

    @property
    def region_ids(self) -> list[int]:
        """Ids of the regions a director is bound to."""
        return [region.id for region in self.regions]

    @property
    def branch_ids(self) -> list[int]:
        """Ids of the branches a manager is bound to."""
        return [branch.id for branch in self.branches]

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """Flask-Login's id; ``auditapp.auth.start_session`` replaces it with a full ticket."""
        return f"{self.id}:{self.session_generation}"


class ApiToken(Base):
    """A bearer token for scripts. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
