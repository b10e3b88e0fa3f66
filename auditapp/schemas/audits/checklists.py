"""A checklist version as stored and as the phone reads it, and the import of a YAML file."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from auditapp.domain.checklist import CHANNELS, ITEM_TYPES, PHOTO_RULES, STAGES
from auditapp.schemas.common import ApiSchema, Id, PageArgs, PageMeta


def _text(**kwargs: Any) -> fields.Dict:
    """A text in several languages: ``{"ru": ..., "en": ...}`` (``"*"``: any language)."""
    return fields.Dict(keys=fields.String(), values=fields.String(), **kwargs)


class ChecklistBandSchema(ApiSchema):
    """A band of a number item: answers up to ``upto`` earn ``score`` (the last has no upto)."""

    upto = fields.Float()
    score = fields.Float(required=True)


class ChecklistOptionSchema(ApiSchema):
    """An option of a choice item."""

    id = fields.String(required=True)
    label = _text(required=True)
    score = fields.Float(required=True)


class ChecklistItemSchema(ApiSchema):
    """An item as the phone shows and checks it (docs/checklists.md)."""

    id = fields.String(required=True)
    clause = fields.String(required=True)
    text = _text(required=True)
    guidance = _text()
    type = fields.String(required=True, validate=validate.OneOf(ITEM_TYPES))
    weight = fields.Float(required=True)
    na = fields.Boolean(required=True)
    critical = fields.Boolean(required=True)
    photo = fields.String(required=True, validate=validate.OneOf(PHOTO_RULES))
    staff_role = fields.String()
    min = fields.Integer(metadata={"description": "scale items"})
    max = fields.Integer(metadata={"description": "scale items"})
    unit = _text(metadata={"description": "number items"})
    bands = fields.List(fields.Nested(ChecklistBandSchema), metadata={"description": "number"})
    options = fields.List(fields.Nested(ChecklistOptionSchema), metadata={"description": "choice"})


class ChecklistSectionSchema(ApiSchema):
    """A section of a checklist."""

    id = fields.String(required=True)
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    title = _text(required=True)
    items = fields.List(fields.Nested(ChecklistItemSchema), required=True)


class ChecklistStandardSchema(ApiSchema):
    """The service standard a checklist implements."""

    code = fields.String(required=True)
    title = _text(required=True)


class ChecklistDefinitionSchema(ApiSchema):
    """A checklist version's full definition: the YAML format with every default spelled out."""

    checklist = fields.String(required=True, metadata={"description": "The slug"})
    version = fields.Integer(required=True)
    title = _text(required=True)
    standard = fields.Nested(ChecklistStandardSchema, required=True)
    applies_to = fields.List(fields.String(), required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    critical_rule = fields.String(
        required=True, metadata={"description": "zero_audit, zero_section or cap_N"}
    )
    staff_roles = fields.List(fields.String(), required=True)
    sections = fields.List(fields.Nested(ChecklistSectionSchema), required=True)


class ChecklistVersionSchema(ApiSchema):
    """A stored checklist version."""

    id = fields.Integer()
    slug = fields.String()
    version = Id()
    title = fields.Dict()
    standard_code = fields.String()
    channel = fields.String()
    applies_to = fields.List(fields.String())
    content_hash = fields.String()
    imported_at = fields.DateTime()


class ChecklistVersionDetailSchema(ChecklistVersionSchema):
    """A checklist version with its full definition."""

    definition = fields.Nested(ChecklistDefinitionSchema)


class ChecklistQuery(PageArgs):
    """Filters for checklist versions."""

    slug = fields.String()


class ChecklistPageSchema(PageMeta):
    """A page of checklist versions."""

    items = fields.List(fields.Nested(ChecklistVersionSchema))


class ChecklistImportSchema(ApiSchema):
    """A checklist YAML file's text."""

    yaml = fields.String(required=True, validate=validate.Length(min=1, max=2_000_000))
    filename = fields.String(load_default="checklist.yaml")


class ChecklistImportResultSchema(ApiSchema):
    """What an import did."""

    id = fields.Integer()
    slug = fields.String()
    version = Id()
    action = fields.String()


class ChecklistValidationSchema(ApiSchema):
    """A valid checklist file, and what importing it would do."""

    slug = fields.String()
    version = fields.Integer()
    title = fields.Dict(keys=fields.String(), values=fields.String())
    sections = fields.Integer()
    items = fields.Integer()
    would = fields.String(
        validate=validate.OneOf(["create", "update", "unchanged", "refuse"]),
        metadata={
            "description": "create, update (an unused version), unchanged, or refuse (the "
            "version is used and the file differs: give it the next version number)"
        },
    )
