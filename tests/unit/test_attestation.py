"""Attestation arithmetic, computed by hand: rule sets, every component, re-normalisation,
not gradable, the formula, days per branch; and properties that hold for any data."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditapp.domain import attestation as a
from auditapp.domain.attestation import (
    AttributedItem,
    BranchRating,
    Evidence,
    Placement,
    RuleSetError,
    compute_sheet,
    parse_rule_set,
)


def rules(**overrides: Any) -> a.RuleSet:
    document: dict[str, Any] = {
        "weights": {"individual": 50, "collective": 30, "internal": 20},
        "min_external_share": 60,
        "min_audits": 3,
    }
    document.update(overrides)
    return parse_rule_set(document)


def items(*audits: tuple[int, float, float]) -> tuple[AttributedItem, ...]:
    return tuple(
        AttributedItem(audit, "greeted", earned, possible) for audit, earned, possible in audits
    )


# Rule sets ---------------------------------------------------------------------------------


def test_defaults_are_60_percent_external_and_3_audits() -> None:
    parsed = parse_rule_set({"weights": {"individual": 40, "collective": 30, "internal": 30}})
    assert parsed.min_external_share == 60
    assert parsed.min_audits == 3
    assert [g.code for g in parsed.grades] == ["exceeds", "meets", "below"]
    assert [g.min_points for g in parsed.grades] == [85, 70, 0]


def test_weights_must_sum_to_100() -> None:
    with pytest.raises(RuleSetError) as caught:
        parse_rule_set({"weights": {"individual": 50, "collective": 30, "internal": 30}})
    assert caught.value.fields == {"weights": ["weights must sum to 100 (they sum to 110)"]}


def test_external_share_below_minimum_is_refused() -> None:
    # 30 + 25 = 55 < 60.
    with pytest.raises(RuleSetError) as caught:
        parse_rule_set({"weights": {"individual": 30, "collective": 25, "internal": 45}})
    assert caught.value.fields == {
        "weights": ["individual + collective = 55, below the minimum external share 60"]
    }
    # A lower configured minimum lets the same weights through: 55 >= 55.
    assert (
        parse_rule_set(
            {
                "weights": {"individual": 30, "collective": 25, "internal": 45},
                "min_external_share": 55,
            }
        ).min_external_share
        == 55
    )


def test_every_field_error_is_named_at_once() -> None:
    with pytest.raises(RuleSetError) as caught:
        parse_rule_set(
            {
                "weights": {"individual": "lots", "collective": 120, "bonus": 5},
                "min_external_share": 40,
                "min_audits": 0,
                "grades": [{"code": "ok", "min_points": 50, "label_ru": ""}],
            }
        )
    fields = caught.value.fields
    assert set(fields) == {
        "weights.bonus",
        "weights.individual",
        "weights.collective",
        "min_external_share",
        "min_audits",
        "grades.0.label_ru",
    }


def test_grades_need_a_band_at_zero_and_distinct_codes() -> None:
    with pytest.raises(RuleSetError) as caught:
        rules(
            grades=[
                {"code": "good", "min_points": 80, "label_ru": "хорошо"},
                {"code": "good", "min_points": 10, "label_ru": "так себе"},
            ]
        )
    assert caught.value.fields == {"grades.1.code": ["'good' is used by another band"]}
    with pytest.raises(RuleSetError) as caught:
        rules(grades=[{"code": "good", "min_points": 80, "label_ru": "хорошо"}])
    assert caught.value.fields == {
        "grades": ["one band must start at 0 points, so every sheet gets a grade"]
    }


def test_rule_set_round_trips_through_its_json_form() -> None:
    parsed = rules(grades=[{"code": "ok", "min_points": 0, "label_ru": "да", "label_en": "yes"}])
    assert parse_rule_set(parsed.to_dict()) == parsed


# Components and points ---------------------------------------------------------------------


def test_all_three_components_by_hand() -> None:
    # Individual: audits 1, 2, 3 earn 8/10, 9/10, 7/10 = 24/30 = 80.
    # Collective: one branch all year, mean 90. Internal 70.
    # Points = (50 * 80 + 30 * 90 + 20 * 70) / 100 = (4000 + 2700 + 1400) / 100 = 81 -> meets.
    sheet = compute_sheet(
        rules(),
        Evidence(
            items=items((1, 8, 10), (2, 9, 10), (3, 7, 10)),
            days={7: 365},
            branch_ratings={7: BranchRating(90.0, 12)},
            internal=70.0,
        ),
    )
    assert sheet.status == "graded"
    assert sheet.points == 81.0
    assert sheet.grade is not None and sheet.grade.code == "meets"
    assert [(c.component, c.score, c.effective_weight) for c in sheet.components] == [
        ("individual", 80.0, 50.0),
        ("collective", 90.0, 30.0),
        ("internal", 70.0, 20.0),
    ]
    assert sheet.external_share == 80.0
    assert sheet.audit_ids == (1, 2, 3)
    assert sheet.formula_en == (
        "Points = (50 × individual result + 30 × collective result + 20 × internal score) / 100"
        " = (50 × 80 + 30 × 90 + 20 × 70) / 100 = 81 → “meets the standard”"
    )
    assert sheet.formula_ru.startswith("Баллы = (50 × индивидуальный результат")
    assert sheet.formula_ru.endswith("= 81 → «соответствует стандарту»")


def test_a_mover_gets_the_collective_score_weighted_by_days() -> None:
    # 2025: branch 1 from 1 Jan to 31 Mar (90 days), branch 2 from 1 Apr on (275 days).
    placements = [
        Placement(1, date(2024, 5, 1), date(2025, 3, 31)),
        Placement(2, date(2025, 4, 1), None),
    ]
    days = a.days_by_branch(placements, date(2025, 1, 1), date(2025, 12, 31))
    assert days == {1: 90, 2: 275}
    # Collective = (90 * 60 + 275 * 80) / 365 = (5400 + 22000) / 365 = 75.0685 -> 75.07.
    sheet = compute_sheet(
        rules(weights={"individual": 0, "collective": 100, "internal": 0}),
        Evidence(days=days, branch_ratings={1: BranchRating(60.0, 4), 2: BranchRating(80.0, 5)}),
    )
    collective = sheet.components[1]
    assert collective.score == 75.07
    assert collective.branches == ((1, 90, 60.0), (2, 275, 80.0))
    assert collective.audits == 9
    assert sheet.points == 75.07


def test_a_branch_without_audits_drops_out_of_the_day_weighting() -> None:
    # Branch 2 has no rating: only branch 1's days count, so the collective score is 60.
    sheet = compute_sheet(
        rules(weights={"individual": 0, "collective": 100, "internal": 0}),
        Evidence(days={1: 90, 2: 275}, branch_ratings={1: BranchRating(60.0, 4)}),
    )
    assert sheet.components[1].score == 60.0
    assert sheet.components[1].branches == ((1, 90, 60.0), (2, 275, None))


def test_insufficient_evidence_renormalises_the_other_weights() -> None:
    # Two audits < 3: individual left out. Collective 30, internal 20 remain: 50 in all,
    # external share 30/50 = 60% >= 60. Points = (30 * 90 + 20 * 70) / 50 = 4100 / 50 = 82.
    sheet = compute_sheet(
        rules(),
        Evidence(
            items=items((1, 10, 10), (2, 10, 10)),
            days={7: 365},
            branch_ratings={7: BranchRating(90.0, 12)},
            internal=70.0,
        ),
    )
    individual = sheet.components[0]
    assert individual.status == "insufficient_evidence"
    assert individual.score is None and individual.audits == 2
    assert sheet.status == "graded"
    assert sheet.points == 82.0
    assert [c.effective_weight for c in sheet.components] == [0.0, 60.0, 40.0]
    assert sheet.external_share == 60.0
    assert not sheet.sufficient_evidence
    assert "(30 × 90 + 20 × 70) / 50 = 82" in sheet.formula_en
    assert "re-normalised over 50" in sheet.formula_en
    assert "веса пересчитаны на сумму 50" in sheet.formula_ru


def test_not_gradable_when_too_little_external_evidence_remains() -> None:
    # Individual 40 (insufficient), collective 25, internal 35: 25/60 = 41.67% < 60%.
    sheet = compute_sheet(
        rules(weights={"individual": 40, "collective": 25, "internal": 35}),
        Evidence(days={7: 365}, branch_ratings={7: BranchRating(90.0, 12)}, internal=100.0),
    )
    assert sheet.status == "not_gradable"
    assert sheet.points is None and sheet.grade is None
    assert sheet.external_share == 41.67
    assert sheet.formula_en == (
        "Not gradable this period: the external objective share 41.67% is below the minimum 60%."
    )
    assert all(c.effective_weight == 0 for c in sheet.components)


def test_never_graded_on_the_internal_score_alone() -> None:
    sheet = compute_sheet(rules(), Evidence(internal=100.0))
    assert sheet.status == "not_gradable"
    assert sheet.external_share == 0.0
    assert "never graded on the internal score alone" in sheet.formula_en
    assert "по одной внутренней оценке" in sheet.formula_ru


def test_no_internal_score_leaves_the_internal_component_out() -> None:
    # (50 * 80 + 30 * 90) / 80 = 6700 / 80 = 83.75 -> meets (below 85).
    sheet = compute_sheet(
        rules(),
        Evidence(
            items=items((1, 8, 10), (2, 8, 10), (3, 8, 10)),
            days={7: 365},
            branch_ratings={7: BranchRating(90.0, 12)},
        ),
    )
    assert sheet.components[2].status == "not_entered"
    assert sheet.points == 83.75
    assert sheet.grade is not None and sheet.grade.code == "meets"


def test_the_internal_component_counts_with_its_weight() -> None:
    # Same as above with internal 100: (4000 + 2700 + 2000) / 100 = 87 -> exceeds.
    sheet = compute_sheet(
        rules(),
        Evidence(
            items=items((1, 8, 10), (2, 8, 10), (3, 8, 10)),
            days={7: 365},
            branch_ratings={7: BranchRating(90.0, 12)},
            internal=100.0,
        ),
    )
    assert sheet.points == 87.0
    assert sheet.grade is not None and sheet.grade.code == "exceeds"


def test_not_applicable_items_count_in_no_audit() -> None:
    # Audit 3's only item was N/A (0 of 0): two audits with evidence < 3.
    sheet = compute_sheet(rules(), Evidence(items=items((1, 1, 1), (2, 1, 1), (3, 0, 0))))
    assert sheet.components[0].status == "insufficient_evidence"
    assert sheet.components[0].audits == 2
    assert sheet.audit_ids == (1, 2)


def test_grade_thresholds_are_inclusive() -> None:
    only_individual = rules(
        weights={"individual": 100, "collective": 0, "internal": 0}, min_audits=1
    )
    for earned, code in ((85, "exceeds"), (84.99, "meets"), (70, "meets"), (69.99, "below")):
        sheet = compute_sheet(only_individual, Evidence(items=items((1, earned, 100))))
        assert sheet.grade is not None and sheet.grade.code == code, earned
    assert (
        compute_sheet(only_individual, Evidence(items=items((1, 85, 100)))).components[1].status
        == "unused"
    )


def test_internal_score_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        compute_sheet(rules(), Evidence(internal=101.0))


def test_days_are_clipped_to_the_period_and_inclusive() -> None:
    placements = [
        Placement(1, date(2024, 12, 1), date(2025, 1, 1)),  # 1 day in 2025
        Placement(2, date(2025, 12, 31), None),  # 1 day
        Placement(3, date(2026, 1, 1), None),  # after the period
        Placement(4, date(2024, 1, 1), date(2024, 12, 31)),  # before
    ]
    assert a.days_by_branch(placements, date(2025, 1, 1), date(2025, 12, 31)) == {1: 1, 2: 1}


def test_round2_rounds_halves_up() -> None:
    assert a.round2(87.125) == 87.13
    assert a.round2(75.06849) == 75.07
    assert a.calendar_year(2025) == (date(2025, 1, 1), date(2025, 12, 31))


def test_improvement_needs_both_periods() -> None:
    assert a.improvement(80.0, 72.5) == 7.5
    assert a.improvement(80.0, None) is None


# Properties --------------------------------------------------------------------------------

weights = st.integers(0, 100).flatmap(
    lambda i: st.integers(0, 100 - i).map(lambda c: (i, c, 100 - i - c))
)
item_lists = st.lists(
    st.tuples(st.integers(1, 8), st.integers(0, 10), st.integers(0, 10)).map(
        lambda t: AttributedItem(t[0], "x", float(min(t[1], t[2])), float(t[2]))
    ),
    max_size=20,
)
ratings = st.dictionaries(
    st.integers(1, 5),
    st.builds(BranchRating, st.floats(0, 100, allow_nan=False), st.integers(1, 30)),
    max_size=5,
)
days = st.dictionaries(st.integers(1, 5), st.integers(0, 366), max_size=5)
internal = st.none() | st.floats(0, 100, allow_nan=False)


@settings(deadline=None, max_examples=200)
@given(weights, item_lists, days, ratings, internal, st.integers(1, 5))
def test_sheet_properties(
    w: tuple[int, int, int],
    attributed: list[AttributedItem],
    worked: dict[int, int],
    rated: dict[int, BranchRating],
    score: float | None,
    min_audits: int,
) -> None:
    """Points lie in 0..100; graded sheets have at least the minimum external share; the
    effective weights of a graded sheet sum to 100 (to rounding); the same data in another
    order give the same sheet."""
    if w[0] + w[1] < 60:
        with pytest.raises(RuleSetError):
            parse_rule_set({"weights": dict(zip(a.COMPONENTS, w, strict=True))})
        return
    rule = parse_rule_set(
        {"weights": dict(zip(a.COMPONENTS, w, strict=True)), "min_audits": min_audits}
    )
    evidence = Evidence(tuple(attributed), worked, rated, score)
    sheet = compute_sheet(rule, evidence)
    shuffled = list(attributed)
    random.Random(len(attributed)).shuffle(shuffled)
    again = compute_sheet(
        rule,
        Evidence(
            tuple(shuffled),
            dict(reversed(list(worked.items()))),
            dict(reversed(list(rated.items()))),
            score,
        ),
    )
    assert again == sheet
    if sheet.status == "graded":
        assert sheet.points is not None and 0 <= sheet.points <= 100
        assert sheet.external_share is not None and sheet.external_share >= 60
        assert abs(sum(c.effective_weight for c in sheet.components) - 100) <= 0.02
        counted = {c.component for c in sheet.components if c.status == "counted"}
        assert counted & a.EXTERNAL
        assert sheet.grade == rule.grade_of(sheet.points)
    else:
        assert sheet.points is None and sheet.grade is None
    individual = sheet.components[0]
    if individual.status == "counted":
        assert individual.audits >= min_audits


@settings(deadline=None)
@given(st.floats(0, 100, allow_nan=False), st.floats(0, 100, allow_nan=False))
def test_points_lie_between_the_component_scores(first: float, second: float) -> None:
    """A weighted mean never leaves the range of what it averages."""
    rule = rules(weights={"individual": 0, "collective": 60, "internal": 40})
    sheet = compute_sheet(
        rule, Evidence(days={1: 10}, branch_ratings={1: BranchRating(first, 3)}, internal=second)
    )
    assert sheet.points is not None
    low, high = sorted((a.round2(first), a.round2(second)))
    assert low - 0.01 <= sheet.points <= high + 0.01
