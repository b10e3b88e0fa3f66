"""Shapes shared by every resource: pagination and the error body."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate

from auditapp.services.pagination import Page

# Ids and versions are 32-bit integer columns: a larger number could only be "not found", and
# must not reach the database, which would refuse it with an error instead.
MAX_ID = 2**31 - 1


def _has_nul(value: Any) -> bool:
    """True if any text in ``value`` (keys included) holds a NUL.

    A loop over a stack rather than recursion: the API bounds the depth of JSON bodies, but
    this walk must not be the thing that crashes if some other path ever feeds it a deep value.
    """
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


class ApiSchema(Schema):
    """Base of every request and response shape.

    Text with NUL characters is refused here, by field: PostgreSQL cannot store it, and no
    honest client sends it.
    """

    @pre_load
    def _refuse_nul(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            bad = {
                key: ["NUL characters are not allowed."] for key, v in data.items() if _has_nul(v)
            }
            if bad:
                raise ValidationError(bad)
        return data


class Id(fields.Integer):
    """A database id (or version number): a positive 32-bit integer."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class PageArgs(ApiSchema):
    """``?page=&per_page=`` on every list."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class PageQuery(PageArgs):
    """``?page=&per_page=`` loaded as the services' ``Page``."""

    @post_load
    def _page(self, data: dict[str, Any], **_: Any) -> Page:
        return Page(**data)


class PageMeta(ApiSchema):
    """The envelope of a list: its items are in ``items``."""

    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class ErrorBody(ApiSchema):
    """``{"code", "message", "fields"}`` inside ``{"error": ...}``."""

    code = fields.String()
    message = fields.String()
    field_errors = fields.Dict(data_key="fields")


class ErrorSchema(ApiSchema):
    """Every error the API returns."""

    error = fields.Nested(ErrorBody)


class ImportResultSchema(ApiSchema):
    """What a CSV import did."""

    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
