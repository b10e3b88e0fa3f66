"""Report jobs: documents too large to build during a request (a network comparison), built by
a background job for the user who asked and fetched when ready."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from auditapp.extensions import Base
from auditapp.models.types import UTCDateTime, utcnow

JOB_STATUSES = ("queued", "running", "ready", "failed")


class ReportJob(Base):
    """One requested document: what was asked (``params``), by whom, and where it is.

    The document is rendered as the requester (their scope), and only they may fetch it.
    """

    __tablename__ = "report_job"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    error: Mapped[str] = mapped_column(Text, default="")
    file_key: Mapped[str | None] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200), default="")
    byte_size: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
