"""The branch ranking's page may hold a whole network (5,000): the ranking screen reads it in
one request, as every page ranks every branch again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask

from tests.support import Network, answers, audit_at, ratings_fieldwork

MARCH = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def test_a_page_of_up_to_5000_branches(app: Flask, network: Network, as_user: Any) -> None:
    ratings = ratings_fieldwork(network)
    audit_at(ratings, "N1", MARCH)
    audit_at(ratings, "N2", MARCH, answers(greeted=False))
    audit_at(ratings, "S1", MARCH, answers(greeted=False, queue_wait=400))
    api = as_user("admin")
    whole = api.get("/api/v1/ratings/rankings/branches?period=2026-03&per_page=5000")
    assert whole.status_code == 200, whole.get_json()
    body = whole.get_json()
    assert (body["per_page"], body["total"]) == (5000, 3)
    assert [e["branch"]["code"] for e in body["entries"]] == ["N1", "N2", "S1"]
    too_many = api.get("/api/v1/ratings/rankings/branches?period=2026-03&per_page=5001")
    assert too_many.status_code == 422
    assert "query.per_page" in too_many.get_json()["error"]["fields"]
    # Other lists keep their page of at most 500.
    n1 = network.branches["N1"]
    other = api.get(f"/api/v1/ratings/branches/{n1}/audits?period=2026-03&per_page=501")
    assert other.status_code == 422
