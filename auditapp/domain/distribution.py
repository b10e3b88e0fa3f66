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
    """Give the slots to shoppers as evenly as the rules allow, filling every slot that can be.

    ``excluded`` holds (shopper_id, branch_id) pairs that must not happen (already visiting
    that branch in this wave, or employed there); ``load`` is each shopper's current count in
    the wave. A greedy choice can paint itself into a corner (the least-loaded shopper has
    already been to the last branch), so this is a maximum flow
    source -> shopper -> branch -> sink, where a shopper may visit a branch once, a branch
    needs its open slots, and a shopper's capacity is raised in steps: first up to the floor
    of the even share, then to its ceiling, then without limit. Augmenting never takes a visit
    away from a shopper, so everyone reaches the floor where the rules allow it, nobody goes
    past the ceiling unless that is the only way to fill a slot, and no slot stays unfilled
    while some eligible shopper could take it.
    """
    if not slots or not shopper_ids:
        return Plan((), tuple(slots))
    need: dict[int, int] = {}
    for slot in slots:
        need[slot.branch_id] = need.get(slot.branch_id, 0) + 1
    branch_ids = sorted(need)
    shoppers = list(shopper_ids)
    total = len(slots) + sum(load.get(s, 0) for s in shoppers)
    floor_share, ceil_share = total // len(shoppers), -(-total // len(shoppers))

    flow = _FlowNetwork(2 + len(shoppers) + len(branch_ids))
    source, sink = 0, 1
    shopper_node = {s: 2 + i for i, s in enumerate(shoppers)}
    branch_node = {b: 2 + len(shoppers) + i for i, b in enumerate(branch_ids)}
    supply = {s: flow.add_edge(source, shopper_node[s], 0) for s in shoppers}
    visits: dict[tuple[int, int], int] = {}
    for s in shoppers:
        for b in branch_ids:
            if (s, b) not in excluded:
                visits[(s, b)] = flow.add_edge(shopper_node[s], branch_node[b], 1)
    for b in branch_ids:
        flow.add_edge(branch_node[b], sink, need[b])
    for share in (floor_share, ceil_share, len(slots) + max(load.values(), default=0)):
        for s in shoppers:
            flow.raise_capacity(supply[s], max(0, share - load.get(s, 0)))
        flow.max_flow(source, sink)

    chosen: dict[int, list[int]] = {b: [] for b in branch_ids}
    for (s, b), edge in visits.items():
        if flow.flow_on(edge):
            chosen[b].append(s)
    planned: list[Planned] = []
    unfilled: list[Slot] = []
    for slot in sorted(slots, key=lambda s: (s.branch_id, s.visit_number)):
        takers = chosen[slot.branch_id]
        if takers:
            planned.append(Planned(slot, takers.pop(0)))
        else:
            unfilled.append(slot)
    return Plan(tuple(planned), tuple(unfilled))


class _FlowNetwork:
    """Dinic's maximum flow on integer capacities; edges are kept in flat lists."""

    def __init__(self, nodes: int) -> None:
        self.adjacent: list[list[int]] = [[] for _ in range(nodes)]
        self.head: list[int] = []
        self.capacity: list[int] = []
        self.original: list[int] = []

    def add_edge(self, tail: int, head: int, capacity: int) -> int:
        """Add an edge (and its residual twin); returns the edge's index."""
        index = len(self.head)
        self.head += [head, tail]
        self.capacity += [capacity, 0]
        self.original += [capacity, 0]
        self.adjacent[tail].append(index)
        self.adjacent[head].append(index + 1)
        return index

    def raise_capacity(self, edge: int, capacity: int) -> None:
        """Raise an edge's capacity to ``capacity`` (never lowers it)."""
        if capacity > self.original[edge]:
            self.capacity[edge] += capacity - self.original[edge]
            self.original[edge] = capacity

    def flow_on(self, edge: int) -> int:
        """The flow an edge carries."""
        return self.original[edge] - self.capacity[edge]

    def max_flow(self, source: int, sink: int) -> int:
        """Augment until no path is left; returns the flow added."""
        added = 0
        while True:
            level = self._levels(source, sink)
            if level is None:
                return added
            cursor = [0] * len(self.adjacent)
            while pushed := self._push(source, sink, 1 << 60, level, cursor):
                added += pushed

    def _levels(self, source: int, sink: int) -> list[int] | None:
        level = [-1] * len(self.adjacent)
        level[source] = 0
        queue = [source]
        for node in queue:
            for edge in self.adjacent[node]:
                if self.capacity[edge] > 0 and level[self.head[edge]] < 0:
                    level[self.head[edge]] = level[node] + 1
                    queue.append(self.head[edge])
        return level if level[sink] >= 0 else None

    def _push(self, node: int, sink: int, limit: int, level: list[int], cursor: list[int]) -> int:
        # Iterative depth-first search along the level graph (no recursion limit to hit).
        path: list[int] = []
        while True:
            if node == sink:
                pushed = min([limit] + [self.capacity[e] for e in path])
                for edge in path:
                    self.capacity[edge] -= pushed
                    self.capacity[edge ^ 1] += pushed
                return pushed
            edges = self.adjacent[node]
            while cursor[node] < len(edges):
                edge = edges[cursor[node]]
                nxt = self.head[edge]
                if self.capacity[edge] > 0 and level[nxt] == level[node] + 1:
                    break
                cursor[node] += 1
            else:
                if not path:
                    return 0
                level[node] = -1  # dead end: never try it again in this phase
                edge = path.pop()
                node = self.head[edge ^ 1]
                cursor[node] += 1
                continue
            path.append(edges[cursor[node]])
            node = self.head[edges[cursor[node]]]
