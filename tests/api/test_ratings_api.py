"""The ratings API on a hand-computed network: numbers, scope per role, periods, errors.

March 2026 (every visit released through the services):
  N1 (region N, store): 87.5 and 67.5 (greeted: no)      -> n 2, mean 77.5, sd 14.142
  N2 (region N, restaurant): 87.5                         -> n 1, mean 87.5, no interval
  S1 (region S, hotel): 47.5 (greeted: no, queue 400 s)   -> n 1, mean 47.5
  S2: no visit.
Network = mean of branch means = (77.5 + 87.5 + 47.5) / 3 = 70.833; region N = 82.5 (gap 10).
February 2026: N1 one visit at 87.5 (so March's N1 mean changed by -10).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from tests.support import (
    RATING_CHECKLIST,
    Network,
    Ratings,
    answers,
    audit_at,
    ratings_fieldwork,
)

MARCH = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
FEB = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def rated(app: Flask, network: Network) -> Ratings:
    """The network above."""
    ratings = ratings_fieldwork(network)
    audit_at(ratings, "N1", MARCH)
    audit_at(ratings, "N1", MARCH, answers(greeted=False))
    audit_at(ratings, "N2", MARCH)
    audit_at(ratings, "S1", MARCH, answers(greeted=False, queue_wait=400))
    audit_at(ratings, "N1", FEB)
    return ratings


def _get(api: Any, path: str, status: int = 200) -> Any:
    response = api.get(path)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_branch_rating_by_hand(as_user: Any, rated: Ratings) -> None:
    n1 = rated.network.branches["N1"]
    body = _get(as_user("admin"), f"/api/v1/ratings/branches/{n1}?period=2026-03")
    rating = body["rating"]
    assert (rating["n"], rating["mean"], rating["too_few_visits"]) == (2, 77.5, True)
    assert rating["sd"] == pytest.approx(14.1421, abs=1e-3)
    # 77.5 +- 12.706 * 14.142 / sqrt(2) = 77.5 +- 127.06
    assert rating["ci_low"] == pytest.approx(77.5 - 127.06, abs=0.01)
    assert body["previous"]["mean"] == 87.5 and body["mean_change"] == -10.0
    assert body["network_mean"] == pytest.approx(70.8333, abs=1e-3)
    network_place = body["places"]["network"]
    assert (network_place["rank"], network_place["of"]) == (2, 3)
    assert (network_place["rank_best"], network_place["rank_worst"]) == (1, 3)
    assert body["places"]["region"]["rank"] == 2  # behind N2 in region N
    assert network_place["previous_rank"] == 1 and network_place["rank_change"] == -1
    # Breakdowns: pre_purchase 100 and 50 -> 75; section "arrival" is keyed by its checklist.
    assert body["breakdowns"]["stage"]["pre_purchase"]["mean"] == 75.0
    assert body["breakdowns"]["section"]["coffee-shop-visit:arrival"]["mean"] == 75.0
    assert body["breakdowns"]["channel"]["visit"]["n"] == 2
    # barista role: greeted (2) + drink (3 * 0.75): 4.25 / 5 = 85 and 2.25 / 5 = 45 -> 65.
    assert body["breakdowns"]["role"]["barista"]["mean"] == pytest.approx(65.0)


def test_min_visits_is_a_parameter(as_user: Any, rated: Ratings) -> None:
    n1 = rated.network.branches["N1"]
    body = _get(as_user("admin"), f"/api/v1/ratings/branches/{n1}?period=2026-03&min_visits=2")
    assert body["rating"]["too_few_visits"] is False


def test_network_and_region_ratings(as_user: Any, rated: Ratings) -> None:
    api = as_user("admin")
    network = _get(api, "/api/v1/ratings/network?period=2026-03")
    assert network["rating"]["branches"] == 3 and network["audits"] == 4
    assert network["rating"]["mean"] == pytest.approx(70.8333, abs=1e-3)
    assert (network["rating"]["min"], network["rating"]["max"], network["rating"]["gap"]) == (
        47.5,
        87.5,
        40.0,
    )
    # pre_purchase per branch: N1 (100 + 50) / 2 = 75, N2 100, S1 0 of 4 = 0 -> mean 58.333.
    stage = network["breakdowns"]["stage"]["pre_purchase"]
    assert (stage["branches"], stage["min"], stage["max"], stage["gap"]) == (3, 0.0, 100.0, 100.0)
    assert stage["mean"] == pytest.approx(58.3333, abs=1e-3)
    assert network["breakdowns"]["channel"]["visit"]["branches"] == 3
    assert "coffee-shop-visit:arrival" in network["breakdowns"]["section"]
    region = _get(api, f"/api/v1/ratings/regions/{rated.network.regions['N']}?period=2026-03")
    assert (region["rating"]["mean"], region["rating"]["gap"]) == (82.5, 10.0)
    # Quarter 1 = February + March: N1 (87.5, 87.5, 67.5) -> 80.833; N2 87.5; S1 47.5.
    quarter = _get(api, "/api/v1/ratings/network?period=2026-Q1")
    assert quarter["rating"]["mean"] == pytest.approx((80.8333 + 87.5 + 47.5) / 3, abs=1e-3)


def test_filters_narrow(as_user: Any, rated: Ratings) -> None:
    api = as_user("admin")
    hotels = _get(api, "/api/v1/ratings/network?period=2026-03&branch_kind=hotel")
    assert (hotels["rating"]["branches"], hotels["rating"]["mean"]) == (1, 47.5)
    calls = _get(api, "/api/v1/ratings/network?period=2026-03&channel=call")
    assert calls["rating"]["branches"] == 0 and calls["rating"]["mean"] is None
    other = _get(api, "/api/v1/ratings/network?period=2026-03&checklist=no-such")
    assert other["audits"] == 0


def test_network_ranking_and_scope(as_user: Any, rated: Ratings) -> None:
    body = _get(as_user("admin"), "/api/v1/ratings/rankings/branches?period=2026-03")
    codes = [
        (e["branch"]["code"], e["rank"], e["rank_best"], e["rank_worst"]) for e in body["entries"]
    ]
    assert codes == [("N2", 1, 1, 3), ("N1", 2, 1, 3), ("S1", 3, 1, 3)]
    paged = _get(
        as_user("admin"), "/api/v1/ratings/rankings/branches?period=2026-03&per_page=1&page=2"
    )
    assert [e["branch"]["code"] for e in paged["entries"]] == ["N1"]
    assert (paged["total"], paged["ranked"], paged["page"]) == (3, 3, 2)
    # The manager of N1 sees only N1, at its place among all three.
    mine = _get(as_user("manager_n1"), "/api/v1/ratings/rankings/branches?period=2026-03")
    assert [(e["branch"]["code"], e["rank"], e["of"]) for e in mine["entries"]] == [("N1", 2, 3)]
    region = _get(
        as_user("director_n"),
        f"/api/v1/ratings/rankings/branches?period=2026-03&region_id={rated.network.regions['N']}",
    )
    assert [e["branch"]["code"] for e in region["entries"]] == ["N2", "N1"]
    _get(
        as_user("director_n"),
        f"/api/v1/ratings/rankings/branches?region_id={rated.network.regions['S']}",
        404,
    )


def test_region_ranking(as_user: Any, rated: Ratings) -> None:
    body = _get(as_user("admin"), "/api/v1/ratings/rankings/regions?period=2026-03")
    assert [(e["region"]["code"], e["rank"], e["branches"]) for e in body["entries"]] == [
        ("N", 1, 2),
        ("S", 2, 1),
    ]
    assert body["entries"][0]["mean"] == 82.5
    director = _get(as_user("director_n"), "/api/v1/ratings/rankings/regions?period=2026-03")
    assert [e["region"]["code"] for e in director["entries"]] == ["N"]


def test_moved_branch_counts_in_its_new_region_for_the_past(as_user: Any, rated: Ratings) -> None:
    api = as_user("admin")
    moved = api.patch(
        f"/api/v1/branches/{rated.network.branches['N2']}",
        json={"region_id": rated.network.regions["S"]},
    )
    assert moved.status_code == 200, moved.get_json()
    south = _get(api, f"/api/v1/ratings/regions/{rated.network.regions['S']}?period=2026-03")
    assert south["rating"]["branches"] == 2 and south["rating"]["mean"] == (87.5 + 47.5) / 2


def test_employee_reads_their_branch_only(as_user: Any, rated: Ratings) -> None:
    api = as_user("employee_n1")
    _get(api, f"/api/v1/ratings/branches/{rated.network.branches['N1']}?period=2026-03")
    _get(api, f"/api/v1/ratings/branches/{rated.network.branches['N2']}?period=2026-03", 404)
    _get(api, f"/api/v1/ratings/branches/{rated.network.branches['N1']}/audits", 403)
    _get(api, "/api/v1/ratings/network", 403)


def test_manager_and_director_scope(as_user: Any, rated: Ratings) -> None:
    b, r = rated.network.branches, rated.network.regions
    manager = as_user("manager_n1")
    _get(manager, f"/api/v1/ratings/branches/{b['N1']}")
    for path in ("", "/trend", "/standards", "/audits"):
        _get(manager, f"/api/v1/ratings/branches/{b['N2']}{path}", 404)
    director = as_user("director_n")
    _get(director, f"/api/v1/ratings/regions/{r['N']}/standards")
    _get(director, f"/api/v1/ratings/regions/{r['S']}", 404)
    _get(director, f"/api/v1/ratings/regions/{r['S']}/trend", 404)
    _get(director, f"/api/v1/ratings/branches/{b['S1']}", 404)
    shopper = as_user("shopper")
    _get(shopper, f"/api/v1/ratings/branches/{b['N1']}", 403)


def test_audits_behind_a_rating(as_user: Any, rated: Ratings) -> None:
    n1 = rated.network.branches["N1"]
    body = _get(as_user("manager_n1"), f"/api/v1/ratings/branches/{n1}/audits?period=2026-03")
    assert body["total"] == 2
    assert sorted(item["score"] for item in body["items"]) == [67.5, 87.5]
    assert all("shopper" not in str(key) for item in body["items"] for key in item)
    quarter = _get(as_user("admin"), f"/api/v1/ratings/branches/{n1}/audits?period=2026-Q1")
    assert quarter["total"] == 3


def test_weakest_and_divergent_standards(as_user: Any, rated: Ratings) -> None:
    api = as_user("admin")
    body = _get(api, "/api/v1/ratings/network/standards?period=2026-03&limit=3")
    weakest = [(w["clause"], w["n"], w["earned"], w["possible"]) for w in body["weakest"]]
    # greeted (2.1): yes, no, yes, no -> 4 of 8 (0.5); dessert (3.3) "generic" 4 times ->
    # 4 * 0.5 = 2 of 4 (0.5); queue (2.3): 2 + 2 + 2 + 0 = 6 of 8 (0.75). Equal rates: more
    # audits first, then by item id: dessert_offer before greeted.
    assert weakest[:2] == [("3.3", 4, 2.0, 4.0), ("2.1", 4, 4.0, 8.0)]
    assert body["weakest"][1]["text"]["ru"].startswith("Сотрудник поздоровался")
    divergent = body["divergent"][0]
    # greeted: N2 1.0, N1 0.5, S1 0.0 -> gap 1.0 (queue_wait ties at 1.0; greeted sorts first).
    assert (
        divergent["clause"],
        divergent["best_branch"]["code"],
        divergent["worst_branch"]["code"],
    ) == (
        "2.1",
        "N2",
        "S1",
    )
    assert divergent["gap"] == 1.0


def test_trend_and_decline(as_user: Any, app: Flask, rated: Ratings) -> None:
    n1 = rated.network.branches["N1"]
    api = as_user("manager_n1")
    trend = _get(api, f"/api/v1/ratings/branches/{n1}/trend?months=12&until=2026-03")
    assert len(trend["points"]) == 12
    assert trend["points"][-1] == {"month": "2026-03-01", "n": 2, "mean": 77.5, "branches": 1}
    assert trend["points"][-2]["mean"] == 87.5 and trend["points"][0]["n"] == 0
    # March 77.5 vs the February average 87.5: a drop of 10, not more than 10.
    assert trend["decline"] is None
    lowered = _get(
        api, f"/api/v1/ratings/branches/{n1}/trend?months=12&until=2026-03&decline_points=5"
    )
    assert lowered["decline"]["drop"] == 10.0
    alerts = _get(api, "/api/v1/ratings/declines?month=2026-03&decline_points=9.5")
    assert [a["branch"]["code"] for a in alerts["alerts"]] == ["N1"]
    assert _get(api, "/api/v1/ratings/declines?month=2026-03")["alerts"] == []
    network = _get(as_user("admin"), "/api/v1/ratings/network/trend?months=24&until=2026-03")
    assert len(network["points"]) == 24
    assert network["points"][-1]["branches"] == 3
    assert network["points"][-1]["mean"] == pytest.approx(70.8333, abs=1e-3)


def test_comparison_matrix(as_user: Any, rated: Ratings) -> None:
    body = _get(as_user("director_n"), "/api/v1/ratings/matrix?period=2026-03&by=stage")
    assert [row["branch"]["code"] for row in body["rows"]] == ["N1", "N2"]
    assert body["rows"][0]["cells"]["pre_purchase"] == {"n": 2, "mean": 75.0}
    assert "after_sale" in body["columns"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=2026-13", "query.period"),
        ("period=March", "query.period"),
        ("period=2026-06..2026-01", "query.period"),
        ("period=2020-01..2026-01", "query.period"),
        ("channel=fax", "query.channel"),
        ("min_visits=0", "query.min_visits"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(
    as_user: Any, rated: Ratings, query: str, field: str
) -> None:
    response = as_user("admin").get(f"/api/v1/ratings/network?{query}")
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_trend_months_are_12_or_24(as_user: Any, rated: Ratings) -> None:
    response = as_user("admin").get("/api/v1/ratings/network/trend?months=7")
    assert response.status_code == 422
    assert "query.months" in response.get_json()["error"]["fields"]


def test_ratings_are_in_the_openapi_document(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/ratings/rankings/branches" in paths
    assert "/api/v1/ratings/branches/{branch_id}" in paths


def test_decline_window_longer_than_the_series(as_user: Any, rated: Ratings) -> None:
    # A March 2025 visit at 47.5 lies outside a 12-month series ending March 2026, yet inside
    # a 13-month decline window: trailing = (47.5 + 87.5) / 2 = 67.5 < 77.5, so no decline
    # (judging by February alone, 87.5 -> 77.5 would be a drop of 10 > 0).
    audit_at(
        rated, "N1", datetime(2025, 3, 10, 9, 0, tzinfo=UTC), answers(greeted=False, queue_wait=400)
    )
    n1 = rated.network.branches["N1"]
    path = f"/api/v1/ratings/branches/{n1}/trend?months=12&until=2026-03&decline_points=0"
    assert _get(as_user("admin"), f"{path}&decline_window=13")["decline"] is None
    assert _get(as_user("admin"), f"{path}&decline_window=1")["decline"]["drop"] == 10.0


def _json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: ``nullable: true`` becomes a ``null`` type."""
    if isinstance(node, list):
        return [_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") and "type" in node:
        out["type"] = [node["type"], "null"]
    return out


def _documented(client: Any, path: str) -> Any:
    """A JSON Schema validator of the 200 answer of ``GET path`` as the OpenAPI document says."""
    import jsonschema

    document = client.get("/api/v1/openapi.json").get_json()
    response = document["paths"][path]["get"]["responses"]["200"]
    schema = {
        **_json_schema(response["content"]["application/json"]["schema"]),
        "components": _json_schema(document["components"]),
    }
    return jsonschema.Draft202012Validator(schema)


def _leaves(value: Any, path: str = "") -> list[tuple[str, Any, type]]:
    if isinstance(value, dict):
        return [leaf for k, v in sorted(value.items()) for leaf in _leaves(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, f"{path}[{i}]")]
    return [(path, value, type(value))]


@pytest.mark.parametrize("region", [None, "N"])
def test_branch_ranking_json_is_the_documented_schema_dump(
    app: Flask, as_user: Any, client: Any, rated: Ratings, region: str | None
) -> None:
    """The ranking is sent without a marshmallow pass (5,000 entries): its JSON is still what
    the schema would dump (same keys, numbers, types) and valid against the OpenAPI document."""
    import jsonschema

    from auditapp.domain.ratings import month_period
    from auditapp.models import User
    from auditapp.schemas.ratings import BranchRankingSchema
    from auditapp.services import ratings as service

    query = "period=2026-03&per_page=5000"
    region_id = rated.network.regions[region] if region else None
    if region_id is not None:
        query += f"&region_id={region_id}"
    body = _get(as_user("admin"), f"/api/v1/ratings/rankings/branches?{query}")
    assert len(body["entries"]) == (2 if region else 3)
    with app.test_request_context():
        from auditapp.extensions import db

        admin = db.session.get(User, rated.network.users["admin"])
        assert admin is not None
        ranking = service.branch_ranking(
            admin,
            month_period(MARCH.date().replace(day=1)),
            service.Filters(None, None, None, region_id),
            service.Options.from_config(),
            1,
            5000,
        )
        dumped = app.json.loads(app.json.dumps(BranchRankingSchema().dump(ranking)))
    # Same keys, values and JSON types (an int stays an int, a float a float, None null).
    assert _leaves(body) == _leaves(dumped)
    assert body["period"]["first_month"] == "2026-03-01"

    validator = _documented(client, "/api/v1/ratings/rankings/branches")
    validator.validate(body)
    # The validation has teeth: a wrong type in an entry is refused.
    broken = {**body, "entries": [{**body["entries"][0], "rank": "first"}]}
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)


@pytest.mark.parametrize("by", ["section", "stage"])
def test_matrix_json_is_the_documented_schema_dump(
    app: Flask, as_user: Any, client: Any, rated: Ratings, by: str
) -> None:
    """The matrix is sent without a marshmallow pass too: same JSON as the schema's dump, valid
    against the OpenAPI document."""
    import jsonschema

    from auditapp.domain.ratings import month_period
    from auditapp.models import User
    from auditapp.schemas.ratings import MatrixSchema
    from auditapp.services import ratings as service

    body = _get(as_user("admin"), f"/api/v1/ratings/matrix?period=2026-03&by={by}")
    assert len(body["rows"]) == 3 and body["columns"]
    with app.test_request_context():
        from auditapp.extensions import db

        admin = db.session.get(User, rated.network.users["admin"])
        assert admin is not None
        comparison = service.comparison(
            admin,
            month_period(MARCH.date().replace(day=1)),
            service.Filters(),
            by,
            service.Options.from_config(),
        )
        dumped = app.json.loads(app.json.dumps(MatrixSchema().dump(comparison)))
    assert _leaves(body) == _leaves(dumped)
    validator = _documented(client, "/api/v1/ratings/matrix")
    validator.validate(body)
    broken = {**body, "rows": [{**body["rows"][0], "cells": {"x": {"n": "many"}}}]}
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)


def test_previous_ranks_over_a_kept_window_count_ties(
    as_user: Any, app: Flask, network: Network
) -> None:
    """A quarter's previous quarter is a kept window: the previous ranks are counted by the
    database, ties (equal means) compared as the full ranking does."""
    ratings = ratings_fieldwork(network)
    # Q1 2026: N1 87.5 (January), N2 87.5 (February): a tie for first; S1 67.5.
    audit_at(ratings, "N1", datetime(2026, 1, 12, 9, 0, tzinfo=UTC))
    audit_at(ratings, "N2", FEB)
    audit_at(ratings, "S1", MARCH, answers(greeted=False))
    # Q2 2026: S1 87.5 first, then N1 and N2 tied at 67.5.
    april = datetime(2026, 4, 14, 9, 0, tzinfo=UTC)
    audit_at(ratings, "S1", april)
    audit_at(ratings, "N1", april, answers(greeted=False))
    audit_at(ratings, "N2", april, answers(greeted=False))
    api = as_user("admin")
    places = {
        code: _get(
            api, f"/api/v1/ratings/branches/{network.branches[code]}?period=2026-04..2026-06"
        )["places"]
        for code in ("N1", "N2", "S1")
    }
    summary = {
        code: {
            scope: (place["rank"], place["previous_rank"], place["rank_change"])
            for scope, place in by_scope.items()
        }
        for code, by_scope in places.items()
    }
    assert summary == {
        "N1": {"network": (2, 1, -1), "region": (1, 1, 0)},
        "N2": {"network": (2, 1, -1), "region": (1, 1, 0)},
        "S1": {"network": (1, 3, 2), "region": (1, 1, 0)},
    }


def test_network_trend_with_two_checklists_counts_each_branch_once(
    as_user: Any, rated: Ratings
) -> None:
    """With two checklists a branch-month has two roll-up rows: the month's network mean is
    still the mean of branch means (N1's March: its three audits of both checklists)."""
    from auditapp.services import checklists

    second = checklists.import_checklist(
        RATING_CHECKLIST.replace("checklist: coffee-shop-visit", "checklist: coffee-second"),
        "second.yaml",
    )
    other = Ratings(rated.network, second.id, rated.shoppers)
    audit_at(other, "N1", MARCH)  # 87.5, beside N1's 87.5 and 67.5 of the first checklist
    network = _get(as_user("admin"), "/api/v1/ratings/network/trend?months=12&until=2026-03")
    march = network["points"][-1]
    # N1 (87.5 + 67.5 + 87.5) / 3, N2 87.5, S1 47.5: (80.8333 + 87.5 + 47.5) / 3.
    assert (march["branches"], march["n"]) == (3, 5)
    assert march["mean"] == pytest.approx((242.5 / 3 + 87.5 + 47.5) / 3)
    one = _get(
        as_user("admin"),
        "/api/v1/ratings/network/trend?months=12&until=2026-03&checklist=coffee-shop-visit",
    )["points"][-1]
    assert (one["branches"], one["n"], one["mean"]) == (3, 4, pytest.approx(70.8333, abs=1e-3))
