"""Network-wide readings kept between requests (`auditapp.services.ratings.memo`): a kept
reading is served without reading the roll-ups again, and every committed change of what
ratings read (a release, an upheld dispute, a branch moved, a rebuild) is in the next reading.

The network is the one of ``test_ratings_api``, March 2026:
  N1: 87.5 and 67.5 (mean 77.5); N2: 87.5; S1: 47.5; network (77.5 + 87.5 + 47.5) / 3.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, event, select

from auditapp.extensions import db
from auditapp.models import RatingState
from auditapp.services import ratings as rating_service
from auditapp.services.ratings import memo
from tests.integration.test_ratings_rollups import uphold
from tests.support import Network, Ratings, answers, audit_at, ratings_fieldwork

MARCH = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
RANKING = "/api/v1/ratings/rankings/branches?period=2026-03"


@pytest.fixture
def rated(app: Flask, network: Network) -> tuple[Ratings, int]:
    """The network above, and the id of N1's 67.5 audit (greeted: no)."""
    ratings = ratings_fieldwork(network)
    audit_at(ratings, "N1", MARCH)
    doubted = audit_at(ratings, "N1", MARCH, answers(greeted=False))
    audit_at(ratings, "N2", MARCH)
    audit_at(ratings, "S1", MARCH, answers(greeted=False, queue_wait=400))
    return ratings, doubted


def _get(api: Any, path: str) -> Any:
    response = api.get(path)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _rollup_reads(app: Flask, call: Callable[[], Any]) -> tuple[int, Any]:
    """How many statements ``call`` ran against the roll-up tables, and what it returned."""
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "rating_rollup" in statement or "rating_period_rollup" in statement:
            seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        result = call()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return len(seen), result


def _version() -> int:
    db.session.expire_all()
    return db.session.execute(select(RatingState.version)).scalar_one()


def _entry(ranking: Any, branch_id: int) -> Any:
    return next(e for e in ranking["entries"] if e["branch"]["id"] == branch_id)


def test_a_kept_reading_is_served_until_a_release_changes_it(
    app: Flask, as_user: Any, rated: tuple[Ratings, int]
) -> None:
    ratings, _ = rated
    api = as_user("admin")
    first = _get(api, RANKING)
    reads, again = _rollup_reads(app, lambda: _get(api, RANKING))
    assert (reads, again) == (0, first)  # kept: the roll-ups are not read again

    s1 = ratings.network.branches["S1"]
    assert _entry(first, s1)["rating"]["n"] == 1
    audit_at(ratings, "S1", MARCH)  # 87.5: S1 is now (47.5 + 87.5) / 2
    reads, after = _rollup_reads(app, lambda: _get(api, RANKING))
    assert reads > 0
    assert _entry(after, s1)["rating"]["n"] == 2
    assert _entry(after, s1)["rating"]["mean"] == pytest.approx(67.5)
    assert after["network_mean"] == pytest.approx((77.5 + 87.5 + 67.5) / 3)
    memo.forget()
    assert _get(api, RANKING) == after  # what was kept is what a fresh reading gives


def test_a_branch_place_follows_a_release(as_user: Any, rated: tuple[Ratings, int]) -> None:
    ratings, _ = rated
    api = as_user("admin")
    path = f"/api/v1/ratings/branches/{ratings.network.branches['N1']}?period=2026-03"
    trend = (
        f"/api/v1/ratings/branches/{ratings.network.branches['N1']}/trend?months=12&until=2026-03"
    )
    standards = (
        f"/api/v1/ratings/branches/{ratings.network.branches['N1']}/standards?period=2026-03"
    )
    before = _get(api, path)
    assert before["places"]["network"]["rank"] == 2
    assert _get(api, trend)["points"][-1]["n"] == 2
    assert {w["n"] for w in _get(api, standards)["weakest"]} == {2}
    audit_at(ratings, "N1", MARCH, answers())  # N1: (87.5 + 67.5 + 87.5) / 3
    audit_at(ratings, "N1", MARCH, answers())  # then (87.5 * 3 + 67.5) / 4 = 82.5
    audit_at(ratings, "N2", MARCH, answers(greeted=False))  # N2: (87.5 + 67.5) / 2 = 77.5
    after = _get(api, path)
    assert after["rating"]["n"] == 4 and after["rating"]["mean"] == pytest.approx(82.5)
    assert after["places"]["network"]["rank"] == 1
    assert sum(after["breakdowns"]["channel"][c]["n"] for c in after["breakdowns"]["channel"]) == 4
    assert _get(api, trend)["points"][-1]["n"] == 4  # the branch's own kept readings too
    assert {w["n"] for w in _get(api, standards)["weakest"]} == {4}
    assert after["network_mean"] == pytest.approx((82.5 + 77.5 + 47.5) / 3)


def test_an_upheld_dispute_is_in_the_next_reading(as_user: Any, rated: tuple[Ratings, int]) -> None:
    ratings, doubted = rated
    api = as_user("admin")
    n1 = ratings.network.branches["N1"]
    assert _entry(_get(api, RANKING), n1)["rating"]["mean"] == pytest.approx(77.5)
    uphold(ratings, doubted, "manager_n1", "greeted", True)  # 67.5 -> 87.5
    assert _entry(_get(api, RANKING), n1)["rating"]["mean"] == pytest.approx(87.5)


def test_a_moved_branch_is_in_its_new_region_in_the_next_reading(
    as_user: Any, rated: tuple[Ratings, int]
) -> None:
    ratings, _ = rated
    api = as_user("admin")
    south = f"/api/v1/ratings/regions/{ratings.network.regions['S']}?period=2026-03"
    in_south = f"{RANKING}&region_id={ratings.network.regions['S']}"
    assert _get(api, south)["rating"]["branches"] == 1
    assert len(_get(api, in_south)["entries"]) == 1
    moved = api.patch(
        f"/api/v1/branches/{ratings.network.branches['N2']}",
        json={"region_id": ratings.network.regions["S"]},
    )
    assert moved.status_code == 200, moved.get_json()
    rating = _get(api, south)["rating"]
    assert rating["branches"] == 2 and rating["mean"] == pytest.approx((87.5 + 47.5) / 2)
    assert [e["branch"]["id"] for e in _get(api, in_south)["entries"]] == [
        ratings.network.branches["N2"],
        ratings.network.branches["S1"],
    ]


def test_the_version_rises_on_commit_only(app: Flask, rated: tuple[Ratings, int]) -> None:
    version = _version()
    memo.changed()
    db.session.rollback()
    assert _version() == version  # a change rolled back changes nothing
    memo.changed()
    db.session.commit()
    assert _version() == version + 1
    rating_service.rebuild()
    assert _version() == version + 2


def test_without_its_state_row_nothing_is_kept(
    app: Flask, as_user: Any, rated: tuple[Ratings, int]
) -> None:
    ratings, _ = rated
    db.session.execute(delete(RatingState))
    db.session.commit()
    api = as_user("admin")
    first = _get(api, RANKING)
    reads, again = _rollup_reads(app, lambda: _get(api, RANKING))
    assert reads > 0 and again == first
    audit_at(ratings, "S1", MARCH)  # the next change makes the row again
    assert _version() == 1
    _get(api, RANKING)
    reads, _ = _rollup_reads(app, lambda: _get(api, RANKING))
    assert reads == 0
