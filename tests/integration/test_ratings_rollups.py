"""Roll-ups kept by release and disputes, and ``ratings rebuild`` reproducing them exactly.

Test data goes through the services: waves, assignments, submission, review, release, disputes.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from auditapp.extensions import db
from auditapp.models import (
    RatingAudit,
    RatingItemRollup,
    RatingPeriodRollup,
    RatingRollup,
)
from tests.support import (
    Network,
    Ratings,
    answers,
    audit_at,
    ratings_fieldwork,
    version_of,
)


def uphold(ratings: Ratings, audit_id: int, manager: str, item_id: str, value: Any) -> None:
    """A manager disputes an item and the reviewer upholds it with ``value``."""
    from auditapp.services import audits

    dispute = audits.raise_dispute(
        ratings.user(manager),
        audit_id,
        audits.Claim(
            value_requested=True,
            item_id=item_id,
            reason="Было иначе",
            requested_value=value,
            version=version_of(audit_id),
        ),
    )
    audits.resolve_dispute(
        ratings.user("reviewer"),
        dispute.id,
        audits.Ruling(True, "Подтверждено", version_of(audit_id)),
    )


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every roll-up row, exactly (floats compared as stored)."""
    db.session.expire_all()

    def rows(model: Any, order: list[Any], columns: list[str]) -> list[tuple[Any, ...]]:
        return [
            tuple(getattr(row, c) for c in columns)
            for row in db.session.execute(select(model).order_by(*order)).scalars()
        ]

    part_cols = ["branch_id", "month", "checklist_slug", "channel", "part_kind", "part_key"]
    item_cols = ["branch_id", "month", "checklist_slug", "channel", "item_id", "clause"]
    window_cols = ["branch_id", "months", "first_month", "checklist_slug", "channel"]
    return {
        "audits": rows(
            RatingAudit,
            [RatingAudit.audit_id],
            ["audit_id", "branch_id", "visit_date", "month", "checklist_slug", "channel", "score"],
        ),
        "parts": rows(
            RatingRollup,
            [getattr(RatingRollup, c) for c in part_cols],
            [*part_cols, "n", "total", "total_sq", "earned", "possible"],
        ),
        "items": rows(
            RatingItemRollup,
            [getattr(RatingItemRollup, c) for c in item_cols],
            [*item_cols, "n", "earned", "possible"],
        ),
        "period_parts": rows(
            RatingPeriodRollup,
            [getattr(RatingPeriodRollup, c) for c in window_cols],
            [*window_cols, "n", "total", "total_sq"],
        ),
    }


@pytest.fixture
def ratings(app: Flask, network: Network) -> Ratings:
    """The ratings checklist and shoppers on the fixture network."""
    return ratings_fieldwork(network)


def _audit_row(branch_id: int, month: date, kind: str = "audit", key: str = "") -> RatingRollup:
    db.session.expire_all()
    row = db.session.execute(
        select(RatingRollup).where(
            RatingRollup.branch_id == branch_id,
            RatingRollup.month == month,
            RatingRollup.part_kind == kind,
            RatingRollup.part_key == key,
        )
    ).scalar_one()
    return row


MARCH = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def test_release_counts_and_other_statuses_do_not(ratings: Ratings) -> None:
    n1 = ratings.network.branches["N1"]
    audit_at(ratings, "N1", MARCH)  # 87.5
    # greeted: no -> 6.75 / 10 = 67.5
    audit_at(ratings, "N1", MARCH + timedelta(days=1), answers(greeted=False))
    for status in ("submitted", "approved", "rejected", "returned"):
        audit_at(ratings, "N1", MARCH, answers(greeted=False, receipt=False), until=status)
    row = _audit_row(n1, date(2026, 3, 1))
    # n 2, sum 155, squares 87.5^2 + 67.5^2 = 7656.25 + 4556.25 = 12212.5; points 15.5 of 20.
    assert (row.n, row.total, row.total_sq, row.earned, row.possible) == (
        2,
        155.0,
        12212.5,
        15.5,
        20.0,
    )
    # Stage pre_purchase (greeted 2 + queue 2): 4/4 and 2/4 -> scores 100 and 50.
    stage = _audit_row(n1, date(2026, 3, 1), "stage", "pre_purchase")
    assert (stage.n, stage.total, stage.earned, stage.possible) == (2, 150.0, 6.0, 8.0)
    greeted = db.session.execute(
        select(RatingItemRollup).where(RatingItemRollup.item_id == "greeted")
    ).scalar_one()
    assert (greeted.clause, greeted.n, greeted.earned, greeted.possible) == ("2.1", 2, 2.0, 4.0)


def test_na_items_count_in_neither_points_nor_n(ratings: Ratings) -> None:
    # dessert N/A: 2 + 2 + 1 + 2.25 + 1 = 8.25 of 9 = 91.667.
    audit_at(ratings, "N1", MARCH, answers(dessert_offer=None))
    row = _audit_row(ratings.network.branches["N1"], date(2026, 3, 1))
    assert (row.n, row.earned, row.possible) == (1, 8.25, 9.0)
    assert row.total == pytest.approx(91.6667, abs=1e-3)
    assert (
        db.session.execute(
            select(RatingItemRollup).where(RatingItemRollup.item_id == "dessert_offer")
        ).scalar_one_or_none()
        is None
    )


def test_visit_month_is_the_branch_local_day(ratings: Ratings) -> None:
    # Moscow is UTC+3: 20:30 UTC on 31 March is 23:30 local (March); 21:30 UTC is 00:30 on
    # 1 April local (April), though UTC still says March.
    audit_at(ratings, "N1", datetime(2026, 3, 31, 20, 30, tzinfo=UTC))
    late = audit_at(ratings, "N1", datetime(2026, 3, 31, 21, 30, tzinfo=UTC))
    months = dict(db.session.execute(select(RatingAudit.audit_id, RatingAudit.month)).all())
    assert sorted(months.values()) == [date(2026, 3, 1), date(2026, 4, 1)]
    assert months[late] == date(2026, 4, 1)
    assert db.session.get(RatingAudit, late).visit_date == date(2026, 4, 1)  # type: ignore[union-attr]


def test_upheld_dispute_changes_the_rollup_in_the_same_transaction(ratings: Ratings) -> None:
    n1 = ratings.network.branches["N1"]
    audit_id = audit_at(ratings, "N1", MARCH, answers(greeted=False))  # 67.5
    uphold(ratings, audit_id, "manager_n1", "greeted", True)  # -> 87.5
    row = _audit_row(n1, date(2026, 3, 1))
    assert (row.n, row.total, row.earned) == (1, 87.5, 8.75)
    assert db.session.get(RatingAudit, audit_id).score == 87.5  # type: ignore[union-attr]


def test_release_wave_counts_every_audit(ratings: Ratings) -> None:
    from auditapp.services import audits

    first = audit_at(ratings, "N1", MARCH, until="approved")
    audit_at(ratings, "S1", MARCH, until="approved")
    wave_id = ratings.waves[0]
    assert audits.release_wave(ratings.user("reviewer"), wave_id) == 2
    assert _audit_row(ratings.network.branches["N1"], date(2026, 3, 1)).n == 1
    assert _audit_row(ratings.network.branches["S1"], date(2026, 3, 1)).n == 1
    assert db.session.get(RatingAudit, first) is not None


def test_audits_released_at_once_keep_what_a_rebuild_sums(ratings: Ratings) -> None:
    """One call counting several audits (a wave): audits of the same cell summed together,
    added to rows an earlier release kept or making new ones, in several windows of months;
    a rebuild gives the same roll-ups bit for bit."""
    from auditapp.services import audits
    from auditapp.services import ratings as rating_service

    rng = random.Random(7)

    def some_answers() -> dict[str, Any]:
        return answers(
            greeted=rng.random() < 0.7,
            queue_wait=rng.choice([10, 90, 400]),
            drink_quality=rng.randint(1, 5),
            dessert_offer=rng.choice(["matched", "generic", "none", None]),
            table_clean=rng.choice([True, False, None]),
        )

    # A branch's first four visits are in the first wave (one per shopper).
    audit_at(ratings, "N1", MARCH, some_answers())  # released alone: kept rows to add to
    for branch, visits in (
        ("N1", [MARCH + timedelta(days=1), MARCH + timedelta(days=2), MARCH + timedelta(days=40)]),
        ("S1", [MARCH, MARCH + timedelta(hours=5), datetime(2025, 12, 20, tzinfo=UTC), MARCH]),
    ):
        for visit in visits:
            audit_at(ratings, branch, visit, some_answers(), until="approved")
    assert audits.release_wave(ratings.user("reviewer"), ratings.waves[0]) == 7
    assert _audit_row(ratings.network.branches["N1"], date(2026, 3, 1)).n == 3
    assert _audit_row(ratings.network.branches["S1"], date(2026, 3, 1)).n == 3
    kept = snapshot()
    assert len(kept["audits"]) == 8
    rating_service.rebuild()
    assert snapshot() == kept


def test_a_wave_with_nothing_approved_counts_nothing(ratings: Ratings) -> None:
    from auditapp.services import audits

    audit_at(ratings, "N1", MARCH)  # released one by one: nothing left to release
    kept = snapshot()
    assert audits.release_wave(ratings.user("reviewer"), ratings.waves[0]) == 0
    assert snapshot() == kept


def random_history(ratings: Ratings, seed: int, count: int = 40) -> None:
    """Audits with random answers over 8 months in every branch, random statuses, upheld and
    rejected disputes, and a branch moved to another region."""
    from auditapp.services import audits
    from auditapp.services import network as net

    rng = random.Random(seed)
    managers = {"N1": "manager_n1", "S1": "manager_s1"}
    released: list[tuple[int, str]] = []
    for _ in range(count):
        branch = rng.choice(sorted(ratings.network.branches))
        visit = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(240 * 24 * 60))
        given = answers(
            greeted=rng.random() < 0.8,
            queue_wait=rng.choice([10, 90, 400]),
            receipt=rng.random() < 0.9,
            drink_quality=rng.randint(1, 5),
            dessert_offer=rng.choice(["matched", "generic", "none", None]),
            table_clean=rng.choice([True, False, None]),
        )
        until = rng.choice(["released"] * 6 + ["approved", "rejected", "returned", "submitted"])
        audit_id = audit_at(ratings, branch, visit, given, until=until)
        if until == "released":
            released.append((audit_id, branch))
    for audit_id, branch in released:
        if branch in managers and rng.random() < 0.4:
            uphold(ratings, audit_id, managers[branch], "drink_quality", rng.randint(1, 5))
        elif branch in managers and rng.random() < 0.2:
            dispute = audits.raise_dispute(
                ratings.user(managers[branch]),
                audit_id,
                audits.Claim(
                    value_requested=True,
                    item_id="greeted",
                    reason="Не согласны",
                    requested_value=True,
                    version=version_of(audit_id),
                ),
            )
            audits.resolve_dispute(
                ratings.user("reviewer"),
                dispute.id,
                audits.Ruling(False, "Отклонено", version_of(audit_id)),
            )
    net.update_branch(
        ratings.user("admin"),
        ratings.network.branches["N2"],
        {"region_id": ratings.network.regions["S"]},
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_rebuild_reproduces_the_kept_rollups_exactly(ratings: Ratings, seed: int) -> None:
    from auditapp.services import ratings as rating_service

    random_history(ratings, seed)
    kept = snapshot()
    assert kept["parts"] and kept["items"]
    assert any(rollup[1] != date(2026, 1, 1) for rollup in kept["parts"])  # several months
    made = rating_service.rebuild()
    assert made["audits"] == len(kept["audits"])
    assert snapshot() == kept
    # Tiny batches: the audits read in many ranges of branches, the same numbers.
    rating_service.rebuild(batch=1)
    assert snapshot() == kept


def test_branch_ranges_cover_every_branch_once() -> None:
    from auditapp.services.ratings.keeping import _branch_ranges

    # 10 audits over 5 cells: 2 per cell; batches of 4 audits = 2 cells.
    ranges = _branch_ranges({1: 1, 3: 2, 4: 1, 9: 1}, audits=10, batch=4)
    assert ranges == [(1, 3), (4, 9)]
    assert _branch_ranges({}, audits=0, batch=4) == []


def test_rebuild_command(ratings: Ratings, app: Flask) -> None:
    audit_at(ratings, "N1", MARCH)
    kept = snapshot()
    db.session.execute(RatingRollup.__table__.delete())
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["ratings", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "1 released audits" in result.output
    assert snapshot() == kept


def test_period_rollups_are_the_sums_of_their_months(ratings: Ratings) -> None:
    """Every run of 3 months and every calendar year holding a kept month has a period row,
    and it is the sum of that window's monthly rows (kept on release and disputes)."""
    from auditapp.domain.ratings import add_months

    random_history(ratings, 3, count=30)
    kept = snapshot()
    months: dict[tuple[int, date, str, str], tuple[int, float, float]] = {}
    for branch_id, month, slug, channel, kind, _key, n, total, total_sq, _e, _p in kept["parts"]:
        if kind == "audit":
            months[(branch_id, month, slug, channel)] = (n, total, total_sq)
    expected: dict[tuple[Any, ...], list[float]] = {}
    for (branch_id, month, slug, channel), values in months.items():
        windows = [(3, add_months(month, -i)) for i in range(3)]
        windows.append((12, date(month.year, 1, 1)))
        for length, first in windows:
            sums = expected.setdefault((branch_id, length, first, slug, channel), [0, 0.0, 0.0])
            for index, value in enumerate(values):
                sums[index] += value
    found = {tuple(row[:5]): row[5:] for row in kept["period_parts"]}
    assert set(found) == set(expected)
    for key, (n, total, total_sq) in found.items():
        assert n == expected[key][0]
        assert total == pytest.approx(expected[key][1], abs=1e-9)
        assert total_sq == pytest.approx(expected[key][2], abs=1e-6)


@pytest.mark.parametrize("seed", [4, 5])
def test_standards_reduced_by_the_database_equal_the_python_sums(
    ratings: Ratings, seed: int
) -> None:
    """The network's standards over whole months (a quarter-long window, a calendar year, a
    two-month range read from the months) as the database reduces them, against the same
    sums done in Python from the monthly item roll-ups."""
    from auditapp.domain.ratings import Period
    from auditapp.services.ratings.reading import (
        Filters,
        _standard_sums,
        _standard_sums_in_sql,
    )

    random_history(ratings, seed)
    for period in (
        Period(date(2026, 2, 1), date(2026, 4, 1)),
        Period(date(2026, 1, 1), date(2026, 12, 1)),
        Period(date(2026, 3, 1), date(2026, 4, 1)),
    ):
        totals, divergent = _standard_sums_in_sql(period, Filters(), 10)
        expected_totals, expected_divergent = _standard_sums(period, Filters(), None, 10)
        assert totals.keys() == expected_totals.keys()
        assert totals
        for key, count in totals.items():
            assert count.n == expected_totals[key].n
            assert count.earned == pytest.approx(expected_totals[key].earned, abs=1e-9)
            assert count.possible == pytest.approx(expected_totals[key].possible, abs=1e-9)
        assert divergent
        assert [(d.key, d.branches, d.best_branch, d.worst_branch) for d in divergent] == [
            (d.key, d.branches, d.best_branch, d.worst_branch) for d in expected_divergent
        ]
        for found, wanted in zip(divergent, expected_divergent, strict=True):
            assert found.gap == pytest.approx(wanted.gap, abs=1e-12)
