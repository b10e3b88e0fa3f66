"""A realistic demo: a network, its users, and a year of mystery-shopper activity.

The network has regions, branches of every kind, staff with Russian names and users of every
role. The activity is twelve months of waves for every checklist in ``checklists/``, a few
hundred audits in every status, reviews, releases, disputes and generated photo evidence.

Nothing here writes a row itself: the demo installs a fake clock on the app, walks it through
the year and calls the same services the API calls, so scores, history, submission hashes and
photo processing are the real ones and cannot drift from the rules. Deterministic (fixed
seeds) for a given ``today``.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event, func, select

from auditapp.clock import FakeClock, installed
from auditapp.demo import attestation, network
from auditapp.demo.activity import MSK, Timeline, Year, local_time, month_start
from auditapp.demo.network import DemoLogin
from auditapp.extensions import db
from auditapp.models import (
    Assignment,
    Audit,
    AuditHistory,
    AuditPhoto,
    Branch,
    Dispute,
    Region,
    Wave,
)

__all__ = ["DemoLogin", "DemoSummary", "has_data", "load_demo", "summary"]


@dataclass(frozen=True)
class DemoSummary:
    """What the demo holds, for the message printed after loading it."""

    waves: int
    assignments: int
    audits: dict[str, int]
    photos: int
    reused_photos: int
    disputes: dict[str, int]
    history: int


def has_data() -> bool:
    """True when the database already holds a network (the demo never overwrites one)."""
    return bool(db.session.execute(select(func.count(Region.id))).scalar_one())


def load_demo(today: date, seed: int = 2026) -> list[DemoLogin]:
    """Create the demo network, users and a year of activity up to ``today``; returns the
    credentials to print.

    Each step commits as it does through the API, so a failure part-way leaves what was done
    so far (``has_data`` then refuses to load again: start from an empty database).
    """
    first_wave = month_start(month_start(today - timedelta(days=2)), -11)
    # The network is imported six weeks before the first wave, the checklists three weeks.
    opened = first_wave - timedelta(days=45)
    clock = FakeClock(local_time(opened, 9, MSK))
    with installed(clock), _bulk_load():
        plan = network.plan_network(today, random.Random(seed))
        network.import_branches(plan)
        changes = network.staff_changes(plan, opened)
        for day, rows in changes:
            if day == opened:
                network.import_staff(rows, day)
        logins = network.create_users(plan, opened)
        timeline = Timeline(clock)
        for day, rows in changes:
            if day > opened:
                hr_import = functools.partial(network.import_staff, rows, day)
                timeline.at(local_time(day, 9, MSK), hr_import)
        # A generator of its own, so the activity does not shift the network's random draws.
        year = Year(today, random.Random(seed + 1), timeline, network.users_by_login())

        def open_checklists() -> None:
            versions = network.import_checklists()
            branches = list(db.session.execute(select(Branch).order_by(Branch.code)).scalars())
            year.schedule(versions, branches)

        timeline.at(local_time(first_wave - timedelta(days=20), 10, MSK), open_checklists)
        with year.pool:
            timeline.run()
        logins += attestation.load_attestation(first_wave, today, random.Random(seed + 2))
    return logins


@contextmanager
def _bulk_load() -> Iterator[None]:
    """SQLite without an fsync per commit while the demo loads.

    The services commit once per use case, as they do per request: the demo makes thousands of
    commits, and waiting for the disk on each would take minutes. A load that crashes is
    started again from an empty database anyway (``has_data`` refuses a partial one), so its
    durability buys nothing. The connections are closed afterwards, so the app's next ones
    have the configured settings again.
    """
    engine = db.engine
    if engine.dialect.name != "sqlite":
        yield
        return

    def relax(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    event.listen(engine, "checkout", relax)
    try:
        yield
    finally:
        event.remove(engine, "checkout", relax)
        db.session.remove()
        engine.dispose()


def summary() -> DemoSummary:
    """Count what the demo created (read back from the database, so it is what is there)."""

    def count(column: Any) -> int:
        return int(db.session.execute(select(func.count(column))).scalar_one())

    def by_status(status: Any) -> dict[str, int]:
        rows = db.session.execute(select(status, func.count()).group_by(status)).all()
        return {name: int(number) for name, number in sorted(rows)}

    return DemoSummary(
        waves=count(Wave.id),
        assignments=count(Assignment.id),
        audits=by_status(Audit.status),
        photos=count(AuditPhoto.id),
        reused_photos=int(
            db.session.execute(
                select(func.count(AuditPhoto.id)).where(AuditPhoto.reuse_kind.is_not(None))
            ).scalar_one()
        ),
        disputes=by_status(Dispute.status),
        history=count(AuditHistory.id),
    )
