"""A manager's dispute of an item, the reviewer's ruling, and disputes as returned."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_load, validate

from auditapp.schemas.audits.submission import AnyValue
from auditapp.schemas.common import ApiSchema, Id, PageArgs, PageMeta
from auditapp.services.audits import Claim, DisputeFilter, Ruling


class DisputeSchema(ApiSchema):
    """A dispute of one item."""

    id = fields.Integer()
    audit_id = Id()
    item_id = fields.String()
    status = fields.String()
    reason = fields.String()
    requested_value = fields.Raw(allow_none=True)
    photo_id = Id(allow_none=True)
    raised_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    resolution = fields.String()


class DisputeCreateSchema(ApiSchema):
    """A manager's dispute."""

    item_id = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=3, max=5000))
    requested_value = AnyValue(allow_none=True)
    photo_uuid = fields.UUID(load_default=None, allow_none=True)
    version = Id(
        required=True,
        metadata={"description": "The audit version you looked at (409 if it changed since)"},
    )

    @post_load
    def _claim(self, data: dict[str, Any], **_: Any) -> Claim:
        return Claim(
            item_id=data["item_id"],
            reason=data["reason"],
            version=data["version"],
            requested_value=data.get("requested_value"),
            value_requested="requested_value" in data,
            photo_uuid=data["photo_uuid"],
        )


class DisputeResolveSchema(ApiSchema):
    """The reviewer's decision on a dispute."""

    decision = fields.String(required=True, validate=validate.OneOf(("uphold", "reject")))
    reason = fields.String(required=True, validate=validate.Length(min=3, max=5000))
    new_value = AnyValue(allow_none=True)
    version = Id(
        required=True,
        metadata={"description": "The audit version you looked at (409 if it changed since)"},
    )

    @post_load
    def _ruling(self, data: dict[str, Any], **_: Any) -> Ruling:
        return Ruling(
            uphold=data["decision"] == "uphold",
            reason=data["reason"],
            version=data["version"],
            new_value=data.get("new_value"),
            value_given="new_value" in data,
        )


class DisputePageSchema(PageMeta):
    """Open disputes."""

    items = fields.List(fields.Nested(DisputeSchema))


class DisputeQuery(PageArgs):
    """Which disputes to list."""

    status = fields.String(
        load_default="open",
        validate=validate.OneOf(("open", "upheld", "rejected", "any")),
        metadata={"description": "open (default), upheld, rejected or any"},
    )
    branch_id = Id()

    @post_load
    def _filter(self, data: dict[str, Any], **_: Any) -> DisputeFilter:
        return DisputeFilter(**data)
