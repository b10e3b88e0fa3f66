"""Tests for the scoring engine; every expected figure is worked out by hand in the test."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from auditapp.adapters.checklist_yaml import load_checklist_file
from auditapp.domain.checklist import Band, Checklist, CriticalRule, Item, Option, Section
from auditapp.domain.scoring import (
    AnswerError,
    ItemProblem,
    PartScore,
    check_photo_rules,
    display,
    item_fraction,
    score_audit,
    validate_answers,
)

EXAMPLE = Path(__file__).parent / "fixtures" / "example.yaml"


def yes_no(item_id: str, **fields: object) -> Item:
    """A yes/no item; keyword arguments override the dataclass defaults."""
    return Item(id=item_id, clause="1", text={"*": item_id}, type="yes_no", **fields)  # type: ignore[arg-type]


SCALE = Item(id="scale", clause="2", text={"*": "s"}, type="scale", scale_min=1, scale_max=5)
WAIT = Item(
    id="wait",
    clause="3",
    text={"*": "w"},
    type="number",
    unit={"*": "s"},
    bands=(Band(60, 1.0), Band(180, 0.5), Band(None, 0.0)),
)
OFFER = Item(
    id="offer",
    clause="4",
    text={"*": "o"},
    type="choice",
    options=(Option("good", {"*": "g"}, 1.0), Option("meh", {"*": "m"}, 0.25)),
)
NOTE = Item(id="note", clause="5", text={"*": "n"}, type="text", weight=0.0)


def make_checklist(
    *sections: tuple[str, str, list[Item]],
    rule: CriticalRule | None = None,
    roles: tuple[str, ...] = (),
) -> Checklist:
    """Build a checklist from (section id, stage, items) triples."""
    return Checklist(
        slug="t",
        version=1,
        title={"*": "T"},
        standard_code="S",
        standard_title={"*": "S"},
        applies_to=("store",),
        channel="visit",
        critical_rule=rule or CriticalRule(),
        staff_roles=roles,
        sections=tuple(
            Section(id=sid, stage=stage, title={"*": sid}, items=tuple(items))
            for sid, stage, items in sections
        ),
    )


# --- the documented example ------------------------------------------------------------------


def test_example_checklist_scores_as_documented() -> None:
    """The worked example in docs/checklists.md, recomputed by hand."""
    checklist = load_checklist_file(EXAMPLE)
    answers = {
        "greeted": True,  # 2 of 2
        "queue_wait": 95,  # 60 < 95 <= 180: score 0.5 -> 1 of 2
        "receipt": True,  # 1 of 1
        "drink_quality": 4,  # (4 - 1) / (5 - 1) = 0.75 -> 2.25 of 3
        "dessert_offer": "generic",  # 0.5 -> 0.5 of 1
        "table_clean": None,  # N/A: counts in neither
        "comment": "Очень вкусно",
    }
    result = score_audit(checklist, answers)
    # arrival 3 / 4; order (1 + 2.25 + 0.5) / 5 = 3.75 / 5; total 6.75 / 9
    assert result.sections["arrival"] == PartScore(75.0, 3.0, 4.0)
    assert result.sections["order"] == PartScore(75.0, 3.75, 5.0)
    assert result.sections["farewell"] == PartScore(None, 0.0, 0.0)
    assert list(result.stages) == ["pre_purchase", "purchase", "after_sale"]
    assert result.stages["purchase"].score == 75.0
    assert result.stages["after_sale"].score is None
    assert (result.earned, result.possible) == (6.75, 9.0)
    assert result.score == 75.0
    # barista: greeted 2/2 + drink 2.25/3 = 4.25/5; cashier: receipt 1/1 + offer 0.5/1
    assert result.roles["barista"] == PartScore(85.0, 4.25, 5.0)
    assert result.roles["cashier"] == PartScore(75.0, 1.5, 2.0)
    assert result.critical_failed == ()
    assert "comment" not in result.items
    assert result.items["table_clean"].na and result.items["table_clean"].fraction is None


def test_example_checklist_critical_failure_caps_at_50() -> None:
    checklist = load_checklist_file(EXAMPLE)
    answers = {
        "greeted": True,
        "queue_wait": 30,  # 1 -> 2 of 2
        "receipt": False,  # critical, fails: 0 of 1
        "drink_quality": 5,  # 3 of 3
        "dessert_offer": "matched",  # 1 of 1
        "table_clean": True,  # 1 of 1
    }
    result = score_audit(checklist, answers)
    # raw: (2 + 2 + 0 + 3 + 1 + 1) / 10 = 90 %, capped at 50
    assert (result.earned, result.possible) == (9.0, 10.0)
    assert result.score == 50.0
    assert result.critical_failed == ("receipt",)
    assert result.sections["order"].score == 80.0  # sections are not capped


# --- fractions by type -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "value", "fraction"),
    [
        (yes_no("q"), True, 1.0),
        (yes_no("q"), False, 0.0),
        (SCALE, 1, 0.0),
        (SCALE, 2, 0.25),
        (SCALE, 5, 1.0),
        (WAIT, 0, 1.0),
        (WAIT, 60, 1.0),  # upto is inclusive
        (WAIT, 60.5, 0.5),
        (WAIT, 180, 0.5),
        (WAIT, 181, 0.0),
        (WAIT, -3, 1.0),
        (OFFER, "good", 1.0),
        (OFFER, "meh", 0.25),
        (yes_no("q", na=True), None, None),
    ],
)
def test_item_fraction(item: Item, value: object, fraction: float | None) -> None:
    assert item_fraction(item, value) == fraction


@pytest.mark.parametrize(
    ("item", "value", "message"),
    [
        (yes_no("q"), 1, "expected true or false, got 1"),
        (yes_no("q"), "yes", "expected true or false, got 'yes'"),
        (yes_no("q"), None, "N/A is not allowed for this item"),
        (SCALE, True, "expected a whole number in 1..5, got true"),
        (SCALE, 3.0, "expected a whole number in 1..5, got 3.0"),
        (SCALE, 0, "0 is outside the scale 1..5"),
        (SCALE, 6, "6 is outside the scale 1..5"),
        (WAIT, True, "expected a number, got true"),
        (WAIT, "60", "expected a number, got '60'"),
        (WAIT, math.nan, "expected a finite number, got nan"),
        (WAIT, math.inf, "expected a finite number, got inf"),
        (OFFER, "bad", "unknown option 'bad' (options: good, meh)"),
        (OFFER, 1, "expected an option id, got 1"),
    ],
)
def test_item_fraction_rejects_bad_values(item: Item, value: object, message: str) -> None:
    with pytest.raises(AnswerError) as caught:
        item_fraction(item, value)
    assert caught.value.problems == [ItemProblem(item.id, message)]


def test_text_items_are_never_scored() -> None:
    with pytest.raises(ValueError, match="never scored"):
        item_fraction(NOTE, "fine")


# --- validation of answers -------------------------------------------------------------------


def test_every_answer_problem_is_reported_at_once() -> None:
    checklist = make_checklist(("s", "purchase", [yes_no("q"), SCALE, WAIT, OFFER, NOTE]))
    answers = {"q": "yes", "scale": 9, "offer": "bad", "note": 5, "ghost": True}
    expected = [
        ItemProblem("q", "expected true or false, got 'yes'"),
        ItemProblem("scale", "9 is outside the scale 1..5"),
        ItemProblem("wait", "no answer (answer it or mark it N/A)"),
        ItemProblem("offer", "unknown option 'bad' (options: good, meh)"),
        ItemProblem("note", "expected text, got 5"),
        ItemProblem("ghost", "no such item in this checklist"),
    ]
    assert validate_answers(checklist, answers, complete=True) == expected
    with pytest.raises(AnswerError) as caught:
        score_audit(checklist, answers)
    assert caught.value.problems == expected
    assert "wait: no answer" in str(caught.value)


def test_draft_validation_ignores_missing_answers() -> None:
    checklist = make_checklist(("s", "purchase", [yes_no("q"), SCALE, NOTE]))
    assert validate_answers(checklist, {"q": True}, complete=False) == []
    assert validate_answers(checklist, {"scale": 7}, complete=False) == [
        ItemProblem("scale", "7 is outside the scale 1..5")
    ]
    # The text comment is never required, even for a complete audit.
    assert validate_answers(checklist, {"q": True, "scale": 2}, complete=True) == []


# --- weights, N/A and parts ------------------------------------------------------------------


def test_weights_na_and_sections() -> None:
    checklist = make_checklist(
        ("a", "pre_purchase", [yes_no("a1", weight=3), yes_no("a2", na=True)]),
        ("b", "purchase", [SCALE, yes_no("b2", weight=0)]),
        ("c", "purchase", [yes_no("c1", weight=2)]),
    )
    result = score_audit(checklist, {"a1": True, "a2": None, "scale": 3, "b2": False, "c1": False})
    # a: 3/3 (a2 N/A). b: scale (3-1)/4 = 0.5 -> 0.5/1, b2 weighs 0. c: 0/2.
    assert result.sections == {
        "a": PartScore(100.0, 3.0, 3.0),
        "b": PartScore(50.0, 0.5, 1.0),
        "c": PartScore(0.0, 0.0, 2.0),
    }
    # purchase stage = b + c = 0.5 / 3
    assert result.stages["purchase"].earned == 0.5 and result.stages["purchase"].possible == 3.0
    assert result.stages["purchase"].score == pytest.approx(100 / 6)
    assert "after_sale" not in result.stages  # no section of that stage
    assert result.score == pytest.approx(100 * 3.5 / 6)
    # A weight-0 item is still answered and its fraction kept.
    assert result.items["b2"].fraction == 0.0 and result.items["b2"].possible == 0.0


def test_all_not_applicable_gives_none() -> None:
    checklist = make_checklist(("a", "purchase", [yes_no("a1", na=True), yes_no("a2", na=True)]))
    result = score_audit(checklist, {"a1": None, "a2": None})
    assert result.score is None
    assert result.sections["a"] == PartScore(None, 0.0, 0.0)


def test_roles_score_their_own_items() -> None:
    checklist = make_checklist(
        (
            "a",
            "purchase",
            [
                yes_no("a1", staff_role="cashier", weight=2),
                yes_no("a2", staff_role="cashier"),
                yes_no("a3", staff_role="guard", na=True),
                yes_no("a4"),
            ],
        ),
        roles=("cashier", "guard", "manager"),
    )
    result = score_audit(checklist, {"a1": True, "a2": False, "a3": None, "a4": False})
    cashier = result.roles["cashier"]
    assert (cashier.earned, cashier.possible) == (2.0, 3.0)
    assert cashier.score == pytest.approx(200 / 3)
    assert result.roles["guard"] == PartScore(None, 0.0, 0.0)  # only item N/A
    assert result.roles["manager"] == PartScore(None, 0.0, 0.0)  # no items at all


# --- critical rules --------------------------------------------------------------------------


def critical_checklist(rule: CriticalRule) -> Checklist:
    """Section a: critical k (weight 1) + x (weight 3); section b: y (weight 4)."""
    return make_checklist(
        ("a", "pre_purchase", [yes_no("k", critical=True), yes_no("x", weight=3)]),
        ("b", "purchase", [yes_no("y", weight=4)]),
        rule=rule,
    )


FAILED = {"k": False, "x": True, "y": True}  # raw 7 / 8 = 87.5


def test_zero_audit() -> None:
    result = score_audit(critical_checklist(CriticalRule("zero_audit")), FAILED)
    assert result.score == 0.0 and result.earned == 0.0 and result.possible == 8.0
    assert result.critical_failed == ("k",)
    # Sections still show where points were lost, for training.
    assert result.sections["a"].score == 75.0
    assert result.sections["b"].score == 100.0


def test_zero_section() -> None:
    result = score_audit(critical_checklist(CriticalRule("zero_section")), FAILED)
    assert result.sections["a"] == PartScore(0.0, 0.0, 4.0)
    assert result.sections["b"] == PartScore(100.0, 4.0, 4.0)
    assert result.stages["pre_purchase"].score == 0.0
    assert result.score == 50.0  # 4 / 8 after zeroing section a


@pytest.mark.parametrize(("cap", "expected"), [(60.0, 60.0), (90.0, 87.5), (0.0, 0.0)])
def test_cap(cap: float, expected: float) -> None:
    result = score_audit(critical_checklist(CriticalRule("cap", cap)), FAILED)
    assert result.score == expected
    assert result.earned == 7.0  # the cap limits the score only


def test_critical_passed_or_na_is_not_a_failure() -> None:
    passed = score_audit(critical_checklist(CriticalRule()), {"k": True, "x": False, "y": True})
    assert passed.critical_failed == () and passed.score == 62.5  # (1 + 4) / 8
    checklist = make_checklist(
        ("a", "purchase", [yes_no("k", critical=True, na=True), yes_no("x")])
    )
    na = score_audit(checklist, {"k": None, "x": True})
    assert na.critical_failed == () and na.score == 100.0


def test_critical_partial_credit_is_not_a_failure() -> None:
    scale = Item(
        id="k", clause="1", text={"*": "k"}, type="scale", scale_min=0, scale_max=4, critical=True
    )
    checklist = make_checklist(("a", "purchase", [scale, yes_no("x")]))
    assert score_audit(checklist, {"k": 1, "x": True}).critical_failed == ()
    failed = score_audit(checklist, {"k": 0, "x": True})
    assert failed.critical_failed == ("k",) and failed.score == 0.0


# --- serialisation and display ---------------------------------------------------------------


def test_to_dict_is_json_shaped() -> None:
    result = score_audit(critical_checklist(CriticalRule("cap", 60)), FAILED)
    document = result.to_dict()
    assert set(document) == {
        "score",
        "earned",
        "possible",
        "sections",
        "stages",
        "roles",
        "critical_failed",
        "items",
    }
    assert document["critical_failed"] == ["k"]
    assert document["sections"]["a"] == {"score": 75.0, "earned": 3.0, "possible": 4.0}
    assert document["items"]["k"] == {"fraction": 0.0, "earned": 0.0, "possible": 1.0, "na": False}


def test_full_precision_is_kept() -> None:
    checklist = make_checklist(("a", "purchase", [yes_no("a"), yes_no("b"), yes_no("c")]))
    result = score_audit(checklist, {"a": True, "b": True, "c": False})
    assert result.score == 100 * (2 / 3)
    assert display(result.score) == "66.7"


@pytest.mark.parametrize(
    ("score", "shown"),
    [(None, "—"), (100.0, "100.0"), (0.0, "0.0"), (87.25, "87.3"), (87.24, "87.2"), (0.05, "0.1")],
)
def test_display(score: float | None, shown: str) -> None:
    assert display(score) == shown


# --- photo rules -----------------------------------------------------------------------------


def test_photo_rules() -> None:
    checklist = make_checklist(
        (
            "a",
            "purchase",
            [
                yes_no("req", photo="required"),
                yes_no("req_na", photo="required", na=True),
                yes_no("fail", photo="on_fail"),
                yes_no("pass", photo="on_fail"),
                Item(
                    id="scale",
                    clause="1",
                    text={"*": "s"},
                    type="scale",
                    scale_min=1,
                    scale_max=5,
                    photo="on_fail",
                ),
                yes_no("plain"),
            ],
        )
    )
    answers = {
        "req": True,
        "req_na": None,
        "fail": False,
        "pass": True,
        "scale": 4,
        "plain": False,
    }
    assert check_photo_rules(checklist, answers, {"ghost": 1}) == [
        ItemProblem("req", "a photo is required"),
        ItemProblem("fail", "a photo is required when the item is not fully met"),
        ItemProblem("scale", "a photo is required when the item is not fully met"),
        ItemProblem("ghost", "photos attached to no such item"),
    ]
    photos = {"req": 1, "fail": 2, "scale": 1}
    assert check_photo_rules(checklist, answers, photos) == []
    # A required photo is needed until the item is answered N/A; on_fail waits for the answer.
    assert check_photo_rules(checklist, {}, {}) == [
        ItemProblem("req", "a photo is required"),
        ItemProblem("req_na", "a photo is required"),
    ]
