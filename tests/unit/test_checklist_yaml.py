"""Tests for the checklist YAML format: loading, every validation rule, and the JSON round trip."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditapp.adapters.checklist_yaml import (
    ChecklistFormatError,
    load_checklist_file,
    load_checklist_text,
)
from auditapp.domain.checklist import (
    Band,
    Checklist,
    ChecklistInvalid,
    CriticalRule,
    Option,
    checklist_from_dict,
    checklist_to_dict,
    format_path,
    localize,
    parse_checklist,
)

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE = FIXTURES / "example.yaml"
DOC = Path(__file__).parents[2] / "docs" / "checklists.md"

# A minimal valid checklist; tests change one thing and check the reported problem.
# Line numbers matter: item `q1` starts on line 13, its `type` is line 16.
MINIMAL = """\
checklist: minimal
version: 1
title: Minimal
standard: {code: STD-1, title: Standard}
applies_to: [store]
channel: visit
staff_roles: [cashier]
sections:
  - id: main
    stage: purchase
    title: Main
    items:
      - id: q1
        clause: "1.1"
        text: Question one?
        type: yes_no
"""


def problems_of(text: str, filename: str = "c.yaml") -> list[str]:
    """Load `text`, expecting failure, and return the reported problems."""
    with pytest.raises(ChecklistFormatError) as caught:
        load_checklist_text(text, filename)
    return caught.value.problems


def with_item(extra: str) -> str:
    """MINIMAL plus lines appended to item q1 (indented to match)."""
    return MINIMAL + textwrap.indent(textwrap.dedent(extra), " " * 8)


def with_second_item(item: str) -> str:
    """MINIMAL plus a second item in the same section (its `- id:` line is line 17)."""
    return MINIMAL + textwrap.indent(textwrap.dedent(item), " " * 6)


# --- loading valid files -------------------------------------------------------------------


def test_minimal_checklist_loads_with_defaults() -> None:
    checklist = load_checklist_text(MINIMAL, "minimal.yaml")
    item = checklist.item("q1")
    assert checklist.slug == "minimal"
    assert checklist.critical_rule == CriticalRule("zero_audit", None)
    assert (item.weight, item.na, item.critical, item.photo) == (1.0, False, False, "none")
    assert item.guidance is None and item.staff_role is None
    # A plain string becomes a language-neutral text.
    assert item.text == {"*": "Question one?"}
    assert checklist.standard_code == "STD-1"


def test_example_fixture_loads_every_type() -> None:
    checklist = load_checklist_file(EXAMPLE)
    assert checklist.slug == "coffee-shop-visit"
    assert checklist.critical_rule == CriticalRule("cap", 50.0)
    assert checklist.staff_roles == ("barista", "cashier")
    assert [section.stage for section in checklist.sections] == [
        "pre_purchase",
        "purchase",
        "after_sale",
    ]
    assert {item.type for item in checklist.items()} == {
        "yes_no",
        "number",
        "scale",
        "choice",
        "text",
    }
    wait = checklist.item("queue_wait")
    assert wait.bands == (Band(60.0, 1.0), Band(180.0, 0.5), Band(None, 0.0))
    assert wait.unit == {"ru": "сек", "en": "s"}
    drink = checklist.item("drink_quality")
    assert (drink.scale_min, drink.scale_max, drink.weight) == (1, 5, 3.0)
    offer = checklist.item("dessert_offer")
    assert [option.id for option in offer.options] == ["matched", "generic", "none"]
    assert offer.options[1] == Option(
        "generic", {"ru": "Да, без пояснений", "en": "Yes, without explanation"}, 0.5
    )
    comment = checklist.item("comment")
    assert not comment.scored and comment.weight == 0.0
    assert checklist.item("receipt").critical and checklist.item("receipt").photo == "required"


def test_documented_example_is_the_fixture() -> None:
    """docs/checklists.md shows the fixture verbatim, so the tested example is the shown one."""
    doc = DOC.read_text(encoding="utf-8")
    example = doc.split("## Example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    assert example == EXAMPLE.read_text(encoding="utf-8")


def test_checklist_item_lookup_and_order() -> None:
    checklist = load_checklist_file(EXAMPLE)
    assert [item.id for item in checklist.items()] == [
        "greeted",
        "queue_wait",
        "receipt",
        "drink_quality",
        "dessert_offer",
        "table_clean",
        "comment",
    ]
    assert checklist.item("receipt").clause == "3.4"
    with pytest.raises(KeyError):
        checklist.item("nope")


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode("utf-8"))
    assert load_checklist_file(path).slug == "minimal"


def test_cap_rule_and_zero_section_parse() -> None:
    capped = load_checklist_text(MINIMAL + "critical_rule: cap_62.5\n", "c.yaml")
    assert capped.critical_rule == CriticalRule("cap", 62.5)
    zeroed = load_checklist_text(MINIMAL + "critical_rule: zero_section\n", "c.yaml")
    assert zeroed.critical_rule == CriticalRule("zero_section", None)


# --- localize --------------------------------------------------------------------------------


def test_localize_fallback_order() -> None:
    both = {"ru": "Привет", "en": "Hello"}
    assert localize(both, "en") == "Hello"
    assert localize(both, "de") == "Привет"  # no German, no "*": Russian
    assert localize({"*": "Hi", "ru": "Привет"}, "de") == "Hi"  # "*" before Russian
    assert localize({"en": "Hello"}, "ru") == "Hello"
    assert localize({"*": "Hi"}, "ru") == "Hi"
    assert localize({}, "ru") == ""


# --- the JSON round trip -------------------------------------------------------------------


def test_round_trip_through_json_is_lossless() -> None:
    checklist = load_checklist_file(EXAMPLE)
    document = checklist_to_dict(checklist)
    # The stored form must survive real JSON (no tuples, no non-finite numbers).
    decoded = json.loads(json.dumps(document, allow_nan=False))
    assert checklist_from_dict(decoded) == checklist
    assert decoded["critical_rule"] == "cap_50"
    assert decoded["sections"][2]["items"][1]["text"] == {"*": "Комментарий / Comment"}
    assert decoded["sections"][0]["items"][1]["bands"][-1] == {"score": 0.0}


def test_round_trip_keeps_fractional_cap_and_defaults() -> None:
    checklist = load_checklist_text(MINIMAL + "critical_rule: cap_62.5\n", "c.yaml")
    document = checklist_to_dict(checklist)
    assert document["critical_rule"] == "cap_62.5"
    assert document["staff_roles"] == ["cashier"]
    item = document["sections"][0]["items"][0]
    assert (item["weight"], item["na"], item["critical"], item["photo"]) == (
        1.0,
        False,
        False,
        "none",
    )
    assert checklist_from_dict(json.loads(json.dumps(document))) == checklist


@pytest.mark.parametrize("cap", ["cap_0", "cap_100", "cap_0.00001", "cap_33.333333333333336"])
def test_cap_round_trips_exactly(cap: str) -> None:
    checklist = load_checklist_text(MINIMAL + f"critical_rule: {cap}\n", "c.yaml")
    document = checklist_to_dict(checklist)
    assert document["critical_rule"] == cap
    assert checklist_from_dict(document) == checklist


def test_from_dict_rejects_a_broken_document() -> None:
    document = checklist_to_dict(load_checklist_file(EXAMPLE))
    document["sections"][0]["items"][0]["weight"] = -2
    del document["sections"][1]["items"][0]["clause"]
    with pytest.raises(ChecklistInvalid) as caught:
        checklist_from_dict(document)
    assert [problem.field for problem in caught.value.problems] == [
        "sections[0].items[0].weight",
        "sections[1].items[0].clause",
    ]


def test_format_path() -> None:
    assert format_path(("sections", 2, "items", 5, "weight")) == "sections[2].items[5].weight"
    assert format_path(("version",)) == "version"
    assert format_path(()) == "(checklist)"


# --- every problem, with its line ----------------------------------------------------------


def test_every_problem_is_listed_with_file_line_and_field() -> None:
    text = textwrap.dedent(
        """\
        checklist: Bad_Slug
        version: 0
        title: T
        standard: {code: S-1}
        applies_to: [store, shop]
        channel: visit
        critical_rule: cap_120
        sections:
          - id: s1
            stage: purchase
            title: S
            items:
              - id: a
                clause: "1"
                text: A
                type: yes_no
                wieght: 2
              - id: a
                text: B
                type: yes_no
        """
    )
    assert problems_of(text, "bad.yaml") == [
        "bad.yaml:1: checklist: 'Bad_Slug' is not a valid slug (use a-z, 0-9 and '-')",
        "bad.yaml:2: version: must be >= 1, not 0",
        "bad.yaml:4: standard.title: required field is missing",
        "bad.yaml:5: applies_to[1]: must be one of store, restaurant, hotel, service_centre;"
        " not 'shop'",
        "bad.yaml:7: critical_rule: the cap must be between 0 and 100, not 120",
        "bad.yaml:17: sections[0].items[0].wieght: unknown field (did you mean 'weight'?)",
        "bad.yaml:18: sections[0].items[1].clause: required field is missing",
        "bad.yaml:18: sections[0].items[1].id: duplicate item id 'a' (sections[0].items[0])",
    ]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("weight: -1\n", "c.yaml:17: sections[0].items[0].weight: must be >= 0, not -1"),
        ("weight: true\n", "c.yaml:17: sections[0].items[0].weight: must be a number, not true"),
        ("weight: .nan\n", "c.yaml:17: sections[0].items[0].weight: must be a finite number"),
        ("na: yes\n", "c.yaml:17: sections[0].items[0].na: must be true or false, not 'yes'"),
        ("photo: always\n", "c.yaml:17: sections[0].items[0].photo: must be one of none,"),
        (
            "staff_role: waiter\n",
            "c.yaml:17: sections[0].items[0].staff_role: role 'waiter' is not declared",
        ),
        ("min: 1\n", "c.yaml:17: sections[0].items[0].min: not used by type yes_no"),
        (
            "guidance: {de: Hallo}\n",
            "c.yaml:17: sections[0].items[0].guidance.de: unknown language",
        ),
        ("guidance: ''\n", "c.yaml:17: sections[0].items[0].guidance: must be non-empty text"),
        (
            "critical: true\nweight: 0\n",
            "c.yaml:17: sections[0].items[0].critical: a critical item needs a weight > 0",
        ),
    ],
)
def test_item_field_problems(extra: str, expected: str) -> None:
    problems = problems_of(with_item(extra))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


def test_unknown_type_is_reported_without_noise() -> None:
    text = MINIMAL.replace("type: yes_no", "type: dropdown") + "        options: []\n"
    assert problems_of(text) == [
        "c.yaml:16: sections[0].items[0].type: must be one of yes_no, scale, number, choice,"
        " text; not 'dropdown'"
    ]


def test_missing_clause_and_missing_type() -> None:
    text = MINIMAL.replace('        clause: "1.1"\n', "").replace("        type: yes_no\n", "")
    assert problems_of(text) == [
        "c.yaml:13: sections[0].items[0].clause: required field is missing",
        "c.yaml:13: sections[0].items[0].type: required field is missing",
    ]


def test_scale_min_not_below_max() -> None:
    text = with_second_item(
        """\
        - id: q2
          clause: "1.2"
          text: Rate
          type: scale
          min: 5
          max: 5
        """
    )
    assert problems_of(text) == [
        "c.yaml:22: sections[0].items[1].max: max (5) must be greater than min (5)"
    ]


def test_scale_needs_whole_number_bounds() -> None:
    text = with_second_item(
        """\
        - id: q2
          clause: "1.2"
          text: Rate
          type: scale
          min: 0.5
        """
    )
    assert problems_of(text) == [
        "c.yaml:17: sections[0].items[1].max: required field is missing",
        "c.yaml:21: sections[0].items[1].min: must be a whole number, not 0.5",
    ]
    text = text + "        max: 5\n"
    assert problems_of(text) == [
        "c.yaml:21: sections[0].items[1].min: must be a whole number, not 0.5",
    ]


def number_item(bands: str) -> str:
    """MINIMAL plus a number item with the given bands block (bands start on line 22)."""
    item = """\
    - id: wait
      clause: "2.1"
      text: Waiting time
      type: number
      unit: s
      bands:
    """
    return with_second_item(textwrap.dedent(item) + textwrap.indent(textwrap.dedent(bands), "  "))


def test_number_bands_must_ascend() -> None:
    text = number_item(
        """\
        - {upto: 60, score: 1}
        - {upto: 30, score: 0.5}
        - {score: 0}
        """
    )
    assert problems_of(text) == [
        "c.yaml:24: sections[0].items[1].bands[1].upto: bands must ascend: 30 is not above 60"
    ]


def test_number_bands_open_ended_last_and_scores_in_range() -> None:
    text = number_item(
        """\
        - {score: 1}
        - {upto: 30, score: 1.5}
        - {upto: 90, score: 0}
        """
    )
    assert problems_of(text) == [
        "c.yaml:23: sections[0].items[1].bands[0].upto: only the last band may omit upto",
        "c.yaml:24: sections[0].items[1].bands[1].score: must be <= 1, not 1.5",
        "c.yaml:25: sections[0].items[1].bands[2].upto: the last band must have no upto:"
        " it scores every larger answer",
    ]


def test_number_needs_unit_and_bands() -> None:
    text = with_second_item(
        """\
        - id: wait
          clause: "2.1"
          text: Waiting time
          type: number
        """
    )
    assert problems_of(text) == [
        "c.yaml:17: sections[0].items[1].unit: required field is missing",
        "c.yaml:17: sections[0].items[1].bands: required field is missing",
    ]


def test_choice_option_ids_unique_and_scores_in_range() -> None:
    text = with_second_item(
        """\
        - id: offer
          clause: "3.3"
          text: Offer
          type: choice
          options:
            - {id: yes, label: Yes, score: 1}
            - {id: yes, label: Again, score: -0.5}
        """
    )
    assert problems_of(text) == [
        "c.yaml:23: sections[0].items[1].options[1].id: duplicate option id 'yes'",
        "c.yaml:23: sections[0].items[1].options[1].score: must be >= 0, not -0.5",
    ]


def test_text_items_cannot_be_scored() -> None:
    text = with_second_item(
        """\
        - id: note
          clause: "9"
          text: Comment
          type: text
          weight: 2
          critical: true
          photo: required
        """
    )
    assert problems_of(text) == [
        "c.yaml:21: sections[0].items[1].weight: text items are never scored: weight must be 0",
        "c.yaml:22: sections[0].items[1].critical: text items are never scored: cannot be critical",
        "c.yaml:23: sections[0].items[1].photo: text items are never scored: photo must be none",
    ]


def test_text_item_with_weight_zero_is_fine() -> None:
    text = with_second_item(
        """\
        - id: note
          clause: "9"
          text: Comment
          type: text
          weight: 0
        """
    )
    assert not load_checklist_text(text, "c.yaml").item("note").scored


def test_checklist_needs_a_scored_item() -> None:
    text = MINIMAL.replace("type: yes_no", "type: text")
    assert problems_of(text) == [
        "c.yaml:8: sections: the checklist has no scored item with weight > 0"
    ]


def test_section_problems() -> None:
    text = MINIMAL + textwrap.indent(
        textwrap.dedent(
            """\
            - id: main
              stage: during
              title: Second
              items: []
            """
        ),
        "  ",
    )
    assert problems_of(text) == [
        "c.yaml:17: sections[1].id: duplicate section id 'main' (sections[0])",
        "c.yaml:18: sections[1].stage: must be one of pre_purchase, purchase, after_sale;"
        " not 'during'",
        "c.yaml:20: sections[1].items: must not be empty",
    ]


def test_top_level_problems() -> None:
    text = (
        MINIMAL.replace("version: 1", "version: '1'")
        .replace("channel: visit", "channel: email")
        .replace("staff_roles: [cashier]", "staff_roles: [cashier, cashier]")
        .replace("applies_to: [store]", "applies_to: []")
    )
    assert problems_of(text + "sectons: []\n") == [
        "c.yaml:2: version: must be a whole number, not '1'",
        "c.yaml:5: applies_to: must not be empty",
        "c.yaml:6: channel: must be one of visit, call, online; not 'email'",
        "c.yaml:7: staff_roles[1]: role 'cashier' is listed twice",
        "c.yaml:17: sectons: unknown field (did you mean 'sections'?)",
    ]


def test_missing_top_level_fields() -> None:
    assert problems_of("checklist: x\n") == [
        f"c.yaml:1: {field}: required field is missing"
        for field in ("version", "title", "standard", "applies_to", "channel", "sections")
    ]


@pytest.mark.parametrize("rule", ["cap", "cap_", "cap_-5", "zero", "cap_50%"])
def test_bad_critical_rule(rule: str) -> None:
    assert problems_of(MINIMAL + f"critical_rule: '{rule}'\n") == [
        f"c.yaml:17: critical_rule: must be zero_audit, zero_section or cap_N; not '{rule}'"
    ]


# --- YAML-level problems -------------------------------------------------------------------


def test_duplicate_keys_are_all_reported() -> None:
    text = MINIMAL.replace("version: 1\n", "version: 1\nversion: 2\n") + "        text: Again\n"
    assert problems_of(text) == [
        "c.yaml:3: version: duplicate key (first at line 2)",
        "c.yaml:18: sections[0].items[0].text: duplicate key (first at line 16)",
    ]


def test_duplicate_keys_come_with_the_other_problems() -> None:
    text = MINIMAL.replace("channel: visit\n", "channel: visit\nchannel: call\n")
    text = text.replace("type: yes_no", "type: maybe")
    assert problems_of(text) == [
        "c.yaml:7: channel: duplicate key (first at line 6)",
        "c.yaml:17: sections[0].items[0].type: must be one of yes_no, scale, number, choice,"
        " text; not 'maybe'",
    ]


def test_yaml_syntax_error_has_its_line() -> None:
    text = MINIMAL.replace("applies_to: [store]", "applies_to: [store")
    (problem,) = problems_of(text)
    assert problem.startswith("c.yaml:6: (yaml): ")
    assert "flow sequence" in problem


def test_tab_indentation_is_a_syntax_error() -> None:
    text = MINIMAL.replace("        clause:", "\tclause:")
    (problem,) = problems_of(text)
    assert problem.startswith("c.yaml:14: (yaml): ")


def test_several_documents_are_refused() -> None:
    (problem,) = problems_of(MINIMAL + "---\nchecklist: other\n")
    assert problem.startswith("c.yaml:")
    assert "single document" in problem


@pytest.mark.parametrize("text", ["", "   \n", "# just a comment\n"])
def test_empty_file(text: str) -> None:
    (problem,) = problems_of(text)
    assert problem.startswith("c.yaml:1: (file): the file ")


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "a list"), ("hello\n", "a string")])
def test_top_level_must_be_a_mapping(text: str, kind: str) -> None:
    assert problems_of(text) == [
        f"c.yaml:1: (file): the top level must be a mapping (checklist: ..., version: ...),"
        f" not {kind}"
    ]


def test_file_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ChecklistFormatError) as caught:
        load_checklist_file(missing)
    assert caught.value.problems == [f"{missing}:1: (file): file not found"]


def test_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "cp1251.yaml"
    path.write_bytes(MINIMAL.replace("Minimal", "Минимальный").encode("cp1251"))
    with pytest.raises(ChecklistFormatError) as caught:
        load_checklist_file(path)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{path}:3: (file): not UTF-8 text")


def test_error_str_joins_problems_with_newlines() -> None:
    error = ChecklistFormatError(["a.yaml:1: x: one", "a.yaml:2: y: two"])
    assert str(error) == "a.yaml:1: x: one\na.yaml:2: y: two"


# --- robustness ------------------------------------------------------------------------------

junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def paths_in(value: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path to a node of a plain document, the root included."""
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths_in(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths_in(child, (*path, index))
    return found


@settings(max_examples=300, deadline=None)  # a busy CI machine must not fail it
@given(st.data())
def test_any_broken_document_gives_problems_not_a_crash(data: st.DataObject) -> None:
    document = checklist_to_dict(load_checklist_file(EXAMPLE))
    path = data.draw(st.sampled_from(paths_in(document)[1:]))
    parent: object = document
    for part in path[:-1]:
        parent = parent[part]  # type: ignore[index]
    delete = data.draw(st.booleans())
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(junk)  # type: ignore[index]
    try:
        result = parse_checklist(document)
    except ChecklistInvalid as error:
        assert error.problems
        for problem in error.problems:
            assert problem.message
    else:
        assert isinstance(result, Checklist)
