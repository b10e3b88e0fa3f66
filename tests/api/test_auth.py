"""Sign-in, sessions, CSRF, API tokens and the deny-by-default rule."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.support import PASSWORD, ApiClient, Network


def test_login_sets_session_and_me_works(app: Flask, network: Network) -> None:
    api = ApiClient(app.test_client())
    response = api.login("manager_n1")
    assert response.status_code == 200
    body = response.get_json()
    assert body["role"] == "manager"
    assert body["branch_ids"] == [network.branches["N1"]]
    assert "password" not in body and "password_hash" not in body
    assert api.get("/api/v1/auth/me").get_json()["login"] == "manager_n1"


def test_wrong_password_and_unknown_login_look_the_same(app: Flask, network: Network) -> None:
    client = app.test_client()
    wrong = client.post("/api/v1/auth/login", json={"login": "admin", "password": "nope"})
    unknown = client.post("/api/v1/auth/login", json={"login": "ghost", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert wrong.get_json()["error"]["code"] == "bad_credentials"


def test_inactive_user_cannot_sign_in(app: Flask, network: Network, as_user: Any) -> None:
    admin = as_user("admin")
    assert admin.delete(f"/api/v1/users/{network.users['shopper']}").status_code == 200
    response = ApiClient(app.test_client()).login("shopper")
    assert response.status_code == 401


def test_unauthenticated_api_calls_get_json_401(client: Any, network: Network) -> None:
    for path in ("/api/v1/branches", "/api/v1/users", "/api/v1/auth/me", "/api/v1/staff/1"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.get_json()["error"]["code"] == "unauthenticated"


def test_cookie_session_write_without_csrf_is_refused(as_user: Any, network: Network) -> None:
    admin = as_user("admin")
    admin.csrf = None
    response = admin.post("/api/v1/regions", json={"code": "W", "name": "Запад"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"
    admin.csrf = "forged"
    assert admin.post("/api/v1/regions", json={"code": "W", "name": "Запад"}).status_code == 400


def test_api_token_works_without_csrf_and_can_be_revoked(
    app: Flask, as_user: Any, network: Network
) -> None:
    admin = as_user("admin")
    created = admin.post("/api/v1/auth/tokens", json={"name": "import script"})
    assert created.status_code == 201
    token = created.get_json()["token"]
    assert token.startswith("aud_")
    listed = admin.get("/api/v1/auth/tokens").get_json()["items"]
    assert [t["name"] for t in listed] == ["import script"]
    assert "token" not in listed[0]

    script = ApiClient(app.test_client())
    script.token = token
    response = script.post("/api/v1/regions", json={"code": "W", "name": "Запад"})
    assert response.status_code == 201

    assert admin.delete(f"/api/v1/auth/tokens/{created.get_json()['id']}").status_code == 200
    assert script.get("/api/v1/regions").status_code == 401


def test_bad_and_expired_tokens_are_refused(app: Flask, network: Network) -> None:
    client = app.test_client()
    for header in ("Bearer aud_nonsense", "Bearer ", "Basic abc", "aud_x"):
        response = client.get("/api/v1/branches", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_password_change_signs_out_everywhere(as_user: Any, network: Network) -> None:
    manager = as_user("manager_n1")
    admin = as_user("admin")
    response = admin.patch(
        f"/api/v1/users/{network.users['manager_n1']}", json={"password": "another-long-pass"}
    )
    assert response.status_code == 200
    assert manager.get("/api/v1/auth/me").status_code == 401


def test_logout_ends_the_session(as_user: Any) -> None:
    shopper = as_user("shopper")
    assert shopper.post("/api/v1/auth/logout").status_code == 204
    assert shopper.get("/api/v1/auth/me").status_code == 401


def test_login_is_rate_limited(make_app: Any) -> None:
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [
        client.post("/api/v1/auth/login", json={"login": "x", "password": "y"}).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    last = client.post("/api/v1/auth/login", json={"login": "x", "password": "y"})
    assert last.get_json()["error"]["code"] == "rate_limited"


def test_every_api_view_declares_an_access_rule(app: Flask) -> None:
    unmarked = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        and not rule.endpoint.startswith("api-docs.")
        and getattr(app.view_functions[rule.endpoint], "_access", None) is None
    ]
    assert unmarked == []


def test_password_is_stored_as_argon2(app: Flask, network: Network) -> None:
    from auditapp.extensions import db
    from auditapp.models import User

    user = db.session.get(User, network.users["admin"])
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
