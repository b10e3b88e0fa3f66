"""A compiled schema makes what marshmallow's dump makes, and refuses what it cannot render."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from marshmallow import Schema, fields, post_dump

from auditapp.schemas.dumping import compiled
from auditapp.visibility import PhotoView


class Inner(Schema):
    at = fields.DateTime(allow_none=True)
    hidden = fields.String()


class Outer(Schema):
    id = fields.Integer()
    score = fields.Float(allow_none=True)
    name = fields.String()
    ref = fields.UUID()
    answers = fields.Dict()
    raw = fields.Raw(allow_none=True)
    code = fields.Function(lambda o: o.branch.code)
    items = fields.List(fields.Nested(Inner))
    absent = fields.String()


def _outer() -> Any:
    return SimpleNamespace(
        id=7,
        score=3,  # an int where a float is declared: both render 3.0
        name="Кафе",
        ref=uuid.UUID(int=5),
        answers={"a": [1, None]},
        raw={"x": 1},
        branch=SimpleNamespace(code="N1"),
        items=[
            PhotoView({"at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)}),
            PhotoView({"at": None, "hidden": "shown"}),
        ],
    )


def test_a_compiled_schema_dumps_what_marshmallow_dumps() -> None:
    obj = _outer()
    made = compiled(Outer)(obj)
    assert made == Outer().dump(obj)
    assert made["score"] == 3.0 and isinstance(made["score"], float)
    assert made["ref"] == "00000000-0000-0000-0000-000000000005"
    assert made["items"] == [
        {"at": "2026-01-02T03:04:05.000006+00:00"},
        {"at": None, "hidden": "shown"},
    ]
    assert "absent" not in made  # an attribute that does not exist is left out


def test_none_stays_none() -> None:
    obj = _outer()
    obj.score, obj.items, obj.answers = None, None, None
    assert compiled(Outer)(obj) == Outer().dump(obj)
    assert compiled(Outer)(obj)["items"] is None


class WithBoolean(Schema):
    flag = fields.Boolean()


class WithHook(Schema):
    id = fields.Integer()

    @post_dump
    def _wrap(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {"data": data}


class WithFormat(Schema):
    at = fields.DateTime(format="%Y")


@pytest.mark.parametrize("schema", [WithBoolean, WithHook, WithFormat])
def test_a_field_or_hook_it_cannot_render_is_refused(schema: type[Schema]) -> None:
    with pytest.raises(TypeError):
        compiled(schema)
