"""Property tests for the scoring engine's invariants, over random checklists and answers."""

from __future__ import annotations

import dataclasses
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from auditapp.domain.checklist import (
    STAGES,
    Band,
    Checklist,
    CriticalRule,
    Item,
    Option,
    Section,
)
from auditapp.domain.scoring import AuditScore, PartScore, item_fraction, score_audit

ROLES = ("cashier", "consultant")
weights = st.one_of(st.sampled_from([0.0, 1.0, 2.0]), st.floats(0, 100, allow_nan=False))
fractions = st.floats(0, 1, allow_nan=False)


@st.composite
def items(draw: st.DrawFn, item_id: str) -> Item:
    """A valid item of any type."""
    kind = draw(st.sampled_from(["yes_no", "scale", "number", "choice", "text"]))
    fields: dict[str, object] = {}
    if kind == "scale":
        low = draw(st.integers(-5, 5))
        fields.update(scale_min=low, scale_max=low + draw(st.integers(1, 10)))
    elif kind == "number":
        limits = sorted(set(draw(st.lists(st.integers(0, 600), max_size=4))))
        scores = draw(st.lists(fractions, min_size=len(limits) + 1, max_size=len(limits) + 1))
        bands = [Band(float(upto), score) for upto, score in zip(limits, scores, strict=False)]
        fields.update(unit={"*": "s"}, bands=(*bands, Band(None, scores[-1])))
    elif kind == "choice":
        scores = draw(st.lists(fractions, min_size=1, max_size=4))
        fields["options"] = tuple(
            Option(f"o{index}", {"*": "o"}, score) for index, score in enumerate(scores)
        )
    weight = 0.0 if kind == "text" else draw(weights)
    return Item(
        id=item_id,
        clause="1",
        text={"*": item_id},
        type=kind,
        weight=weight,
        na=draw(st.booleans()),
        critical=kind != "text" and weight > 0 and draw(st.booleans()),
        staff_role=draw(st.sampled_from([None, *ROLES])),
        **fields,  # type: ignore[arg-type]
    )


rules = st.one_of(
    st.just(CriticalRule("zero_audit")),
    st.just(CriticalRule("zero_section")),
    st.floats(0, 100).map(lambda cap: CriticalRule("cap", cap)),
)


@st.composite
def checklists(draw: st.DrawFn) -> Checklist:
    """A valid checklist of 1-3 sections with 1-4 items each."""
    sections = []
    counter = 0
    for section_index in range(draw(st.integers(1, 3))):
        section_items = []
        for _ in range(draw(st.integers(1, 4))):
            section_items.append(draw(items(f"i{counter}")))
            counter += 1
        sections.append(
            Section(
                id=f"s{section_index}",
                stage=draw(st.sampled_from(STAGES)),
                title={"*": "s"},
                items=tuple(section_items),
            )
        )
    return Checklist(
        slug="p",
        version=1,
        title={"*": "p"},
        standard_code="S",
        standard_title={"*": "S"},
        applies_to=("store",),
        channel="visit",
        critical_rule=draw(rules),
        staff_roles=ROLES,
        sections=tuple(sections),
    )


def answer_values(item: Item, *, allow_na: bool = True) -> st.SearchStrategy[object]:
    """Valid answers for `item` (N/A included where the item allows it)."""
    values: st.SearchStrategy[object]
    if item.type == "yes_no":
        values = st.booleans()
    elif item.type == "scale":
        assert item.scale_min is not None and item.scale_max is not None
        values = st.integers(item.scale_min, item.scale_max)
    elif item.type == "number":
        values = st.one_of(st.integers(-10, 1000), st.floats(allow_nan=False, allow_infinity=False))
    elif item.type == "choice":
        values = st.sampled_from([option.id for option in item.options])
    else:
        values = st.one_of(st.none(), st.text(max_size=5))
    if item.na and allow_na and item.type != "text":
        values = st.one_of(st.none(), values)
    return values


def answer_sets(checklist: Checklist) -> st.SearchStrategy[dict[str, object]]:
    """Complete valid answers for `checklist`."""
    return st.fixed_dictionaries({item.id: answer_values(item) for item in checklist.items()})


def all_parts(result: AuditScore) -> list[PartScore]:
    """The audit and every section, stage and role score as parts."""
    whole = PartScore(result.score, result.earned, result.possible)
    return [whole, *result.sections.values(), *result.stages.values(), *result.roles.values()]


@settings(max_examples=300)
@given(st.data())
def test_scores_stay_between_0_and_100(data: st.DataObject) -> None:
    checklist = data.draw(checklists())
    result = score_audit(checklist, data.draw(answer_sets(checklist)))
    for part in all_parts(result):
        assert part.score is None or 0.0 <= part.score <= 100.0
        assert 0.0 <= part.earned <= part.possible
        assert (part.score is None) == (part.possible == 0)
    for item_result in result.items.values():
        assert item_result.fraction is None or 0.0 <= item_result.fraction <= 1.0


@settings(max_examples=300)
@given(st.data())
def test_na_changes_nothing_but_removes_the_item(data: st.DataObject) -> None:
    checklist = data.draw(checklists())
    scored = [item for item in checklist.items() if item.scored]
    target = data.draw(st.sampled_from(scored)) if scored else None
    if target is None:
        return
    # Let the chosen item be N/A, whatever the generated checklist said.
    allowing = dataclasses.replace(target, na=True)
    with_na = replace_item(checklist, target.id, allowing)
    answers = data.draw(answer_sets(with_na))
    answered = dict(answers, **{target.id: data.draw(answer_values(allowing, allow_na=False))})
    na_answers = dict(answers, **{target.id: None})

    before = score_audit(with_na, answered)
    after = score_audit(with_na, na_answers)
    for item_id, result in before.items.items():
        if item_id != target.id:
            assert after.items[item_id] == result

    # N/A is exactly as if the item were not in the checklist.
    without = replace_item(checklist, target.id, None)
    del na_answers[target.id]
    removed = score_audit(without, na_answers)
    assert same(after.score, removed.score)
    assert after.critical_failed == removed.critical_failed
    for section_id, part in after.sections.items():
        assert same(part.score, removed.sections[section_id].score)


@settings(max_examples=300)
@given(st.data())
def test_a_better_answer_never_lowers_any_score(data: st.DataObject) -> None:
    checklist = data.draw(checklists())
    scored = [item for item in checklist.items() if item.scored]
    if not scored:
        return
    target = data.draw(st.sampled_from(scored))
    answers = data.draw(answer_sets(checklist))
    first = data.draw(answer_values(target, allow_na=False))
    second = data.draw(answer_values(target, allow_na=False))
    low, high = sorted([first, second], key=lambda value: item_fraction(target, value) or 0.0)

    worse = score_audit(checklist, dict(answers, **{target.id: low}))
    better = score_audit(checklist, dict(answers, **{target.id: high}))
    # Holds under every critical rule: fixing a failed critical item lifts the zero or cap.
    for worse_part, better_part in zip(all_parts(worse), all_parts(better), strict=True):
        if worse_part.score is not None:
            assert better_part.score is not None
            assert better_part.score >= worse_part.score


def replace_item(checklist: Checklist, item_id: str, new: Item | None) -> Checklist:
    """A copy of `checklist` with one item replaced (or removed when `new` is None)."""
    sections = []
    for section in checklist.sections:
        kept: list[Item] = []
        for item in section.items:
            if item.id != item_id:
                kept.append(item)
            elif new is not None:
                kept.append(new)
        sections.append(dataclasses.replace(section, items=tuple(kept)))
    return dataclasses.replace(checklist, sections=tuple(sections))


def same(left: float | None, right: float | None) -> bool:
    """Equal scores, allowing float noise."""
    if left is None or right is None:
        return left is right
    return math.isclose(left, right, rel_tol=1e-12, abs_tol=1e-12)
