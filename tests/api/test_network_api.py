"""CRUD of regions, branches, staff and users, and the scope each role sees."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Network

ALL_ROLES_USERS = ("admin", "reviewer", "director_n", "manager_n1", "shopper", "employee_n1")


def _codes(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["code"] for item in response.get_json()["items"]]


# What each fixture user may list: the scope rules, written out by hand.
EXPECTED_BRANCHES = {
    "admin": ["N1", "N2", "S1", "S2"],
    "reviewer": ["N1", "N2", "S1", "S2"],
    "director_n": ["N1", "N2"],
    "manager_n1": ["N1"],
    "manager_s1": ["S1"],
}
EXPECTED_REGIONS = {
    "admin": ["N", "S"],
    "reviewer": ["N", "S"],
    "director_n": ["N"],
    "manager_n1": ["N"],
    "manager_s1": ["S"],
}
EXPECTED_STAFF = {
    "admin": {"E-N1-a", "E-N1-b", "E-N2-a", "E-S1-a", "E-S2-a"},
    "reviewer": {"E-N1-a", "E-N1-b", "E-N2-a", "E-S1-a", "E-S2-a"},
    "director_n": {"E-N1-a", "E-N1-b", "E-N2-a"},
    "manager_n1": {"E-N1-a", "E-N1-b"},
    "manager_s1": {"E-S1-a"},
}


@pytest.mark.parametrize("login", sorted(EXPECTED_BRANCHES))
def test_scoped_lists(as_user: Any, network: Network, login: str) -> None:
    api = as_user(login)
    assert _codes(api.get("/api/v1/branches")) == EXPECTED_BRANCHES[login]
    assert _codes(api.get("/api/v1/regions")) == EXPECTED_REGIONS[login]
    staff = api.get("/api/v1/staff?per_page=500").get_json()["items"]
    assert {s["employee_code"] for s in staff} == EXPECTED_STAFF[login]


@pytest.mark.parametrize("login", sorted(EXPECTED_BRANCHES))
def test_fetch_by_id_follows_scope(as_user: Any, network: Network, login: str) -> None:
    api = as_user(login)
    for code, branch_id in network.branches.items():
        status = api.get(f"/api/v1/branches/{branch_id}").status_code
        assert status == (200 if code in EXPECTED_BRANCHES[login] else 404), (code, status)
    for code, region_id in network.regions.items():
        status = api.get(f"/api/v1/regions/{region_id}").status_code
        assert status == (200 if code in EXPECTED_REGIONS[login] else 404), (code, status)
    for code, staff_id in network.staff.items():
        status = api.get(f"/api/v1/staff/{staff_id}").status_code
        assert status == (200 if code in EXPECTED_STAFF[login] else 404), (code, status)


def test_filters_never_widen_scope(as_user: Any, network: Network) -> None:
    manager = as_user("manager_n1")
    other_region = network.regions["S"]
    assert _codes(manager.get(f"/api/v1/branches?region_id={other_region}")) == []
    assert _codes(manager.get("/api/v1/branches?q=S")) == []
    staff = manager.get(f"/api/v1/staff?branch_id={network.branches['S1']}").get_json()
    assert staff["items"] == [] and staff["total"] == 0


@pytest.mark.parametrize("login", ["shopper", "employee_n1"])
def test_shoppers_and_employees_see_no_network_lists(as_user: Any, login: str) -> None:
    api = as_user(login)
    for path in ("/api/v1/branches", "/api/v1/regions", "/api/v1/staff", "/api/v1/users"):
        assert api.get(path).status_code == 403, path


def test_employee_sees_only_own_staff_record(as_user: Any, network: Network) -> None:
    employee = as_user("employee_n1")
    assert employee.get(f"/api/v1/staff/{network.staff['E-N1-a']}").status_code == 200
    assert employee.get(f"/api/v1/staff/{network.staff['E-N1-b']}").status_code == 404


@pytest.mark.parametrize("login", [u for u in ALL_ROLES_USERS if u != "admin"])
def test_only_admin_writes(as_user: Any, network: Network, login: str) -> None:
    api = as_user(login)
    branch = network.branches["N1"]
    calls = [
        ("POST", "/api/v1/regions", {"code": "W", "name": "Запад"}),
        ("PATCH", f"/api/v1/regions/{network.regions['N']}", {"name": "x"}),
        ("DELETE", f"/api/v1/regions/{network.regions['N']}", None),
        ("POST", "/api/v1/branches", {"code": "X"}),
        ("PATCH", f"/api/v1/branches/{branch}", {"name": "x"}),
        ("DELETE", f"/api/v1/branches/{branch}", None),
        ("POST", "/api/v1/branches/import", None),
        ("POST", "/api/v1/staff", {"employee_code": "Z"}),
        ("PATCH", f"/api/v1/staff/{network.staff['E-N1-a']}", {"full_name": "x"}),
        ("POST", f"/api/v1/staff/{network.staff['E-N1-a']}/move", {"branch_id": branch}),
        ("POST", "/api/v1/staff/import", None),
        ("GET", "/api/v1/users", None),
        ("POST", "/api/v1/users", {"login": "zz"}),
        ("GET", f"/api/v1/users/{network.users['admin']}", None),
        ("PATCH", f"/api/v1/users/{network.users['admin']}", {"role": "shopper"}),
        ("DELETE", f"/api/v1/users/{network.users['admin']}", None),
    ]
    for method, path, body in calls:
        response = api.open(method, path, json=body)
        assert response.status_code == 403, (method, path, response.status_code)


def test_admin_crud_branch(as_user: Any, network: Network) -> None:
    admin = as_user("admin")
    created = admin.post(
        "/api/v1/branches",
        json={
            "region_id": network.regions["S"],
            "code": "S3",
            "name": "Отель «Юг»",
            "kind": "hotel",
            "city": "Анапа",
            "timezone": "Europe/Moscow",
        },
    )
    assert created.status_code == 201, created.get_json()
    branch = created.get_json()
    assert branch["region_code"] == "S" and branch["active"] is True
    duplicate = admin.post(
        "/api/v1/branches",
        json={
            "region_id": network.regions["S"],
            "code": "S3",
            "name": "x",
            "kind": "hotel",
            "city": "x",
        },
    )
    assert duplicate.status_code == 409
    patched = admin.patch(f"/api/v1/branches/{branch['id']}", json={"active": False})
    assert patched.get_json()["active"] is False
    assert "S3" in _codes(admin.get("/api/v1/branches?active=false"))
    assert admin.delete(f"/api/v1/branches/{branch['id']}").status_code == 204
    assert admin.get(f"/api/v1/branches/{branch['id']}").status_code == 404


def test_branch_with_staff_cannot_be_deleted(as_user: Any, network: Network) -> None:
    admin = as_user("admin")
    response = admin.delete(f"/api/v1/branches/{network.branches['N1']}")
    assert response.status_code == 409
    assert admin.get(f"/api/v1/branches/{network.branches['N1']}").status_code == 200


def test_region_with_branches_cannot_be_deleted(as_user: Any, network: Network) -> None:
    admin = as_user("admin")
    assert admin.delete(f"/api/v1/regions/{network.regions['N']}").status_code == 409
    empty = admin.post("/api/v1/regions", json={"code": "E", "name": "Восток"}).get_json()
    assert admin.delete(f"/api/v1/regions/{empty['id']}").status_code == 204


def test_staff_move_keeps_history_and_changes_scope(as_user: Any, network: Network) -> None:
    admin = as_user("admin")
    staff_id = network.staff["E-N1-a"]
    moved = admin.post(
        f"/api/v1/staff/{staff_id}/move",
        json={"branch_id": network.branches["S1"], "on": "2025-03-01"},
    )
    assert moved.status_code == 200, moved.get_json()
    body = moved.get_json()
    assert body["current_branch_id"] == network.branches["S1"]
    assert [(p["branch_code"], p["started_on"], p["ended_on"]) for p in body["placements"]] == [
        ("N1", "2024-01-10", "2025-02-28"),
        ("S1", "2025-03-01", None),
    ]
    # The manager of S1 now sees them; N1's manager still sees them through the history.
    assert as_user("manager_s1").get(f"/api/v1/staff/{staff_id}").status_code == 200
    current_n1 = (
        as_user("manager_n1").get(f"/api/v1/staff?branch_id={network.branches['N1']}").get_json()
    )
    assert [s["employee_code"] for s in current_n1["items"]] == ["E-N1-b"]
    backwards = admin.post(
        f"/api/v1/staff/{staff_id}/move",
        json={"branch_id": network.branches["N1"], "on": "2025-01-01"},
    )
    assert backwards.status_code == 422
    assert "on" in backwards.get_json()["error"]["fields"]


def test_user_roles_need_their_scope(as_user: Any, network: Network) -> None:
    admin = as_user("admin")
    base = {"display_name": "Новый", "password": "long-enough-pass"}
    manager = admin.post("/api/v1/users", json={**base, "login": "m2", "role": "manager"})
    assert manager.status_code == 422
    assert "branch_ids" in manager.get_json()["error"]["fields"]
    ok = admin.post(
        "/api/v1/users",
        json={**base, "login": "m2", "role": "manager", "branch_ids": [network.branches["S2"]]},
    )
    assert ok.status_code == 201
    assert ok.get_json()["branch_ids"] == [network.branches["S2"]]
    assert "password" not in ok.get_json()
    short = admin.post(
        "/api/v1/users", json={**base, "login": "m3", "role": "shopper", "password": "short"}
    )
    assert "password" in short.get_json()["error"]["fields"]
    taken = admin.post("/api/v1/users", json={**base, "login": "m2", "role": "shopper"})
    assert taken.status_code == 409


def test_pagination(as_user: Any, network: Network) -> None:
    admin = as_user("admin")
    page = admin.get("/api/v1/branches?per_page=3&page=2").get_json()
    assert page["total"] == 4 and page["page"] == 2 and len(page["items"]) == 1
    assert admin.get("/api/v1/branches?per_page=0").status_code == 422
