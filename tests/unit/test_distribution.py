"""The even distribution of visits among shoppers (pure)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from auditapp.domain.distribution import distribute, slots_for, visit_windows


def test_windows_split_the_period_evenly() -> None:
    assert visit_windows(date(2026, 12, 1), date(2026, 12, 31), 2) == [
        (date(2026, 12, 1), date(2026, 12, 15)),
        (date(2026, 12, 16), date(2026, 12, 31)),
    ]
    assert visit_windows(date(2026, 2, 1), date(2026, 2, 28), 4)[3] == (
        date(2026, 2, 22),
        date(2026, 2, 28),
    )
    # More visits than days: windows never end before they start.
    windows = visit_windows(date(2026, 1, 1), date(2026, 1, 2), 3)
    assert all(start <= end for start, end in windows)


def test_day_parts_rotate_across_branches_and_visits() -> None:
    slots = slots_for([10, 20], date(2026, 1, 1), date(2026, 1, 31), 2, ["morning", "evening"], {})
    assert [(s.branch_id, s.visit_number, s.day_part) for s in slots] == [
        (10, 1, "morning"),
        (10, 2, "evening"),
        (20, 1, "evening"),
        (20, 2, "morning"),
    ]


def test_existing_visits_are_not_planned_again() -> None:
    slots = slots_for([10, 20], date(2026, 1, 1), date(2026, 1, 31), 2, [], {10: 2, 20: 1})
    assert [(s.branch_id, s.visit_number) for s in slots] == [(20, 2)]


def test_constrained_branch_is_served_first() -> None:
    # Branch 2 can only be visited by shopper 1; a naive order would give shopper 1 branch 1.
    slots = slots_for([1, 2], date(2026, 1, 1), date(2026, 1, 31), 1, [], {})
    plan = distribute(slots, [1, 2], excluded={(2, 2)}, load={})
    assert plan.unfilled == ()
    assert {(p.shopper_id, p.slot.branch_id) for p in plan.planned} == {(1, 2), (2, 1)}


@given(
    branches=st.integers(min_value=1, max_value=12),
    shoppers=st.integers(min_value=1, max_value=8),
    visits=st.integers(min_value=1, max_value=4),
    excluded=st.sets(st.tuples(st.integers(0, 7), st.integers(0, 11)), max_size=10),
)
def test_distribution_rules_hold(
    branches: int, shoppers: int, visits: int, excluded: set[tuple[int, int]]
) -> None:
    branch_ids, shopper_ids = list(range(branches)), list(range(shoppers))
    slots = slots_for(branch_ids, date(2026, 1, 1), date(2026, 1, 31), visits, [], {})
    plan = distribute(slots, shopper_ids, excluded, {})
    pairs = [(p.shopper_id, p.slot.branch_id) for p in plan.planned]
    assert len(pairs) == len(set(pairs))  # never the same shopper twice at a branch
    assert not set(pairs) & excluded  # never an excluded pair (e.g. their own branch)
    assert len(plan.planned) + len(plan.unfilled) == len(slots)
    for slot in plan.unfilled:  # unfilled only when nobody eligible was left
        used = {s for s, b in pairs if b == slot.branch_id}
        assert all((s, slot.branch_id) in excluded or s in used for s in shopper_ids)
    if not excluded and visits <= shoppers:
        loads = Counter(s for s, _ in pairs)
        counts = [loads.get(s, 0) for s in shopper_ids]
        assert max(counts) - min(counts) <= 1  # even


def test_existing_load_counts_towards_evenness() -> None:
    # Shopper 2 already has 3 visits in the wave: the 3 new ones go to shopper 1.
    slots = slots_for([1, 2, 3], date(2026, 1, 1), date(2026, 1, 31), 1, [], {})
    plan = distribute(slots, [1, 2], excluded=set(), load={2: 3})
    assert Counter(p.shopper_id for p in plan.planned) == {1: 3}


def test_a_slot_is_filled_above_the_even_share_rather_than_left_empty() -> None:
    # Only shopper 1 may visit branches 1-3 (shopper 2 works there, say).
    slots = slots_for([1, 2, 3], date(2026, 1, 1), date(2026, 1, 31), 1, [], {})
    plan = distribute(slots, [1, 2], excluded={(2, 1), (2, 2), (2, 3)}, load={})
    assert plan.unfilled == ()
    assert Counter(p.shopper_id for p in plan.planned) == {1: 3}
