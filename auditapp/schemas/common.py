"""Shapes shared by every resource: pagination and the error body."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

# Ids and versions are 32-bit integer columns: a larger number could only be "not found", and
# must not reach the database, which would refuse it with an error instead.
MAX_ID = 2**31 - 1


class Id(fields.Integer):
    """A database id (or version number): a positive 32-bit integer."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class PageArgs(Schema):
    """``?page=&per_page=`` on every list."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class PageMeta(Schema):
    """The envelope of a list: its items are in ``items``."""

    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class ErrorBody(Schema):
    """``{"code", "message", "fields"}`` inside ``{"error": ...}``."""

    code = fields.String()
    message = fields.String()
    field_errors = fields.Dict(data_key="fields")


class ErrorSchema(Schema):
    """Every error the API returns."""

    error = fields.Nested(ErrorBody)


class ImportResultSchema(Schema):
    """What a CSV import did."""

    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
