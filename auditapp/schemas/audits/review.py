"""QA's decisions: approve, return, reject, release."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_load, validate

from auditapp.schemas.common import ApiSchema, Id
from auditapp.services.audits import Decision


class ReviewSchema(ApiSchema):
    """approve / return / reject."""

    comment = fields.String(load_default="", validate=validate.Length(max=5000))
    version = Id(required=True, metadata={"description": "The version you reviewed"})

    @post_load
    def _decision(self, data: dict[str, Any], **_: Any) -> Decision:
        return Decision(**data)


class ReleaseSchema(ApiSchema):
    """Release an approved audit."""

    version = Id(
        required=True,
        metadata={"description": "The audit version you approved (409 if it changed since)"},
    )


class ReleaseWaveResultSchema(ApiSchema):
    """How many audits a wave release released."""

    released = fields.Integer()
