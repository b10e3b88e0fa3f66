"""Numbers too large for the database are bad input (404 or 422), never a 500."""

from __future__ import annotations

from typing import Any

HUGE = 10**20


def test_huge_ids_in_urls_are_not_found(as_user: Any, network: Any) -> None:
    admin = as_user("admin")
    for path in (
        f"/api/v1/branches/{HUGE}",
        f"/api/v1/users/{HUGE}",
        f"/api/v1/audits/{HUGE}",
        f"/api/v1/photos/{HUGE}/display",
    ):
        response = admin.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"


def test_huge_numbers_in_bodies_and_queries_are_422(as_user: Any, network: Any) -> None:
    admin = as_user("admin")
    created = admin.post(
        "/api/v1/branches",
        json={
            "region_id": HUGE,
            "code": "X1",
            "name": "n",
            "kind": "store",
            "city": "c",
        },
    )
    assert created.status_code == 422
    assert "region_id" in created.get_json()["error"]["fields"]
    listed = admin.get(f"/api/v1/branches?region_id={HUGE}")
    assert listed.status_code == 422
    user = admin.post(
        "/api/v1/users",
        json={
            "login": "zz1",
            "display_name": "x",
            "role": "manager",
            "password": "long-enough-pass",
            "branch_ids": [HUGE],
        },
    )
    assert user.status_code == 422
    assert admin.get(f"/api/v1/branches?page={HUGE}").status_code == 422


def test_nul_characters_and_overlong_email_name_the_field(as_user: Any, network: Any) -> None:
    admin = as_user("admin")
    response = admin.post("/api/v1/regions", json={"code": "W", "name": "За\x00пад"})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["name"]
    response = admin.post(
        "/api/v1/users",
        json={
            "login": "zz1",
            "display_name": "x",
            "role": "shopper",
            "password": "long-enough-pass",
            "email": "a" * 250 + "@example.ru",
        },
    )
    assert response.status_code == 422
    assert "email" in response.get_json()["error"]["fields"]
