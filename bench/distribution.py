"""Time the automatic distribution of a wave (a maximum flow) at network sizes.

Prints, per size, the median wall time of ``distribute`` over a few runs and how even the
result is (smallest and largest load). Pure Python; no database.

    .venv/bin/python bench/distribution.py
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from datetime import date

from auditapp.domain.distribution import distribute, slots_for

SIZES = [(30, 5, 2), (500, 25, 2), (5000, 200, 2)]  # branches, shoppers, visits per branch
RUNS = 3


def main() -> None:
    """Run every size and print one line each."""
    rng = random.Random(1)
    for branches, shoppers, visits in SIZES:
        branch_ids, shopper_ids = list(range(branches)), list(range(shoppers))
        slots = slots_for(branch_ids, date(2026, 1, 1), date(2026, 1, 31), visits, [], {})
        # Some shoppers are employed somewhere: about 1% of pairs are excluded.
        excluded = {(s, b) for s in shopper_ids for b in rng.sample(branch_ids, branches // 100)}
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            plan = distribute(slots, shopper_ids, excluded, {})
            times.append(time.perf_counter() - start)
        loads = Counter(p.shopper_id for p in plan.planned)
        print(
            f"{branches:>5} branches x {visits} visits, {shoppers:>3} shoppers: "
            f"median {statistics.median(times) * 1000:8.1f} ms, "
            f"load {min(loads.values())}-{max(loads.values())}, unfilled {len(plan.unfilled)}"
        )


if __name__ == "__main__":
    main()
