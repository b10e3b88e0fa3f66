"""``POST /checklists/validate``: the admin screen checks a YAML before importing it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from auditapp.extensions import db
from auditapp.models import ChecklistVersion
from tests.support import EXAMPLE_CHECKLIST, Fieldwork

EXAMPLE = EXAMPLE_CHECKLIST.read_text(encoding="utf-8")


def _versions() -> int:
    db.session.rollback()
    return int(db.session.execute(select(func.count(ChecklistVersion.id))).scalar_one())


def test_a_valid_file_is_described_and_not_stored(as_user: Any) -> None:
    admin = as_user("admin")
    response = admin.post("/api/v1/checklists/validate", json={"yaml": EXAMPLE})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    # The example file (tests/unit/fixtures/example.yaml) by hand: 3 sections, 7 items.
    assert body == {
        "slug": "coffee-shop-visit",
        "version": 1,
        "title": {"ru": "Визит в кофейню", "en": "Coffee shop visit"},
        "sections": 3,
        "items": 7,
        "would": "create",
    }
    assert _versions() == 0


def test_problems_are_listed_with_their_line(as_user: Any) -> None:
    broken = EXAMPLE.replace(
        "        weight: 2\n        staff_role: barista",
        "        weight: heavy\n        staff_role: barista",
    )
    line = broken.splitlines().index("        weight: heavy") + 1
    response = as_user("admin").post(
        "/api/v1/checklists/validate", json={"yaml": broken, "filename": "cafe.yaml"}
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "checklist_invalid"
    problems = error["fields"]["problems"]
    assert len(problems) == 1 and problems[0].startswith(f"cafe.yaml:{line}: ")
    assert "weight" in problems[0]


def test_what_an_import_would_do(as_user: Any, fieldwork: Fieldwork) -> None:
    admin = as_user("admin")
    # The fieldwork fixture imported the example (for stores too) and made a wave on it.
    used = EXAMPLE.replace("applies_to: [restaurant]", "applies_to: [store, restaurant]")
    answer = admin.post("/api/v1/checklists/validate", json={"yaml": used})
    assert answer.get_json()["would"] == "unchanged"
    changed = used.replace("Визит в кофейню", "Визит в кофейню (новый)")
    assert (
        admin.post("/api/v1/checklists/validate", json={"yaml": changed}).get_json()["would"]
        == "refuse"
    )
    following = changed.replace("version: 1", "version: 2")
    assert (
        admin.post("/api/v1/checklists/validate", json={"yaml": following}).get_json()["would"]
        == "create"
    )
    assert _versions() == 1
    assert admin.post("/api/v1/checklists/import", json={"yaml": following}).status_code == 200
    unused = following.replace("(новый)", "(новее)")
    assert (
        admin.post("/api/v1/checklists/validate", json={"yaml": unused}).get_json()["would"]
        == "update"
    )
    assert _versions() == 2


def test_only_admins_validate(as_user: Any) -> None:
    response = as_user("reviewer").post("/api/v1/checklists/validate", json={"yaml": EXAMPLE})
    assert response.status_code == 403
