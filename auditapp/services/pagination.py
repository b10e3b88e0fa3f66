"""One way to page through a query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func

from auditapp.extensions import db


@dataclass(frozen=True)
class Page:
    """Which page of a list: numbered from 1, ``per_page`` items each."""

    page: int = 1
    per_page: int = 50


def paginate(query: Select[Any], page: int, per_page: int) -> dict[str, Any]:
    """``{"items", "total", "page", "per_page"}`` for ``query`` (which must be ordered)."""
    # Count over the same rows without the ordering and the columns: no sort, no wide rows.
    counted = query.order_by(None).with_only_columns(func.count(), maintain_column_froms=True)
    total = db.session.execute(counted).scalar_one()
    items = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).scalars()
    return {"items": list(items), "total": total, "page": page, "per_page": per_page}
