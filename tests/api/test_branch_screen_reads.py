"""The two reads the branch screens added: a branch's disputes (``GET /disputes`` for managers
and directors, scoped, with ``status`` and ``branch_id``) and the sheets of one branch
(``GET /attestation/periods/{id}/sheets?branch_id=``).

Fixture: released audits at N1 (two) and S1 (one) in March 2026; the manager of N1 disputes
both N1 audits' ``greeted`` and the reviewer rejects the first dispute; the manager of S1
disputes the S1 audit. So N1 has one open and one rejected dispute, S1 one open.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from tests.support import Network, Ratings, audit_at, ratings_fieldwork, version_of

MARCH = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


class Disputed:
    """Ids of what the fixture made."""

    def __init__(self, ratings: Ratings, n1: list[int], s1: int, disputes: dict[str, int]):
        self.ratings = ratings
        self.network = ratings.network
        self.n1 = n1
        self.s1 = s1
        self.disputes = disputes


def _dispute(ratings: Ratings, manager: str, audit_id: int) -> int:
    from auditapp.services import audits

    return audits.raise_dispute(
        ratings.user(manager),
        audit_id,
        audits.Claim(
            item_id="greeted", reason="Гостя поприветствовали", version=version_of(audit_id)
        ),
    ).id


@pytest.fixture
def disputed(app: Flask, network: Network) -> Disputed:
    from auditapp.services import audits

    ratings = ratings_fieldwork(network)
    n1 = [audit_at(ratings, "N1", MARCH), audit_at(ratings, "N1", MARCH)]
    s1 = audit_at(ratings, "S1", MARCH)
    made = {
        "n1_rejected": _dispute(ratings, "manager_n1", n1[0]),
        "n1_open": _dispute(ratings, "manager_n1", n1[1]),
        "s1_open": _dispute(ratings, "manager_s1", s1),
    }
    audits.resolve_dispute(
        ratings.user("reviewer"),
        made["n1_rejected"],
        audits.Ruling(uphold=False, reason="Фото не подтверждает", version=version_of(n1[0])),
    )
    return Disputed(ratings, n1, s1, made)


def _ids(api: Any, query: str = "") -> list[int]:
    response = api.get(f"/api/v1/disputes{query}")
    assert response.status_code == 200, response.get_json()
    return [d["id"] for d in response.get_json()["items"]]


def test_hq_still_gets_open_disputes_by_default(as_user: Any, disputed: Disputed) -> None:
    assert _ids(as_user("reviewer")) == [disputed.disputes["n1_open"], disputed.disputes["s1_open"]]
    assert _ids(as_user("admin"), "?status=rejected") == [disputed.disputes["n1_rejected"]]


def test_a_manager_follows_their_branch_disputes_only(as_user: Any, disputed: Disputed) -> None:
    d = disputed.disputes
    manager = as_user("manager_n1")
    assert _ids(manager) == [d["n1_open"]]
    assert _ids(manager, "?status=any") == [d["n1_rejected"], d["n1_open"]]
    items = manager.get("/api/v1/disputes?status=any").get_json()["items"]
    assert [(i["status"], i["resolution"]) for i in items] == [
        ("rejected", "Фото не подтверждает"),
        ("open", ""),
    ]
    # Another branch, by filter: nothing (scope first, then the filter).
    s1 = disputed.network.branches["S1"]
    assert _ids(manager, f"?status=any&branch_id={s1}") == []
    assert _ids(as_user("manager_s1"), "?status=any") == [d["s1_open"]]


def test_a_director_sees_their_regions_disputes(as_user: Any, disputed: Disputed) -> None:
    d = disputed.disputes
    director = as_user("director_n")
    assert _ids(director, "?status=any") == [d["n1_rejected"], d["n1_open"]]
    n1 = disputed.network.branches["N1"]
    assert _ids(as_user("admin"), f"?status=any&branch_id={n1}") == [
        d["n1_rejected"],
        d["n1_open"],
    ]


def test_dispute_list_refusals(as_user: Any, disputed: Disputed) -> None:
    for login in ("employee_n1", "shopper"):
        assert as_user(login).get("/api/v1/disputes").status_code == 403
    response = as_user("manager_n1").get("/api/v1/disputes?status=closed")
    assert response.status_code == 422
    assert "query.status" in response.get_json()["error"]["fields"]


@pytest.fixture
def period(app: Flask, network: Network, as_user: Any) -> int:
    admin = as_user("admin")
    rule_set = admin.post(
        "/api/v1/attestation/rule-sets",
        json={
            "code": "staff",
            "name": "Аттестация",
            "rules": {
                "weights": {"individual": 50, "collective": 30, "internal": 20},
                "min_external_share": 60,
                "min_audits": 3,
            },
        },
    ).get_json()
    created = admin.post(
        "/api/v1/attestation/periods",
        json={"name": "2026", "rule_set_id": rule_set["id"], "year": 2026},
    )
    assert created.status_code == 201, created.get_json()
    return int(created.get_json()["id"])


def _codes(api: Any, period: int, query: str = "") -> list[str]:
    response = api.get(f"/api/v1/attestation/periods/{period}/sheets{query}")
    assert response.status_code == 200, response.get_json()
    return [s["staff_member"]["employee_code"] for s in response.get_json()["items"]]


def test_sheets_of_one_branch(as_user: Any, network: Network, period: int) -> None:
    admin = as_user("admin")
    n1, n2, s1 = (network.branches[c] for c in ("N1", "N2", "S1"))
    assert _codes(admin, period) == ["E-N1-a", "E-N1-b", "E-N2-a", "E-S1-a", "E-S2-a"]
    assert _codes(admin, period, f"?branch_id={n1}") == ["E-N1-a", "E-N1-b"]
    assert _codes(admin, period, f"?branch_id={s1}") == ["E-S1-a"]
    director = as_user("director_n")
    assert _codes(director, period, f"?branch_id={n2}") == ["E-N2-a"]
    # The filter narrows the caller's scope, never widens it.
    assert _codes(director, period, f"?branch_id={s1}") == []
    assert _codes(as_user("manager_n1"), period, f"?branch_id={n2}") == []
    bad = admin.get(f"/api/v1/attestation/periods/{period}/sheets?branch_id=x")
    assert bad.status_code == 422 and "query.branch_id" in bad.get_json()["error"]["fields"]
