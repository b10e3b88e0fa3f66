"""A response schema compiled to a plain function, for hot reads.

``compiled(schema)`` turns a marshmallow schema made of simple fields into a function that
makes what ``schema.dump`` makes (same keys, same values), without marshmallow's per-field
machinery, which cost about a third of an audit detail request. The schema stays the one
description of the shape (and what the OpenAPI document shows); a field type this module does
not know is refused when compiling, so a schema cannot grow a field the function would
render differently. ``tests/unit/test_dumping.py`` and ``tests/api/test_audit_detail_shape.py``
compare both paths.

Values are read as marshmallow reads them: ``obj[name]`` for a mapping (a redacted view of a
photo or history entry), falling back to ``getattr``; an attribute that does not exist (a field
the audience may not see) is left out.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import Schema, fields, missing

Dumper = Callable[[Any], dict[str, Any]]
_ABSENT: Any = object()


def _read_mapping(obj: Any, name: str) -> Any:
    """``obj``'s value for ``name`` as marshmallow reads it from a mapping (the key, else the
    attribute), else ``_ABSENT``."""
    value = obj.get(name, _ABSENT)  # a field hidden from the audience is a missing key
    return getattr(obj, name, _ABSENT) if value is _ABSENT else value


def _read_attribute(obj: Any, name: str) -> Any:
    """``obj``'s attribute ``name``, else ``_ABSENT``."""
    return getattr(obj, name, _ABSENT)


def _plain(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


def _converter(field: fields.Field) -> Callable[[Any], Any]:
    """How ``field`` renders a present value (``None`` stays ``None``)."""
    if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
        inner = _compile(_nested_schema(field.inner))
        return lambda values: None if values is None else [inner(v) for v in values]
    if isinstance(field, fields.Nested):
        nested = _compile(_nested_schema(field))
        return _plain(nested)
    if isinstance(field, fields.DateTime) and type(field) is fields.DateTime:
        if field.format not in (None, "iso"):
            raise TypeError(f"DateTime format {field.format!r} is not compiled")
        return _plain(lambda value: value.isoformat())
    if isinstance(field, fields.Integer) and not field.as_string:
        return _plain(int)
    if isinstance(field, fields.Float) and not field.as_string:
        return _plain(float)
    if isinstance(field, (fields.String, fields.UUID)):
        return _plain(str)
    if type(field) is fields.Dict and field.key_field is None and field.value_field is None:
        return _plain(dict)
    if isinstance(field, fields.Raw) and not isinstance(
        field, (fields.Mapping, fields.Number, fields.Boolean, fields.Function, fields.List)
    ):
        return lambda value: value
    raise TypeError(f"{type(field).__name__} is not compiled")


def _nested_schema(field: fields.Nested) -> Schema:
    schema = field.schema
    if field.only or field.exclude or schema.many:
        raise TypeError("Nested with only/exclude/many is not compiled")
    return schema


def _compile(schema: Schema) -> Dumper:
    if schema.only or schema.exclude or schema.many:
        raise TypeError("a schema with only/exclude/many is not compiled")
    if any(schema._hooks[tag] for tag in schema._hooks if "dump" in str(tag)):
        raise TypeError(f"{type(schema).__name__} has dump hooks: not compiled")
    plan: list[tuple[str, Any]] = []
    for name, field in schema.dump_fields.items():
        if field.dump_default is not missing:
            raise TypeError(f"{name}: a dump default is not compiled")
        key = field.data_key or name
        if isinstance(field, fields.Function):
            plan.append((key, ("function", field.serialize_func)))
        else:
            plan.append((key, (field.attribute or name, _converter(field))))

    def dump(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        # Whether ``obj`` is a mapping is asked once per object, not once per field.
        read = _read_mapping if isinstance(obj, Mapping) else _read_attribute
        for key, (source, convert) in plan:
            if source == "function":
                out[key] = convert(obj)
                continue
            value = read(obj, source)
            if value is not _ABSENT:
                out[key] = convert(value)
        return out

    return dump


@functools.cache
def compiled(schema_class: type[Schema]) -> Dumper:
    """``schema_class().dump`` as a plain function (built once per class)."""
    return _compile(schema_class())
