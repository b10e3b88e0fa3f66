"""Even automatic distribution of a wave's visits among shoppers.

Rules: a shopper never goes to the same branch twice in a wave, never to a branch where they
are employed, and the load is spread as evenly as the rules allow. Visit windows split the
wave's period into equal parts and rotate through the wave's day parts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Slot:
    """One visit to plan: a branch, its number within the wave, its window and day part."""

    branch_id: int
    visit_number: int
    window_start: date
    window_end: date
    day_part: str | None


@dataclass(frozen=True)
class Planned:
    """A slot given to a shopper."""

    slot: Slot
    shopper_id: int


@dataclass(frozen=True)
class Plan:
    """The assignments to create, and the slots no eligible shopper could take."""

    planned: tuple[Planned, ...]
    unfilled: tuple[Slot, ...]


def visit_windows(starts_on: date, ends_on: date, visits: int) -> list[tuple[date, date]]:
    """Split [starts_on, ends_on] into ``visits`` consecutive windows of near-equal length."""
    days = (ends_on - starts_on).days + 1
    windows = []
    for number in range(visits):
        first = starts_on + timedelta(days=(number * days) // visits)
        last = starts_on + timedelta(days=((number + 1) * days) // visits - 1)
        windows.append((first, max(first, last)))
    return windows


def slots_for(
    branch_ids: Sequence[int],
    starts_on: date,
    ends_on: date,
    visits_per_branch: int,
    day_parts: Sequence[str],
    already: Mapping[int, int],
) -> list[Slot]:
    """The slots still to fill: ``already`` says how many visits each branch has."""
    windows = visit_windows(starts_on, ends_on, visits_per_branch)
    slots = []
    for index, branch_id in enumerate(branch_ids):
        for number in range(already.get(branch_id, 0), visits_per_branch):
            first, last = windows[number]
            part = day_parts[(index + number) % len(day_parts)] if day_parts else None
            slots.append(Slot(branch_id, number + 1, first, last, part))
    return slots


def distribute(
    slots: Sequence[Slot],
    shopper_ids: Sequence[int],
    excluded: Set[tuple[int, int]],
    load: Mapping[int, int],
) -> Plan:
    """Give each slot to the eligible shopper with the least load (ties: fewest options first).

    ``excluded`` holds (shopper_id, branch_id) pairs that must not happen (already visiting
    that branch in this wave, or employed there); ``load`` is each shopper's current count.
    Slots of the most constrained branches are filled first, so that rare eligible shoppers
    are not used up elsewhere.
    """
    counts = {shopper: load.get(shopper, 0) for shopper in shopper_ids}
    taken = set(excluded)

    def eligible(slot: Slot) -> list[int]:
        return [s for s in shopper_ids if (s, slot.branch_id) not in taken]

    order = sorted(slots, key=lambda s: (len(eligible(s)), s.window_start, s.branch_id))
    planned: list[Planned] = []
    unfilled: list[Slot] = []
    for slot in order:
        candidates = eligible(slot)
        if not candidates:
            unfilled.append(slot)
            continue
        shopper = min(candidates, key=lambda s: (counts[s], s))
        counts[shopper] += 1
        taken.add((shopper, slot.branch_id))
        planned.append(Planned(slot, shopper))
    return Plan(tuple(planned), tuple(unfilled))
