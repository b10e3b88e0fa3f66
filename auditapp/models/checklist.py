"""Imported checklist versions: immutable once an audit uses them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from auditapp.extensions import Base
from auditapp.models.types import UTCDateTime, utcnow


class ChecklistVersion(Base):
    """One version of one checklist, as validated from its YAML file.

    ``definition`` is the lossless JSON form (``checklist_to_dict``) that scoring and phones use;
    ``source_yaml`` keeps the file as written, and ``content_hash`` tells a changed file apart.
    """

    __tablename__ = "checklist_version"
    __table_args__ = (UniqueConstraint("slug", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    version: Mapped[int]
    title: Mapped[dict[str, Any]] = mapped_column(JSON)
    standard_code: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(20))
    applies_to: Mapped[list[str]] = mapped_column(JSON)
    # The two big columns (about 100 KB of JSON and 50 KB of YAML for a long checklist) load
    # only when read: every audit request loads its version row, but takes the parsed
    # checklist from the process cache by (id, content_hash) (``services.checklists``).
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    source_yaml: Mapped[str] = mapped_column(Text, deferred=True)
    source_name: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
