"""Ratings over a range of days: whole months from the roll-ups, edge months from their audits.

Every branch is in Moscow (UTC+3). Scores: the good answers 87.5; greeted "no" 67.5; greeted
"no" and a 400 s queue 47.5 (pre_purchase stage: 100, 50 and 0).

  N1: 20 Feb 87.5, 5 Mar 67.5, 20 Mar 87.5, 2 Apr 47.5
  N2: 14 Mar 22:30 UTC = 15 Mar in Moscow 87.5, 25 Mar 47.5
  S1: 10 Feb 67.5

15 Feb .. 15 Mar (29 days): N1 87.5, 67.5 -> 77.5 (n 2); N2 87.5 (n 1); S1 none.
  Network = (77.5 + 87.5) / 2 = 82.5. Previous 29 days (17 Jan .. 14 Feb): S1 67.5 only.
15 Feb .. 5 Apr (Feb and Apr in part, Mar whole): N1 (87.5 + 67.5 + 87.5 + 47.5) / 4 = 72.5;
  N2 (87.5 + 47.5) / 2 = 67.5; network 70.0; N1 pre_purchase (100 + 50 + 100 + 0) / 4 = 62.5.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from tests.support import Network, Ratings, answers, audit_at, ratings_fieldwork

FIRST_RANGE = "2026-02-15..2026-03-15"
SECOND_RANGE = "2026-02-15..2026-04-05"


def _at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def ranged(app: Flask, network: Network) -> Ratings:
    """The visits above."""
    ratings = ratings_fieldwork(network)
    audit_at(ratings, "N1", _at(2, 20))
    audit_at(ratings, "N1", _at(3, 5), answers(greeted=False))
    audit_at(ratings, "N1", _at(3, 20))
    audit_at(ratings, "N1", _at(4, 2), answers(greeted=False, queue_wait=400))
    audit_at(ratings, "N2", _at(3, 14, 22, 30))
    audit_at(ratings, "N2", _at(3, 25), answers(greeted=False, queue_wait=400))
    audit_at(ratings, "S1", _at(2, 10), answers(greeted=False))
    return ratings


def _get(api: Any, path: str, status: int = 200) -> Any:
    response = api.get(path)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_branch_rating_over_days(as_user: Any, ranged: Ratings) -> None:
    n1, n2 = ranged.network.branches["N1"], ranged.network.branches["N2"]
    api = as_user("admin")
    body = _get(api, f"/api/v1/ratings/branches/{n1}?period={FIRST_RANGE}")
    assert (body["rating"]["n"], body["rating"]["mean"]) == (2, 77.5)
    assert body["period"]["starts_on"] == "2026-02-15"
    assert body["period"]["ends_on"] == "2026-03-15"
    assert body["network_mean"] == 82.5
    assert body["previous"]["n"] == 0  # 17 Jan .. 14 Feb: no visit to N1
    assert body["places"]["network"]["rank"] == 2
    # The visit at 22:30 UTC on 14 March is a 15 March visit in Moscow: inside the range.
    n2_body = _get(api, f"/api/v1/ratings/branches/{n2}?period={FIRST_RANGE}")
    assert (n2_body["rating"]["n"], n2_body["rating"]["mean"]) == (1, 87.5)
    wider = _get(api, f"/api/v1/ratings/branches/{n1}?period={SECOND_RANGE}")
    assert (wider["rating"]["n"], wider["rating"]["mean"]) == (4, 72.5)
    assert wider["breakdowns"]["stage"]["pre_purchase"]["mean"] == 62.5
    assert wider["breakdowns"]["channel"]["visit"]["n"] == 4


def test_network_and_rankings_over_days(as_user: Any, ranged: Ratings) -> None:
    api = as_user("admin")
    network = _get(api, f"/api/v1/ratings/network?period={FIRST_RANGE}")
    assert (network["rating"]["branches"], network["audits"]) == (2, 3)
    assert network["rating"]["mean"] == 82.5 and network["rating"]["gap"] == 10.0
    ranking = _get(api, f"/api/v1/ratings/rankings/branches?period={FIRST_RANGE}")
    assert [(e["branch"]["code"], e["rank"]) for e in ranking["entries"]] == [
        ("N2", 1),
        ("N1", 2),
    ]
    wider = _get(api, f"/api/v1/ratings/network?period={SECOND_RANGE}")
    assert (wider["rating"]["branches"], wider["audits"]) == (2, 6)
    assert wider["rating"]["mean"] == 70.0
    previous = _get(api, "/api/v1/ratings/network?period=2026-01-17..2026-02-14")
    assert (previous["rating"]["branches"], previous["rating"]["mean"]) == (1, 67.5)
    # The ranking's change is against those 29 days: S1 was ranked, N1 and N2 were not.
    assert all(e["previous_rank"] is None for e in ranking["entries"])


def test_audits_standards_and_matrix_over_days(as_user: Any, ranged: Ratings) -> None:
    n1 = ranged.network.branches["N1"]
    api = as_user("admin")
    behind = _get(api, f"/api/v1/ratings/branches/{n1}/audits?period={FIRST_RANGE}")
    assert sorted(item["score"] for item in behind["items"]) == [67.5, 87.5]
    standards = _get(api, f"/api/v1/ratings/branches/{n1}/standards?period={FIRST_RANGE}")
    greeted = next(w for w in standards["weakest"] if w["item_id"] == "greeted")
    # greeted (weight 2): yes on 20 Feb, no on 5 Mar -> 2 of 4.
    assert (greeted["n"], greeted["earned"], greeted["possible"]) == (2, 2.0, 4.0)
    matrix = _get(api, f"/api/v1/ratings/matrix?period={SECOND_RANGE}&by=stage")
    cells = {row["branch"]["code"]: row["cells"] for row in matrix["rows"]}
    assert cells["N1"]["pre_purchase"] == {"n": 4, "mean": 62.5}
    # N2: 100 (15 Mar) and 0 (25 Mar) -> 50.
    assert cells["N2"]["pre_purchase"] == {"n": 2, "mean": 50.0}


def test_whole_months_as_days_read_as_months(as_user: Any, ranged: Ratings) -> None:
    api = as_user("admin")
    as_days = _get(api, "/api/v1/ratings/network?period=2026-03-01..2026-03-31")
    as_month = _get(api, "/api/v1/ratings/network?period=2026-03")
    assert as_days == as_month


@pytest.mark.parametrize(
    "period", ["2026-02-30..2026-03-05", "2026-03-05..2026-03-01", "2020-01-01..2026-03-01"]
)
def test_bad_ranges_are_422(as_user: Any, ranged: Ratings, period: str) -> None:
    body = _get(as_user("admin"), f"/api/v1/ratings/network?period={period}", 422)
    assert "period" in str(body)
