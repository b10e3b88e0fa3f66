"""Benchmark the ratings at network scale: 5,000 branches, 50 regions, 1,000,000 released audits
over 24 months (``--scale 0.1`` for a tenth), generated deterministically from ``--seed``.

Steps, each timed and printed:

1. Bulk load (not through the API: a million submissions would take hours): regions, branches
   in four time zones, shoppers, one wave per month, one assignment and one *released* audit per
   visit with its answers and its server-side score (`score_audit` on the example checklist;
   each branch has its own quality level and drift, so there are weak and declining branches).
2. ``ratings rebuild`` (`auditapp.services.ratings.rebuild`): the roll-ups from the audits. The
   test ``tests/integration/test_ratings_bench.py`` proves this bulk path gives the same roll-ups
   as releasing the same visits one by one through the services.
3. One release with its roll-up update, against the same release with the roll-up hook
   switched off (the release cost before ratings), through the service and through HTTP
   (``POST /api/v1/audits/{id}/release`` by the test client, as the issue's targets are
   measured), the four alternately, median of N each.
4. Each rating endpoint through the Flask test client (HTTP semantics, no socket), median and p95
   with the network-wide readings kept since the last change (`auditapp.services.ratings.memo`),
   and the median of the first reading after a change (nothing kept),
   for the last complete quarter of the data, beside two floors computed in the same run on the
   same data: numpy over arrays of the per-audit scores (loaded once, not timed) and one plain
   SQL GROUP BY over the audit rows.

Run from the repository root::

    .venv/bin/python bench/ratings.py --scale 0.05          # SQLite temp file
    .venv/bin/python bench/ratings.py --scale 0.05 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

``--keep FILE|SCHEMA --only rebuild`` (or ``release``) times only step 2 (or 3) on loaded data,
printing the load average before and after (a rebuild and a release write: use a copy of shared
data).

Nothing is asserted about time; figures are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from auditapp import create_app  # noqa: E402 - after making the package importable
from auditapp.domain import ratings as arith  # noqa: E402
from auditapp.extensions import db  # noqa: E402
from bench.api import fresh_database  # noqa: E402
from tests.support import (  # noqa: E402
    PASSWORD,
    RATING_CHECKLIST,
    ApiClient,
    IsolatedClient,
    _postgres_url,  # noqa: E402
    app_config,
    make_user,
)

TIMEZONES = ("Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Asia/Vladivostok")
KINDS = ("store", "restaurant", "hotel")
FULL_BRANCHES, FULL_REGIONS, FULL_AUDITS, MONTHS = 5000, 50, 1_000_000, 24
FIRST_MONTH = date(2024, 12, 1)  # 24 months: December 2024 .. November 2026


@dataclass(frozen=True)
class BranchSpec:
    """A generated branch: where it is, how good it is, and whether it fades."""

    code: str
    region: int
    kind: str
    timezone: str
    quality: float  # probability-like level in [0.3, 0.97]
    drift: float  # per month; negative for declining branches


@dataclass(frozen=True)
class Visit:
    """A generated visit: which branch, when (UTC), what the shopper answered."""

    branch: int
    at: datetime
    answers: dict[str, Any]


@dataclass(frozen=True)
class Dataset:
    """Everything the bench loads, generated from a seed."""

    regions: int
    branches: list[BranchSpec]
    visits: list[Visit]


def generate(branches: int, regions: int, audits: int, months: int, seed: int) -> Dataset:
    """A deterministic network and its visits spread evenly over ``months`` months."""
    rng = random.Random(seed)
    specs = []
    for index in range(branches):
        declining = rng.random() < 0.05
        specs.append(
            BranchSpec(
                code=f"B{index:05d}",
                region=index % regions,
                kind=KINDS[index % len(KINDS)],
                timezone=TIMEZONES[index % len(TIMEZONES)],
                quality=min(0.97, max(0.3, rng.gauss(0.8, 0.1))),
                drift=-0.02 if declining else rng.uniform(-0.002, 0.002),
            )
        )
    visits = []
    first = FIRST_MONTH if months == MONTHS else arith.add_months(FIRST_MONTH, MONTHS - months)
    for index in range(audits):
        branch = index % branches
        month = arith.add_months(first, (index // branches) % months)
        day = rng.randrange(28)
        at = datetime(month.year, month.month, 1, tzinfo=UTC) + timedelta(
            days=day, minutes=rng.randrange(24 * 60)
        )
        spec = specs[branch]
        age = (month.year - first.year) * 12 + month.month - first.month
        q = min(0.99, max(0.05, spec.quality + spec.drift * age))
        visits.append(Visit(branch, at, _answers(rng, q)))
    return Dataset(regions, specs, visits)


def _answers(rng: random.Random, q: float) -> dict[str, Any]:
    return {
        "greeted": rng.random() < q,
        "queue_wait": rng.choice([30, 30, 90, 400]) if rng.random() > q else 20,
        "receipt": rng.random() < min(0.995, q + 0.15),
        "drink_quality": max(1, min(5, round(1 + 4 * q + rng.gauss(0, 0.7)))),
        "dessert_offer": rng.choice(["matched", "generic", "none", None])
        if rng.random() > q
        else "matched",
        "table_clean": None if rng.random() < 0.2 else rng.random() < q,
        "comment": "",
    }


# Loading -----------------------------------------------------------------------------------


def load_network(dataset: Dataset) -> tuple[int, list[int], list[int], int]:
    """Regions, branches (through the services' tables in bulk), the checklist and shoppers.
    Returns (version id, region ids, branch ids, admin id)."""
    from auditapp.models import Branch, Region
    from auditapp.services import checklists

    now = datetime.now(UTC)
    db.session.execute(
        sa.insert(Region),
        [
            {"code": f"R{i:02d}", "name": f"Регион {i + 1}", "created_at": now}
            for i in range(dataset.regions)
        ],
    )
    region_ids = list(db.session.execute(sa.select(Region.id).order_by(Region.code)).scalars())
    db.session.execute(
        sa.insert(Branch),
        [
            {
                "region_id": region_ids[spec.region],
                "code": spec.code,
                "name": f"Филиал {spec.code}",
                "kind": spec.kind,
                "city": "Город",
                "address": "",
                "timezone": spec.timezone,
                "active": True,
                "created_at": now,
            }
            for spec in dataset.branches
        ],
    )
    db.session.commit()
    branch_ids = list(db.session.execute(sa.select(Branch.id).order_by(Branch.code)).scalars())
    version = checklists.import_checklist(RATING_CHECKLIST, "ratings.yaml")
    admin = make_user("admin", "admin")
    return version.id, region_ids, branch_ids, admin


def load_audits(
    dataset: Dataset, version_id: int, branch_ids: list[int], chunk: int = 5000
) -> None:
    """Waves, assignments and released audits in bulk, scored by the domain's scoring engine.

    A shopper visits a branch at most once a wave (the database says so): the n-th visit of a
    branch in a month goes to the n-th shopper.
    """
    from auditapp.domain.scoring import score_audit
    from auditapp.models import Assignment, Audit, ChecklistVersion, Wave
    from auditapp.services.checklists import checklist_of

    version = db.session.get(ChecklistVersion, version_id)
    assert version is not None
    checklist = checklist_of(version)
    months = sorted({arith.month_start(v.at.date()) for v in dataset.visits})
    waves = {}
    for month in months:
        wave = Wave(
            name=f"Волна {month:%Y-%m}",
            checklist_version_id=version_id,
            starts_on=month - timedelta(days=1),
            ends_on=arith.add_months(month, 1),
            visits_per_branch=1,
            day_parts=[],
        )
        db.session.add(wave)
        db.session.flush()
        waves[month] = wave.id
    per_cell: dict[tuple[int, date], int] = {}
    for visit in dataset.visits:
        key = (visit.branch, arith.month_start(visit.at.date()))
        per_cell[key] = per_cell.get(key, 0) + 1
    needed = max(per_cell.values(), default=1)
    shoppers = [make_user(f"shopper{i}", "shopper") for i in range(needed)]
    db.session.commit()
    scores: dict[str, Any] = {}
    used: dict[tuple[int, date], int] = {}
    next_assignment = (db.session.execute(sa.select(sa.func.max(Assignment.id))).scalar() or 0) + 1
    for start in range(0, len(dataset.visits), chunk):
        assignments, audits = [], []
        for visit in dataset.visits[start : start + chunk]:
            month = arith.month_start(visit.at.date())
            key = (visit.branch, month)
            slot = used.get(key, 0)
            used[key] = slot + 1
            canonical = json.dumps(visit.answers, sort_keys=True)
            if canonical not in scores:
                scores[canonical] = score_audit(checklist, visit.answers).to_dict()
            detail = scores[canonical]
            released = visit.at + timedelta(days=3)
            assignments.append(
                {
                    "id": next_assignment,
                    "wave_id": waves[month],
                    "branch_id": branch_ids[visit.branch],
                    "shopper_id": shoppers[slot],
                    "window_start": month - timedelta(days=1),
                    "window_end": arith.add_months(month, 1),
                    "due_at": visit.at + timedelta(days=30),
                    "created_at": visit.at - timedelta(days=2),
                }
            )
            audits.append(
                {
                    "client_uuid": uuid.UUID(int=next_assignment),
                    "assignment_id": next_assignment,
                    "checklist_version_id": version_id,
                    "branch_id": branch_ids[visit.branch],
                    "shopper_id": shoppers[slot],
                    "status": "released",
                    "answers": visit.answers,
                    "comment": "",
                    "channel": version.channel,
                    "visit_started_at": visit.at,
                    "visit_ended_at": visit.at + timedelta(minutes=20),
                    "created_at": visit.at,
                    "first_submitted_at": visit.at + timedelta(hours=1),
                    "submitted_at": visit.at + timedelta(hours=1),
                    "reviewed_at": released,
                    "review_comment": "",
                    "released_at": released,
                    "score": detail["score"],
                    "earned": detail["earned"],
                    "possible": detail["possible"],
                    "score_detail": detail,
                    "version": 1,
                }
            )
            next_assignment += 1
        db.session.execute(sa.insert(Assignment), assignments)
        db.session.execute(sa.insert(Audit), audits)
        db.session.commit()


@contextmanager
def bench_database(base: str | None, keep: str | None, tmp: Path) -> Iterator[tuple[str, str]]:
    """(url, description): a throw-away database, or with ``keep`` one kept between runs (a
    SQLite file at that path, or a PostgreSQL schema of that name), so the timings can be re-run
    without loading the data again."""
    if not keep:
        with fresh_database(base, tmp) as found:
            yield found
        return
    if not base:
        yield f"sqlite:///{Path(keep).resolve()}", f"SQLite {sqlite3.sqlite_version} (kept: {keep})"
        return
    engine = sa.create_engine(_postgres_url(base, "public"))
    with engine.begin() as conn:
        version = conn.execute(sa.text("SHOW server_version")).scalar_one()
        # "mine,shared": create and write only the first; the others are read through the
        # search path (see --readings-only).
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{keep.split(",")[0]}"'))
    engine.dispose()
    yield _postgres_url(base, keep), f"PostgreSQL {version} (schema {keep}, kept)"


def loaded() -> bool:
    """Whether the bench's audits are already in the database (a kept one)."""
    from auditapp.models import Audit

    return db.session.execute(sa.select(sa.func.count()).select_from(Audit)).scalar_one() > 0


def rebuilt() -> bool:
    """Whether the roll-ups were built (a rebuild interrupted leaves them empty)."""
    from auditapp.models import RatingAudit

    return db.session.execute(sa.select(sa.func.count()).select_from(RatingAudit)).scalar_one() > 0


def timed_rebuild() -> None:
    """Step 2: ``ratings rebuild``, timed."""
    from auditapp.services import ratings as rating_service

    started = time.perf_counter()
    made = rating_service.rebuild()
    print(
        f"2. ratings rebuild: {time.perf_counter() - started:.1f} s "
        f"({made['audits']} audits, {made['cells']} branch-months)",
        flush=True,
    )


# Timing ------------------------------------------------------------------------------------


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(median, p95) in milliseconds over ``repeat`` calls, after one warm-up call."""
    call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return _summary(samples)


def timed_cold(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(median, p95) in milliseconds of ``call`` as the first reading after a change of the
    ratings: every reading kept in memory is dropped before each call."""
    from auditapp.services.ratings import memo

    samples = []
    for _ in range(repeat):
        memo.forget()
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return _summary(samples)


def _summary(samples: list[float]) -> tuple[float, float]:
    """(median, p95) of milliseconds."""
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return statistics.median(samples), p95


class Floors:
    """The same aggregations by numpy over per-audit arrays and by SQL over the audit rows."""

    def __init__(self, quarter: arith.Period, last_month: date) -> None:
        import numpy as np

        self.np = np
        from auditapp.models import Branch, RatingAudit

        rows = db.session.execute(
            sa.select(RatingAudit.branch_id, RatingAudit.month, RatingAudit.score).where(
                RatingAudit.score.is_not(None)
            )
        ).all()
        self.branch = np.array([r[0] for r in rows], dtype=np.int64)
        self.month = np.array(
            [(r[1].year - FIRST_MONTH.year) * 12 + r[1].month - FIRST_MONTH.month for r in rows],
            dtype=np.int64,
        )
        self.score = np.array([r[2] for r in rows], dtype=np.float64)
        regions = dict(db.session.execute(sa.select(Branch.id, Branch.region_id)).all())
        self.size = max(regions) + 1
        self.region_of = np.zeros(self.size, dtype=np.int64)
        for branch_id, region_id in regions.items():
            self.region_of[branch_id] = region_id
        index = lambda m: (m.year - FIRST_MONTH.year) * 12 + m.month - FIRST_MONTH.month  # noqa: E731
        self.q_first, self.q_last = index(quarter.first), index(quarter.last)
        self.last = index(last_month)
        self.quarter = quarter
        self.series_first = arith.add_months(last_month, -23)

    def np_stats(self) -> Any:
        """n, mean, sd per branch over the quarter."""
        np = self.np
        mask = (self.month >= self.q_first) & (self.month <= self.q_last)
        b, s = self.branch[mask], self.score[mask]
        n = np.bincount(b, minlength=self.size)
        total = np.bincount(b, weights=s, minlength=self.size)
        sq = np.bincount(b, weights=s * s, minlength=self.size)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / n
            sd = np.sqrt((sq - total * mean) / (n - 1))
        return n, mean, sd

    def np_rank(self) -> Any:
        """Rank of branches in the network and within each region, by mean."""
        np = self.np
        n, mean, _ = self.np_stats()
        rated = np.nonzero(n)[0]
        order = rated[np.argsort(-mean[rated], kind="stable")]
        network_rank = np.empty(self.size, dtype=np.int64)
        network_rank[order] = np.arange(1, len(order) + 1)
        regions = self.region_of[order]
        by_region = order[np.argsort(regions, kind="stable")]
        return network_rank, by_region

    def np_series(self) -> Any:
        """24-month mean per branch."""
        np = self.np
        first = self.last - 23
        mask = (self.month >= first) & (self.month <= self.last)
        key = self.branch[mask] * 24 + (self.month[mask] - first)
        n = np.bincount(key, minlength=self.size * 24)
        total = np.bincount(key, weights=self.score[mask], minlength=self.size * 24)
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / n

    def _bounds(self) -> tuple[datetime, datetime]:
        start = datetime(self.quarter.first.year, self.quarter.first.month, 1, tzinfo=UTC)
        end = arith.add_months(self.quarter.last, 1)
        return start, datetime(end.year, end.month, 1, tzinfo=UTC)

    def sql_stats(self) -> Any:
        """Plain GROUP BY over the released audit rows of the quarter (by UTC visit time)."""
        from auditapp.models import Audit

        start, end = self._bounds()
        return db.session.execute(
            sa.select(
                Audit.branch_id,
                sa.func.count(Audit.score),
                sa.func.avg(Audit.score),
                sa.func.sum(Audit.score * Audit.score),
            )
            .where(
                Audit.status == "released",
                Audit.visit_started_at >= start,
                Audit.visit_started_at < end,
            )
            .group_by(Audit.branch_id)
        ).all()

    def sql_rank(self) -> Any:
        """The same GROUP BY with rank() in the network and within each region."""
        from auditapp.models import Audit, Branch

        start, end = self._bounds()
        per_branch = (
            sa.select(
                Audit.branch_id.label("branch_id"),
                sa.func.avg(Audit.score).label("mean"),
            )
            .where(
                Audit.status == "released",
                Audit.visit_started_at >= start,
                Audit.visit_started_at < end,
            )
            .group_by(Audit.branch_id)
            .subquery()
        )
        return db.session.execute(
            sa.select(
                per_branch.c.branch_id,
                sa.func.rank().over(order_by=per_branch.c.mean.desc()),
                sa.func.rank().over(
                    partition_by=Branch.region_id, order_by=per_branch.c.mean.desc()
                ),
            ).join(Branch, Branch.id == per_branch.c.branch_id)
        ).all()

    def sql_series(self) -> Any:
        """24-month mean per branch by GROUP BY over the audit rows."""
        from auditapp.models import Audit

        first = self.series_first
        start = datetime(first.year, first.month, 1, tzinfo=UTC)
        if db.engine.dialect.name == "postgresql":
            month = sa.func.date_trunc("month", Audit.visit_started_at)
        else:
            month = sa.func.strftime("%Y-%m", Audit.visit_started_at)
        return db.session.execute(
            sa.select(Audit.branch_id, month, sa.func.avg(Audit.score))
            .where(Audit.status == "released", Audit.visit_started_at >= start)
            .group_by(Audit.branch_id, month)
        ).all()


def release_cost(app: Any, repeat: int) -> dict[str, tuple[float, float]]:
    """Release of one approved audit with and without the roll-up hook, through the service and
    through HTTP (``POST /api/v1/audits/{id}/release`` by the test client, as the issue's
    targets are measured): ``{"service with", "service without", "http with", "http
    without"}`` -> (median, p95) ms."""
    from auditapp.models import Audit, RatingAudit, User
    from auditapp.services import audits as audit_service
    from auditapp.services import ratings as rating_service

    admin = db.session.execute(sa.select(User).where(User.login == "admin")).scalar_one()
    kinds = ("service with", "service without", "http with", "http without")
    # Approved audits to release: copies of released ones put back to "approved".
    candidates = list(
        db.session.execute(
            sa.select(Audit.id)
            .where(Audit.status == "released")
            .order_by(Audit.id)
            .limit(len(kinds) * (repeat + 1))
        ).scalars()
    )
    cells = db.session.execute(
        sa.select(RatingAudit.branch_id, RatingAudit.month).where(
            RatingAudit.audit_id.in_(candidates)
        )
    ).all()
    db.session.execute(sa.delete(RatingAudit).where(RatingAudit.audit_id.in_(candidates)))
    db.session.execute(
        sa.update(Audit).where(Audit.id.in_(candidates)).values(status="approved", released_at=None)
    )
    # Their cells without them: each release below adds its audit back (a kept database stays
    # true run after run).
    rating_service.refresh_cells([(branch_id, month) for branch_id, month in cells])
    db.session.commit()
    sources = {
        kind: iter(candidates[i * (repeat + 1) : (i + 1) * (repeat + 1)])
        for i, kind in enumerate(kinds)
    }
    client = ApiClient(app.test_client())  # signed in, sending the CSRF token as the PWA does
    answer = client.login("admin")
    assert answer.status_code == 200, answer.get_json()

    def release_next(kind: str) -> float:
        audit_id = next(sources[kind])
        version = db.session.execute(
            sa.select(Audit.version).where(Audit.id == audit_id)
        ).scalar_one()
        db.session.commit()  # (the bench's own session holds nothing while the release runs)
        if kind.startswith("http"):
            started = time.perf_counter()
            answer = client.post(f"/api/v1/audits/{audit_id}/release", json={"version": version})
            spent = time.perf_counter() - started
            assert answer.status_code == 200, answer.get_json()
        else:
            started = time.perf_counter()
            audit_service.release(admin, audit_id, version)
            spent = time.perf_counter() - started
        return spent * 1000

    original = rating_service.record_released

    def release(kind: str) -> float:
        if kind.endswith("with"):
            return release_next(kind)
        rating_service.record_released = lambda audits: None  # type: ignore[assignment]
        try:
            return release_next(kind)
        finally:
            rating_service.record_released = original  # type: ignore[assignment]

    # Alternately, after one warm-up each: a load that changes during the run weighs on all.
    for kind in kinds:
        release(kind)
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(repeat):
        for kind in kinds:
            samples[kind].append(release(kind))
    # Put the hook-less releases into the roll-ups too, so the readings below see every audit.
    hookless = [
        audit_id
        for i, kind in enumerate(kinds)
        if kind.endswith("without")
        for audit_id in candidates[i * (repeat + 1) : (i + 1) * (repeat + 1)]
    ]
    rating_service.record_released(
        db.session.execute(sa.select(Audit).where(Audit.id.in_(hookless))).scalars().all()
    )
    db.session.commit()
    return {kind: _summary(found) for kind, found in samples.items()}


def load_and_rebuild(app: Any, options: Any, branches: int, regions: int, audits: int) -> None:
    """Steps 1-3: generate and bulk-load the data, rebuild the roll-ups, time one release."""
    started = time.perf_counter()
    dataset = generate(branches, regions, audits, MONTHS, options.seed)
    print(f"  generated in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    version_id, _, branch_ids, _ = load_network(dataset)
    load_audits(dataset, version_id, branch_ids)
    del dataset
    print(f"1. bulk load: {time.perf_counter() - started:.1f} s", flush=True)
    timed_rebuild()
    print_release_cost(app, options)


def print_release_cost(app: Any, options: Any) -> None:
    """Step 3: one release with and without its roll-up update, through the service and HTTP."""
    cost = release_cost(app, min(options.repeat, 100))
    for way in ("service", "http"):
        (with_hook, with_p95), (without, without_p95) = cost[f"{way} with"], cost[f"{way} without"]
        print(
            f"3. release one audit ({way}): with roll-ups median {with_hook:.1f} ms "
            f"(p95 {with_p95:.1f}), without {without:.1f} ms (p95 {without_p95:.1f}); "
            f"ratio {with_hook / without:.2f}x",
            flush=True,
        )


def main() -> None:
    """Generate, load, rebuild, time, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None, help="PostgreSQL base URL (default SQLite)")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full data set")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=30, help="requests per endpoint")
    parser.add_argument(
        "--keep",
        default=None,
        help="keep the data (SQLite: this file; PostgreSQL: this schema) and reuse it when loaded",
    )
    parser.add_argument(
        "--only",
        choices=("rebuild", "release"),
        default=None,
        help="with --keep (loaded data): time only the rebuild (step 2) or the release (step 3)",
    )
    parser.add_argument(
        "--readings-only",
        action="store_true",
        help="with --keep: time the readings only (no release step: kept data is not written)",
    )
    options = parser.parse_args()
    if options.only and not options.keep:
        parser.error("--only needs --keep (a loaded database)")
    branches = max(20, round(FULL_BRANCHES * options.scale))
    regions = max(2, min(FULL_REGIONS, round(FULL_REGIONS * options.scale * 4)))
    audits = max(200, round(FULL_AUDITS * options.scale))
    print(f"Python {platform.python_version()}, {platform.machine()}, seed {options.seed}")
    print(f"Data: {branches} branches, {regions} regions, {audits} released audits, 24 months")
    with (
        tempfile.TemporaryDirectory() as tmp,
        bench_database(options.database_url, options.keep, Path(tmp)) as (url, description),
    ):
        print(f"Database: {description}")
        app = create_app(app_config(url, Path(tmp)))
        app.test_client_class = IsolatedClient
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            if options.only:
                if not loaded():
                    sys.exit("--only needs loaded data: run once with --keep first")
                print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
                if options.only == "rebuild":
                    timed_rebuild()
                else:
                    print_release_cost(app, options)
                print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
                db.session.remove()
                db.engine.dispose()
                return
            if options.keep and loaded():
                print("1. data already loaded (kept database): load skipped")
                if not rebuilt():
                    timed_rebuild()
                if not options.readings_only:
                    print_release_cost(app, options)
            else:
                load_and_rebuild(app, options, branches, regions, audits)
            from auditapp.models import Branch, Region

            region_ids = list(
                db.session.execute(sa.select(Region.id).order_by(Region.code)).scalars()
            )
            branch_ids = list(
                db.session.execute(sa.select(Branch.id).order_by(Branch.code)).scalars()
            )
            last_month = arith.add_months(FIRST_MONTH, MONTHS - 1)
            quarter = arith.Period(arith.add_months(last_month, -2), last_month)
            floors = Floors(quarter, last_month)
            db.session.remove()
        client = app.test_client()
        response = client.post("/api/v1/auth/login", json={"login": "admin", "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        q = f"{quarter.first:%Y-%m}..{quarter.last:%Y-%m}"
        # As long as the quarter, shifted by half a month: two edge months read from audits.
        days = f"{quarter.first:%Y-%m}-15..{arith.add_months(quarter.last, 1):%Y-%m}-14"
        branch, region = branch_ids[len(branch_ids) // 2], region_ids[0]
        until = f"{last_month:%Y-%m}"

        def get(path: str) -> Callable[[], Any]:
            def call() -> None:
                answer = client.get(path)
                assert answer.status_code == 200, (path, answer.get_json())

            return call

        dashboard_paths = [
            f"/api/v1/ratings/branches/{branch}?period={q}",
            f"/api/v1/ratings/branches/{branch}/trend?months=24&until={until}",
            f"/api/v1/ratings/branches/{branch}/standards?period={q}",
        ]

        def dashboard() -> None:
            for path in dashboard_paths:
                get(path)()

        endpoints: list[tuple[str, Callable[[], Any], str]] = [
            (
                "network ranking of branches, quarter",
                get(f"/api/v1/ratings/rankings/branches?period={q}"),
                "rank",
            ),
            (
                "region ranking of branches, quarter",
                get(f"/api/v1/ratings/rankings/branches?period={q}&region_id={region}"),
                "rank",
            ),
            (
                "ranking of regions, quarter",
                get(f"/api/v1/ratings/rankings/regions?period={q}"),
                "rank",
            ),
            (
                "region comparison (matrix by section)",
                get(f"/api/v1/ratings/matrix?period={q}&region_id={region}"),
                "stats",
            ),
            ("region rating", get(f"/api/v1/ratings/regions/{region}?period={q}"), "stats"),
            ("network rating", get(f"/api/v1/ratings/network?period={q}"), "stats"),
            ("branch rating", get(dashboard_paths[0]), "stats"),
            ("branch dashboard (rating + 24-month trend + standards)", dashboard, "series"),
            (
                "network weakest standards, quarter",
                get(f"/api/v1/ratings/network/standards?period={q}"),
                "stats",
            ),
            (
                "network 24-month trend",
                get(f"/api/v1/ratings/network/trend?months=24&until={until}"),
                "series",
            ),
            (
                "declines, network, last month",
                get(f"/api/v1/ratings/declines?month={until}"),
                "series",
            ),
            (
                "network rating, range of days (edge months from audits)",
                get(f"/api/v1/ratings/network?period={days}"),
                "stats",
            ),
            (
                "branch rating, range of days",
                get(f"/api/v1/ratings/branches/{branch}?period={days}"),
                "stats",
            ),
            (
                "audits behind a branch rating",
                get(f"/api/v1/ratings/branches/{branch}/audits?period={q}"),
                "stats",
            ),
        ]
        with app.app_context():
            floor_figures = {
                "stats": (timed(floors.np_stats, options.repeat), timed(floors.sql_stats, 5)),
                "rank": (timed(floors.np_rank, options.repeat), timed(floors.sql_rank, 5)),
                "series": (timed(floors.np_series, options.repeat), timed(floors.sql_series, 3)),
            }
            db.session.remove()
        print(f"4. endpoints through the test client, period {q} (median / p95, ms)")
        print(
            "   kept: the network-wide readings kept since the last change (what a reading"
            " gets until the next release);"
        )
        print("   first: the first reading after a change (nothing kept), median of 5")
        print("   floors: numpy over per-audit arrays | plain SQL GROUP BY over audit rows")
        print(f"   {'':<56} {'kept median / p95':>19}  {'first':>7}")
        for label, call, floor in endpoints:
            median, p95 = timed(call, options.repeat)
            first, _ = timed_cold(call, min(options.repeat, 5))
            (np_median, _), (sql_median, _) = floor_figures[floor]
            print(
                f"   {label:<56} {median:8.1f} / {p95:8.1f}  {first:7.1f}   "
                f"floor[{floor}] numpy {np_median:6.1f}  SQL {sql_median:8.1f}",
                flush=True,
            )
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
