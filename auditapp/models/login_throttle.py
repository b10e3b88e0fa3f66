"""Failed sign-in counters, kept in the database so that every worker and host shares them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from auditapp.extensions import Base
from auditapp.models.types import UTCDateTime

THROTTLE_SCOPES = ("pair", "account", "address")


class LoginThrottle(Base):
    """Failures counted for one key (an account, a client address, or the two together).

    ``key`` is the SHA-256 of scope and value, so the table holds no logins, addresses or
    passwords typed into the login field by mistake.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
