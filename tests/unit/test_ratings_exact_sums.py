"""The roll-up sums do not depend on the order audits are added in (`keeping.on_grid`): that is
what lets a release add one audit to kept sums and a rebuild sum the same cell in any order, in
Python or in the database, and still agree bit for bit."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from auditapp.services.ratings.keeping import POINT_STEPS, SCORE_STEPS, CellTotals, on_grid

CELL = (1, date(2026, 3, 1))


def test_on_grid_rounds_to_the_nearest_step() -> None:
    # 91.666...: 375466.67 steps of 1/4096 -> 375467 steps.
    assert on_grid(100 * 8.25 / 9, SCORE_STEPS) == 375467 / 4096 == 91.666748046875
    assert on_grid(87.5, SCORE_STEPS) == 87.5  # already on the grid
    assert on_grid(1 / 3, POINT_STEPS) == 349525 / 2**20  # 349525.33 steps
    assert on_grid(0.5 / 4096, SCORE_STEPS) == 1 / 4096  # a half step goes up


def _detail(score: float, points: tuple[float, float], item: float) -> dict[str, Any]:
    earned, possible = points
    return {
        "score": score,
        "earned": earned,
        "possible": possible,
        "stages": {"purchase": {"score": score, "earned": earned, "possible": possible}},
        "items": {"greeted": {"earned": item, "possible": 3.0, "na": False}},
    }


def _rows(audits: list[dict[str, Any]]) -> Any:
    totals = CellTotals()
    for detail in audits:
        totals.add("cafe", "visit", detail["score"], detail, {"greeted": "2.1"})
    return totals.rows(CELL)


scores = st.floats(min_value=0, max_value=100, allow_nan=False)
points = st.tuples(st.floats(0, 50, allow_nan=False), st.floats(0, 50, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(scores, points, st.floats(0, 3, allow_nan=False)), min_size=2))
def test_any_order_gives_the_same_bits(audits: list[tuple[float, Any, float]]) -> None:
    details = [_detail(*audit) for audit in audits]
    shuffled = list(details)
    random.Random(len(details)).shuffle(shuffled)
    assert _rows(details) == _rows(list(reversed(details))) == _rows(shuffled)


def test_plain_floats_would_depend_on_the_order() -> None:
    # Why the grid: the same three scores summed in two orders differ in the last bit.
    assert (0.1 + 0.2) + 0.3 != 0.1 + (0.2 + 0.3)
    on = [on_grid(x, SCORE_STEPS) for x in (0.1, 0.2, 0.3)]
    assert (on[0] + on[1]) + on[2] == on[0] + (on[1] + on[2])


def test_equal_scores_have_no_spread() -> None:
    parts, _ = _rows([_detail(100 * 2 / 3, (2.0, 3.0), 2.0)] * 7)
    audit = next(row for row in parts if row["part_kind"] == "audit")
    n, total, total_sq = audit["n"], audit["total"], audit["total_sq"]
    assert n == 7
    assert total_sq - total * total / n == 0.0  # the variance's numerator, exactly
