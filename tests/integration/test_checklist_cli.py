"""The ``checklist validate`` and ``checklist score`` commands, run through Flask's CLI runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask

ROOT = Path(__file__).parents[2]
CHECKLISTS = sorted((ROOT / "checklists").glob("*.yaml"))

# A valid checklist the broken files below are made from, one change each.
BASE = """\
checklist: cli-base
version: 1
title: CLI base
standard: {code: STD-CLI, title: CLI standard}
applies_to: [store]
channel: visit
staff_roles: [seller]
sections:
  - id: meet
    stage: pre_purchase
    title: Meet
    items:
      - id: hello
        clause: "1.1"
        text: Were you greeted?
        type: yes_no
        staff_role: seller
      - id: wait
        clause: "1.2"
        text: Seconds waited
        type: number
        unit: s
        bands:
          - {upto: 30, score: 1}
          - {upto: 120, score: 0.5}
          - {score: 0}
  - id: buy
    stage: purchase
    title: Buy
    items:
      - id: polite
        clause: "2.1"
        text: How polite?
        type: scale
        min: 1
        max: 5
      - id: note
        clause: "2.9"
        text: Comment
        type: text
"""

# Hand-scored checklist for `checklist score`: weights, bands, scale, choice, N/A, text, a role.
SCORED = """\
checklist: cli-scored
version: 1
title: Scored
standard: {code: STD-SC, title: Scoring standard}
applies_to: [store]
channel: visit
critical_rule: cap_40
staff_roles: [seller, cashier]
sections:
  - id: meet
    stage: pre_purchase
    title: Meet
    items:
      - id: hello
        clause: "1.1"
        text: Were you greeted?
        type: yes_no
        weight: 3
        critical: true
        staff_role: seller
      - id: wait
        clause: "1.2"
        text: Seconds waited
        type: number
        unit: s
        weight: 4
        bands:
          - {upto: 30, score: 1}
          - {upto: 120, score: 0.25}
          - {score: 0}
  - id: buy
    stage: purchase
    title: Buy
    items:
      - id: polite
        clause: "2.1"
        text: How polite, 0 to 10?
        type: scale
        min: 0
        max: 10
        weight: 5
        staff_role: seller
      - id: upsell
        clause: "2.2"
        text: Were you offered more?
        type: choice
        na: true
        staff_role: cashier
        options:
          - {id: good, label: Good, score: 1}
          - {id: meh, label: Meh, score: 0.6}
          - {id: nothing, label: Nothing, score: 0}
      - id: note
        clause: "2.9"
        text: Comment
        type: text
"""

SUMMARY_KEYS = {"score", "sections", "stages", "critical_failed", "roles"}


def run(app: Flask, *args: str) -> Result:
    """Run ``flask --app auditapp ARGS`` in-process."""
    return app.test_cli_runner().invoke(args=list(args))


def line_of(text: str, marker: str) -> int:
    """The 1-based line of the only line of `text` containing `marker`."""
    lines = [n for n, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(lines) == 1, (marker, lines)
    return lines[0]


def replace_once(text: str, old: str, new: str) -> str:
    """`text` with `old` (which must occur exactly once) replaced by `new`."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def answers_file(tmp_path: Path, answers: dict[str, Any], name: str = "answers.json") -> Path:
    """An answers file as the command reads it: ``{"answers": {item_id: value}}``."""
    return write(tmp_path, name, json.dumps({"answers": answers}))


# --- validate -------------------------------------------------------------------------------


def test_validate_accepts_every_shipped_checklist(app: Flask) -> None:
    """CI runs this over checklists/: every file must be valid."""
    assert len(CHECKLISTS) >= 5
    result = run(app, "checklist", "validate", *map(str, CHECKLISTS))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    for path in CHECKLISTS:
        assert f"{path}: ok" in result.stdout


def test_validate_base_fixture_is_valid(app: Flask, tmp_path: Path) -> None:
    """The broken files below differ from a valid one by one change only."""
    result = run(app, "checklist", "validate", str(write(tmp_path, "base.yaml", BASE)))
    assert result.exit_code == 0, result.stderr


def _broken_cases() -> list[tuple[str, str, str, str, str]]:
    """(name, text, marker of the faulty line, field, a piece of the message)."""
    cases: list[tuple[str, str, str, str, str]] = []

    text = replace_once(BASE, "channel: visit\n", "channel: visit: walk-in\n")
    cases.append(("syntax.yaml", text, "visit: walk-in", "(yaml)", ""))

    text = replace_once(BASE, "- id: polite", "- id: hello  # again")
    cases.append(("dup.yaml", text, "hello  # again", "sections[1].items[0].id", "duplicate"))

    text = replace_once(BASE, "type: yes_no", "type: yesno")
    cases.append(("type.yaml", text, "type: yesno", "sections[0].items[0].type", "yesno"))

    text = replace_once(BASE, "type: yes_no\n", "type: yes_no\n        weight: -2\n")
    cases.append(("weight.yaml", text, "weight: -2", "sections[0].items[0].weight", ">= 0"))

    text = replace_once(BASE, "{upto: 120, score: 0.5}", "{upto: 20, score: 0.5}")
    cases.append(("bands.yaml", text, "upto: 20", "sections[0].items[1].bands[1].upto", "ascend"))

    text = replace_once(BASE, "max: 5", "max: 1")
    cases.append(("scale.yaml", text, "max: 1", "sections[1].items[0].max", "greater than min"))

    text = replace_once(BASE, "min: 1\n        max: 5", "min: 5\n        max: 2")
    cases.append(("reversed.yaml", text, "max: 2", "sections[1].items[0].max", "greater than min"))

    text = replace_once(BASE, '        clause: "2.1"\n', "")
    cases.append(("clause.yaml", text, "- id: polite", "sections[1].items[0].clause", "missing"))

    text = replace_once(BASE, "staff_role: seller", "staff_role: barista")
    cases.append(
        ("role.yaml", text, "staff_role: barista", "sections[0].items[0].staff_role", "barista")
    )

    text = replace_once(BASE, "type: text\n", "type: text\n        critical: true\n")
    cases.append(
        ("critical.yaml", text, "critical: true", "sections[1].items[1].critical", "critical")
    )
    return cases


BROKEN = _broken_cases()


@pytest.mark.parametrize(
    ("name", "text", "marker", "field", "message"), BROKEN, ids=[case[0] for case in BROKEN]
)
def test_validate_reports_file_line_and_field(
    app: Flask, tmp_path: Path, name: str, text: str, marker: str, field: str, message: str
) -> None:
    """One broken file: exit 1 and ``FILE:LINE: field: message`` on stderr, no "ok" line."""
    path = write(tmp_path, name, text)
    result = run(app, "checklist", "validate", str(path))
    assert result.exit_code == 1
    line = line_of(text, marker)
    prefix = f"{path}:{line}: {field}: "
    reported = [row for row in result.stderr.splitlines() if row.startswith(prefix)]
    assert reported, result.stderr
    assert message in reported[0][len(prefix) :]
    assert reported[0][len(prefix) :].strip()
    assert f"{path}: ok" not in result.stdout


def test_validate_reports_every_broken_file_at_once(app: Flask, tmp_path: Path) -> None:
    """Several files: a valid one passes, each broken one is reported, exit status 1."""
    good = write(tmp_path, "good.yaml", BASE)
    (tmp_path / "many").mkdir()
    paths = [write(tmp_path / "many", name, text) for name, text, *_ in BROKEN]
    result = run(app, "checklist", "validate", str(good), *map(str, paths))
    assert result.exit_code == 1
    assert f"{good}: ok" in result.stdout
    for (_, text, marker, field, _), path in zip(BROKEN, paths, strict=True):
        assert f"{path}:{line_of(text, marker)}: {field}: " in result.stderr
    assert str(good) not in result.stderr


def test_validate_missing_file_fails(app: Flask, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = run(
        app, "checklist", "validate", str(ROOT / "tests/unit/fixtures/example.yaml"), str(missing)
    )
    assert result.exit_code == 1
    assert f"{missing}:1: (file): " in result.stderr


# --- score ----------------------------------------------------------------------------------


def score(app: Flask, tmp_path: Path, answers: dict[str, Any]) -> Result:
    checklist = write(tmp_path, "scored.yaml", SCORED)
    return run(app, "checklist", "score", str(checklist), str(answers_file(tmp_path, answers)))


def test_score_prints_hand_computed_result(app: Flask, tmp_path: Path) -> None:
    """hello 3/3, wait 45 s -> 0.25 x 4 = 1/4, polite 7 -> 0.7 x 5 = 3.5/5, upsell meh 0.6/1."""
    answers = {"hello": True, "wait": 45, "polite": 7, "upsell": "meh", "note": "fine"}
    result = score(app, tmp_path, answers)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == SUMMARY_KEYS
    assert data["critical_failed"] == []
    # meet 4 / 7, buy 4.1 / 6, audit 8.1 / 13; seller 6.5 / 8, cashier 0.6 / 1.
    assert data["score"] == pytest.approx(100 * 8.1 / 13)
    assert data["sections"]["meet"]["score"] == pytest.approx(100 * 4 / 7)
    assert data["sections"]["meet"]["earned"] == pytest.approx(4)
    assert data["sections"]["meet"]["possible"] == pytest.approx(7)
    assert data["sections"]["buy"]["score"] == pytest.approx(100 * 4.1 / 6)
    assert data["stages"]["pre_purchase"]["score"] == pytest.approx(100 * 4 / 7)
    assert data["stages"]["purchase"]["score"] == pytest.approx(100 * 4.1 / 6)
    assert set(data["roles"]) == {"seller", "cashier"}
    assert data["roles"]["seller"]["score"] == pytest.approx(81.25)
    assert data["roles"]["cashier"]["score"] == pytest.approx(60)


def test_score_applies_cap_and_na(app: Flask, tmp_path: Path) -> None:
    """Critical hello fails: 0/3 + 1/4 + 10/10 x 5 = 6/12 = 50, capped at 40; upsell N/A."""
    answers = {"hello": False, "wait": 100, "polite": 10, "upsell": None}
    result = score(app, tmp_path, answers)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == SUMMARY_KEYS
    assert data["critical_failed"] == ["hello"]
    assert data["score"] == pytest.approx(40)
    assert data["sections"]["meet"]["score"] == pytest.approx(100 / 7)
    assert data["sections"]["buy"]["score"] == pytest.approx(100)
    assert data["sections"]["buy"]["possible"] == pytest.approx(5)
    assert data["roles"]["seller"]["score"] == pytest.approx(62.5)
    assert data["roles"]["cashier"]["score"] is None


def test_score_of_documented_example(app: Flask, tmp_path: Path) -> None:
    """The example in docs/checklists.md: audit 75, barista 85, farewell null."""
    answers = {
        "greeted": True,
        "queue_wait": 95,
        "receipt": True,
        "drink_quality": 4,
        "dessert_offer": "generic",
        "table_clean": None,
        "comment": "Очень вкусно",
    }
    example = ROOT / "tests/unit/fixtures/example.yaml"
    result = run(app, "checklist", "score", str(example), str(answers_file(tmp_path, answers)))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["score"] == pytest.approx(75)
    assert data["roles"]["barista"]["score"] == pytest.approx(85)
    assert data["sections"]["farewell"]["score"] is None


@pytest.mark.parametrize(
    ("answers", "bad_items"),
    [
        ({"hello": True, "wait": 1, "polite": 3, "upsell": "good", "ghost": 1}, ["ghost"]),
        ({"hello": True, "wait": 1, "polite": 11, "upsell": "good"}, ["polite"]),
        ({"hello": True, "wait": 1, "polite": 3, "upsell": "great"}, ["upsell"]),
        ({"hello": "yes", "wait": 1, "polite": 3, "upsell": "good"}, ["hello"]),
        ({"hello": True, "polite": 3, "upsell": "good"}, ["wait"]),
        (
            {"hello": None, "wait": 1, "polite": -1, "upsell": "good", "x": 2},
            ["hello", "polite", "x"],
        ),
    ],
    ids=["unknown-item", "out-of-range", "unknown-option", "wrong-type", "missing", "several"],
)
def test_score_rejects_bad_answers_naming_items(
    app: Flask, tmp_path: Path, answers: dict[str, Any], bad_items: list[str]
) -> None:
    """Every bad answer is reported, on its own line, with the item id; nothing on stdout."""
    result = score(app, tmp_path, answers)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    for item_id in bad_items:
        assert any(f"{item_id}: " in line for line in lines), (item_id, result.stderr)
    good = {"hello", "wait", "polite", "upsell"} - set(bad_items)
    for item_id in good:
        assert not any(f"{item_id}: " in line for line in lines), (item_id, result.stderr)


@pytest.mark.parametrize(
    "content",
    ["{not json", '["hello", true]', '{"answers": [1, 2]}', b"\xff\xfe\x00".decode("latin-1"), ""],
    ids=["syntax", "list", "answers-not-object", "not-utf8", "empty"],
)
def test_score_rejects_malformed_answers_file(app: Flask, tmp_path: Path, content: str) -> None:
    checklist = write(tmp_path, "scored.yaml", SCORED)
    answers = tmp_path / "answers.json"
    answers.write_bytes(content.encode("latin-1"))
    result = run(app, "checklist", "score", str(checklist), str(answers))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert str(answers) in result.stderr
    assert "Traceback" not in result.output


def test_score_rejects_invalid_checklist(app: Flask, tmp_path: Path) -> None:
    broken = write(tmp_path, "bad.yaml", replace_once(SCORED, "weight: 4", "weight: -4"))
    result = run(
        app, "checklist", "score", str(broken), str(answers_file(tmp_path, {"hello": True}))
    )
    assert result.exit_code == 1
    assert f"{broken}:{line_of(SCORED, 'weight: 4')}: sections[0].items[1].weight: " in (
        result.stderr
    )
