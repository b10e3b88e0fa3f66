"""``checklist import``: storing versions, idempotence, and immutability once a version is used."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from auditapp.adapters.checklist_yaml import load_checklist_text
from auditapp.domain.checklist import checklist_to_dict
from auditapp.extensions import db
from auditapp.models import Assignment, Audit, ChecklistVersion, Wave
from auditapp.services.checklists import checklist_of, is_used
from tests.support import Network

ROOT = Path(__file__).parents[2]
SLUG = "versioned"

TEMPLATE = """\
checklist: {slug}
version: {version}
title: Versioned
standard: {{code: STD-V, title: Versioned standard}}
applies_to: [store]
channel: visit
sections:
  - id: main
    stage: purchase
    title: Main
    items:
      - id: greeted
        clause: "1.1"
        text: Were you greeted?
        type: yes_no
        weight: {weight}
{extra}"""

EXTRA_ITEM = """\
      - id: thanked
        clause: "1.2"
        text: Were you thanked?
        type: yes_no
"""


def checklist_yaml(version: int = 1, weight: float = 2, extra: str = "", slug: str = SLUG) -> str:
    return TEMPLATE.format(slug=slug, version=version, weight=weight, extra=extra)


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def import_text(app: Flask, tmp_path: Path, text: str, name: str = "v.yaml") -> Result:
    return run(app, "checklist", "import", str(write(tmp_path, name, text)))


def rows(slug: str = SLUG) -> list[ChecklistVersion]:
    db.session.expire_all()
    query = select(ChecklistVersion).where(ChecklistVersion.slug == slug)
    return list(db.session.scalars(query.order_by(ChecklistVersion.version)))


def count_all() -> int:
    return db.session.scalar(select(func.count()).select_from(ChecklistVersion)) or 0


def snapshot(row: ChecklistVersion) -> dict[str, Any]:
    return {
        "id": row.id,
        "definition": copy.deepcopy(row.definition),
        "content_hash": row.content_hash,
        "source_yaml": row.source_yaml,
        "imported_at": row.imported_at,
    }


def make_wave(version_id: int) -> Wave:
    wave = Wave(
        name="March",
        checklist_version_id=version_id,
        starts_on=date(2025, 3, 1),
        ends_on=date(2025, 3, 31),
    )
    db.session.add(wave)
    db.session.commit()
    return wave


def make_audit(version_id: int, wave: Wave, network: Network) -> Audit:
    branch_id = network.branches["N1"]
    shopper_id = network.users["shopper"]
    assignment = Assignment(
        wave=wave,
        branch_id=branch_id,
        shopper_id=shopper_id,
        window_start=date(2025, 3, 1),
        window_end=date(2025, 3, 31),
        due_at=datetime(2025, 3, 31, 21, 0, tzinfo=UTC),
    )
    audit = Audit(
        assignment=assignment,
        client_uuid=uuid.uuid4(),
        checklist_version_id=version_id,
        branch_id=branch_id,
        shopper_id=shopper_id,
        channel="visit",
    )
    db.session.add(audit)
    db.session.commit()
    return audit


def use_version(how: str, version_id: int, app: Flask, tmp_path: Path, network: Network) -> None:
    """Make `version_id` used: by a wave, or by an audit whose wave uses another checklist."""
    if how == "wave":
        make_wave(version_id)
        return
    other = import_text(app, tmp_path, checklist_yaml(slug="other"), "other.yaml")
    assert other.exit_code == 0, other.stderr
    make_audit(version_id, make_wave(rows("other")[0].id), network)


# --- storing --------------------------------------------------------------------------------


def test_import_stores_the_validated_definition(app: Flask, tmp_path: Path) -> None:
    text = checklist_yaml()
    result = import_text(app, tmp_path, text)
    assert result.exit_code == 0, result.stderr
    assert f"created {SLUG} v1" in result.stdout
    [row] = rows()
    assert (row.version, row.channel, row.standard_code) == (1, "visit", "STD-V")
    assert row.definition == checklist_to_dict(load_checklist_text(text, "v.yaml"))
    assert row.source_yaml == text
    assert checklist_of(row).item("greeted").weight == 2


def test_import_every_shipped_checklist_then_again_unchanged(app: Flask) -> None:
    paths = sorted((ROOT / "checklists").glob("*.yaml"))
    first = run(app, "checklist", "import", *map(str, paths))
    assert first.exit_code == 0, first.stderr
    assert first.stdout.count(": created ") == len(paths)
    assert count_all() == len(paths)
    second = run(app, "checklist", "import", *map(str, paths))
    assert second.exit_code == 0, second.stderr
    assert second.stdout.count(": unchanged ") == len(paths)
    assert count_all() == len(paths)


def test_invalid_file_is_refused_and_not_stored(app: Flask, tmp_path: Path) -> None:
    text = checklist_yaml(weight=-1)
    path = write(tmp_path, "bad.yaml", text)
    result = run(app, "checklist", "import", str(path))
    assert result.exit_code == 1
    line = text.splitlines().index("        weight: -1") + 1
    assert f"{path}:{line}: sections[0].items[0].weight: " in result.stderr
    assert count_all() == 0


# --- the same version again -----------------------------------------------------------------


def test_reimport_unchanged_is_a_no_op(app: Flask, tmp_path: Path) -> None:
    assert import_text(app, tmp_path, checklist_yaml()).exit_code == 0
    before = snapshot(rows()[0])
    result = import_text(app, tmp_path, checklist_yaml())
    assert result.exit_code == 0, result.stderr
    assert f"unchanged {SLUG} v1" in result.stdout
    assert count_all() == 1
    assert snapshot(rows()[0]) == before


def test_changed_unused_version_is_updated_in_place(app: Flask, tmp_path: Path) -> None:
    assert import_text(app, tmp_path, checklist_yaml(weight=2)).exit_code == 0
    before = rows()[0]
    old_id, old_hash = before.id, before.content_hash
    assert checklist_of(before).item("greeted").weight == 2
    assert not is_used(old_id)

    result = import_text(app, tmp_path, checklist_yaml(weight=5, extra=EXTRA_ITEM))
    assert result.exit_code == 0, result.stderr
    assert f"updated {SLUG} v1" in result.stdout
    [row] = rows()
    assert row.id == old_id
    assert row.content_hash != old_hash
    assert row.definition["sections"][0]["items"][0]["weight"] == 5
    assert checklist_of(row).item("greeted").weight == 5
    assert checklist_of(row).has_item("thanked")
    assert count_all() == 1


@pytest.mark.parametrize("how", ["wave", "audit"])
def test_changed_version_in_use_is_refused(
    app: Flask, tmp_path: Path, network: Network, how: str
) -> None:
    """Once a wave or an audit refers to v1, a changed v1 is refused and v1 stays as it was."""
    assert import_text(app, tmp_path, checklist_yaml(weight=2)).exit_code == 0
    version_id = rows()[0].id
    use_version(how, version_id, app, tmp_path, network)
    assert is_used(version_id)
    before = snapshot(rows()[0])
    total = count_all()

    path = write(tmp_path, "changed.yaml", checklist_yaml(weight=5))
    result = run(app, "checklist", "import", str(path))
    assert result.exit_code == 1
    assert str(path) in result.stderr
    assert "version 2" in result.stderr  # tells the author to bump the version
    assert "updated" not in result.stdout
    assert count_all() == total
    [row] = rows()
    assert snapshot(row) == before
    assert checklist_of(row).item("greeted").weight == 2


def test_unchanged_version_in_use_still_imports_as_no_op(
    app: Flask, tmp_path: Path, network: Network
) -> None:
    """Re-running the import of the same files (a deploy) must not fail once audits exist."""
    text = checklist_yaml()
    assert import_text(app, tmp_path, text).exit_code == 0
    make_wave(rows()[0].id)
    result = import_text(app, tmp_path, text)
    assert result.exit_code == 0, result.stderr
    assert f"unchanged {SLUG} v1" in result.stdout


# --- a new version --------------------------------------------------------------------------


def test_new_version_is_a_new_row_and_v1_stays_intact(
    app: Flask, tmp_path: Path, network: Network
) -> None:
    v1_text = checklist_yaml(version=1, weight=2)
    assert import_text(app, tmp_path, v1_text, "v1.yaml").exit_code == 0
    v1_id = rows()[0].id
    wave = make_wave(v1_id)
    audit = make_audit(v1_id, wave, network)
    audit_id = audit.id
    before = snapshot(rows()[0])

    result = import_text(app, tmp_path, checklist_yaml(version=2, weight=5, extra=EXTRA_ITEM))
    assert result.exit_code == 0, result.stderr
    assert f"created {SLUG} v2" in result.stdout

    v1, v2 = rows()
    assert (v1.version, v2.version) == (1, 2)
    assert v2.id != v1_id
    assert snapshot(v1) == before
    assert db.session.get(Audit, audit_id).checklist_version_id == v1_id
    assert db.session.get(Wave, wave.id).checklist_version_id == v1_id

    old = checklist_of(v1)
    assert [item.id for item in old.items()] == ["greeted"]
    assert old.item("greeted").weight == 2
    new = checklist_of(v2)
    assert [item.id for item in new.items()] == ["greeted", "thanked"]
    assert new.item("greeted").weight == 5
    assert not is_used(v2.id)

    again = import_text(app, tmp_path, v1_text, "v1.yaml")
    assert again.exit_code == 0, again.stderr
    assert f"unchanged {SLUG} v1" in again.stdout
    assert count_all() == 2
