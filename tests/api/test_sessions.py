"""Sessions end when they should, sign-in is throttled across workers, tokens expire (issue 13).

Items 5 to 8 and 11 of issue 13: sign-out revokes on the server (cookie and remember-me),
sessions have an absolute lifetime, the remember-me cookie is Secure with the session cookie,
failed sign-ins are counted in the database (so two app instances share the limit), API tokens
always expire, and users change their own password.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from auditapp import clock as clock_module
from auditapp.clock import SystemClock
from tests.support import PASSWORD, ApiClient, Network

NEW_PASSWORD = "new-long-password-42"


def _cookie(api: ApiClient, name: str) -> str:
    cookie = api.client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def _client_with(app: Flask, **cookies: str) -> ApiClient:
    """A fresh browser that has only the given cookies (as an attacker who copied them)."""
    api = ApiClient(app.test_client())
    for name, value in cookies.items():
        api.client.set_cookie(name, value)
    return api


def _login(app: Flask, login: str, remember: bool = False, **kwargs: Any) -> ApiClient:
    api = ApiClient(app.test_client())
    response = api.client.post(
        "/api/v1/auth/login",
        json={"login": login, "password": PASSWORD, "remember": remember},
        **kwargs,
    )
    assert response.status_code == 200, response.get_json()
    api.csrf = response.get_json()["csrf_token"]
    return api


class _Clock:
    """The wall clock every app reads (``auditapp.clock``), moved forward as time passing would.

    ``modules`` names what the test is about; the shift applies to every app of the test, as
    all of them read the one system clock when none is installed.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
        self.offset = timedelta()
        shifted = self

        class Shifted(SystemClock):
            def now(self) -> datetime:
                return super().now() + shifted.offset

        monkeypatch.setattr(clock_module, "SYSTEM_CLOCK", Shifted())

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


# 5. Sign-out, lifetimes ------------------------------------------------------------------


def test_a_cookie_saved_before_logout_no_longer_works(app: Flask, network: Network) -> None:
    api = _login(app, "manager_n1")
    saved = _cookie(api, "session")
    assert _client_with(app, session=saved).get("/api/v1/auth/me").status_code == 200
    assert api.post("/api/v1/auth/logout").status_code == 204
    assert _client_with(app, session=saved).get("/api/v1/auth/me").status_code == 401


def test_logout_revokes_the_remember_me_cookie(app: Flask, network: Network) -> None:
    api = _login(app, "shopper", remember=True)
    remember = _cookie(api, "remember_token")
    # The remember-me cookie alone signs a browser in (so the check below can fail).
    assert _client_with(app, remember_token=remember).get("/api/v1/auth/me").status_code == 200
    assert api.post("/api/v1/auth/logout").status_code == 204
    stale = _client_with(app, remember_token=remember)
    assert stale.get("/api/v1/auth/me").status_code == 401


def test_a_session_ends_after_its_absolute_lifetime(
    app: Flask, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock(monkeypatch, "auditapp.auth")
    api = _login(app, "director_n")
    clock.advance(hours=11, minutes=50)
    assert api.get("/api/v1/auth/me").status_code == 200
    clock.advance(minutes=11)  # 12 h 01 min after sign-in, however active the user was
    assert api.get("/api/v1/auth/me").status_code == 401


def test_remember_me_lasts_thirty_days_and_no_longer(
    app: Flask, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock(monkeypatch, "auditapp.auth")
    remember = _cookie(_login(app, "reviewer", remember=True), "remember_token")
    clock.advance(days=29)
    assert _client_with(app, remember_token=remember).get("/api/v1/auth/me").status_code == 200
    clock.advance(days=1, minutes=1)
    assert _client_with(app, remember_token=remember).get("/api/v1/auth/me").status_code == 401


def test_lifetimes_are_configurable(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support import build_network

    app = make_app(SESSION_LIFETIME_HOURS=1)
    with app.app_context():
        build_network()
    clock = _Clock(monkeypatch, "auditapp.auth")
    api = _login(app, "admin")
    clock.advance(minutes=61)
    assert api.get("/api/v1/auth/me").status_code == 401


def test_a_forged_or_old_style_session_value_is_refused(app: Flask, network: Network) -> None:
    """Only tickets the app signed work; the pre-ticket ``id:generation`` value is refused."""
    from auditapp.auth import SessionTicket

    assert SessionTicket.decode(f"{network.users['admin']}:1") is None
    assert SessionTicket.decode("1:1:1:x") is None
    assert SessionTicket.decode("1:1:1:") is None
    assert SessionTicket.decode("1:1:17:r") == SessionTicket(1, 1, 17, True)


# 6. Secure remember-me cookie ------------------------------------------------------------


def _set_cookie_header(response: Any, name: str) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert headers, f"{name} was not set"
    return headers[-1]


def test_remember_cookie_is_secure_with_the_session_cookie(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support import build_network

    monkeypatch.setenv("AUDITAPP_SESSION_COOKIE_SECURE", "true")
    app = make_app()
    with app.app_context():
        build_network()
    response = app.test_client().post(
        "/api/v1/auth/login", json={"login": "admin", "password": PASSWORD, "remember": True}
    )
    assert response.status_code == 200
    assert "; Secure" in _set_cookie_header(response, "remember_token")
    assert "; Secure" in _set_cookie_header(response, "session")


def test_remember_cookie_is_not_secure_on_plain_http_setups(app: Flask, network: Network) -> None:
    response = app.test_client().post(
        "/api/v1/auth/login", json={"login": "admin", "password": PASSWORD, "remember": True}
    )
    header = _set_cookie_header(response, "remember_token")
    assert "; Secure" not in header
    assert "HttpOnly" in header


# 7. Throttling -------------------------------------------------------------------------


def _attempt(app: Flask, login: str, password: str, address: str = "198.51.100.7") -> Any:
    return app.test_client().post(
        "/api/v1/auth/login",
        json={"login": login, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_failed_logins_lock_the_pair_across_two_app_instances(
    app: Flask, network: Network, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers on one database: failures on either count toward one limit."""
    second = make_app()
    clock = _Clock(monkeypatch, "auditapp.services.auth")
    codes = [
        _attempt(app if n % 2 else second, "manager_n1", "wrong-password").status_code
        for n in range(5)
    ]
    assert codes == [401] * 5
    for worker in (app, second):
        locked = _attempt(worker, "manager_n1", PASSWORD)  # even the right password waits
        assert locked.status_code == 429
        assert locked.get_json()["error"]["code"] == "rate_limited"
        assert 1 <= int(locked.headers["Retry-After"]) <= 30
    # The real user, elsewhere, is not locked out by someone guessing from one address.
    assert _attempt(second, "manager_n1", PASSWORD, address="203.0.113.9").status_code == 200
    # The lock is short, and grows with each further failure.
    clock.advance(seconds=31)
    assert _attempt(app, "manager_n1", "wrong-again").status_code == 401
    again = _attempt(second, "manager_n1", PASSWORD)
    assert again.status_code == 429
    assert 30 < int(again.headers["Retry-After"]) <= 60
    clock.advance(seconds=61)
    assert _attempt(app, "manager_n1", PASSWORD).status_code == 200


def test_concurrent_failures_on_two_workers_are_all_counted(make_app: Any) -> None:
    """Failures racing on two app instances are each counted (no lost read-modify-write)."""
    import threading

    from sqlalchemy import select

    from auditapp.extensions import db
    from auditapp.models import LoginThrottle

    generous = {"pair_free": 1000, "account_failures": 1000, "address_failures": 1000}
    workers = [make_app(LOGIN_THROTTLE=generous), make_app(LOGIN_THROTTLE=generous)]
    codes: list[int] = []

    def hammer(worker: Flask) -> None:
        for _ in range(6):
            codes.append(_attempt(worker, "ghost", "wrong-password").status_code)

    threads = [threading.Thread(target=hammer, args=(w,)) for w in workers * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [401] * 24
    with workers[0].app_context():
        counts = db.session.execute(select(LoginThrottle.scope, LoginThrottle.failures)).all()
    assert sorted(counts) == [("account", 24), ("address", 24), ("pair", 24)]


def test_waiting_an_hour_between_guesses_buys_no_fresh_free_ones(
    app: Flask, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock(monkeypatch, "auditapp.services.auth")
    assert [_attempt(app, "admin", "guess").status_code for _ in range(5)] == [401] * 5
    clock.advance(minutes=59)
    assert _attempt(app, "admin", "guess").status_code == 401
    clock.advance(minutes=59)  # two hours after the first failure, one after the last
    assert _attempt(app, "admin", "guess").status_code == 401
    assert _attempt(app, "admin", PASSWORD).status_code == 429
    # Only an hour without any failure starts the count afresh.
    clock.advance(minutes=61)
    assert [_attempt(app, "admin", "guess").status_code for _ in range(4)] == [401] * 4
    assert _attempt(app, "admin", PASSWORD).status_code == 200


def test_unknown_logins_are_throttled_like_real_ones(app: Flask, network: Network) -> None:
    codes = [_attempt(app, "ghost", "whatever-it-is").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]


def test_per_account_cap_holds_across_addresses_for_a_short_window(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support import build_network

    app = make_app(LOGIN_THROTTLE={"account_failures": 4, "account_window_seconds": 120})
    with app.app_context():
        build_network()
    clock = _Clock(monkeypatch, "auditapp.services.auth")
    for n in range(4):
        assert _attempt(app, "admin", "botnet-guess", f"192.0.2.{n + 1}").status_code == 401
    assert _attempt(app, "admin", PASSWORD, "192.0.2.200").status_code == 429
    assert _attempt(app, "reviewer", PASSWORD, "192.0.2.200").status_code == 200
    clock.advance(seconds=121)
    assert _attempt(app, "admin", PASSWORD, "192.0.2.200").status_code == 200


def test_per_address_cap_stops_password_spraying(make_app: Any) -> None:
    from tests.support import build_network

    app = make_app(LOGIN_THROTTLE={"address_failures": 3})
    with app.app_context():
        build_network()
    for login in ("admin", "reviewer", "shopper"):
        assert _attempt(app, login, "Password123!", "192.0.2.66").status_code == 401
    assert _attempt(app, "shopper2", PASSWORD, "192.0.2.66").status_code == 429
    assert _attempt(app, "shopper2", PASSWORD, "192.0.2.67").status_code == 200


def test_forwarded_for_is_ignored_without_a_declared_proxy(app: Flask, network: Network) -> None:
    for n in range(5):
        response = app.test_client().post(
            "/api/v1/auth/login",
            json={"login": "admin", "password": "wrong-password"},
            headers={"X-Forwarded-For": f"10.9.9.{n}"},
        )
        assert response.status_code == 401
    forged = app.test_client().post(
        "/api/v1/auth/login",
        json={"login": "admin", "password": PASSWORD},
        headers={"X-Forwarded-For": "10.9.9.99"},
    )
    assert forged.status_code == 429


def test_behind_one_proxy_the_client_address_counts(make_app: Any) -> None:
    from tests.support import build_network

    app = make_app(PROXY_COUNT=1)
    with app.app_context():
        build_network()

    def through_proxy(password: str, forwarded: str) -> int:
        return (
            app.test_client()
            .post(
                "/api/v1/auth/login",
                json={"login": "admin", "password": password},
                headers={"X-Forwarded-For": forwarded},
                environ_base={"REMOTE_ADDR": "10.0.0.1"},  # nginx
            )
            .status_code
        )

    # The client prepends forged addresses; only the one nginx appended is believed.
    for n in range(5):
        assert through_proxy("wrong-password", f"1.1.1.{n}, 203.0.113.5") == 401
    assert through_proxy(PASSWORD, "8.8.8.8, 203.0.113.5") == 429
    # Everyone else behind the same proxy still signs in.
    assert through_proxy(PASSWORD, "203.0.113.6") == 200


def test_limiter_uses_redis_when_configured(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """AUDITAPP_RATELIMIT_STORAGE_URI=redis://... keeps Flask-Limiter's counters in Redis."""
    redis = pytest.importorskip("redis")
    server = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        server.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"test-{uuid.uuid4().hex}"
    monkeypatch.setenv("AUDITAPP_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/15")
    app = make_app(
        RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute", RATELIMIT_KEY_PREFIX=prefix
    )
    try:
        codes = [_attempt(app, f"nobody{n}", "x").status_code for n in range(3)]
        assert codes == [401, 401, 429]
        assert server.keys(f"*{prefix}*"), "no counter was written to Redis"
    finally:
        for key in server.keys(f"*{prefix}*"):
            server.delete(key)
        server.close()


# 8. API tokens always expire --------------------------------------------------------------


def test_token_without_expiry_gets_the_maximum(as_user: Any, network: Network) -> None:
    admin = as_user("admin")
    before = datetime.now(UTC)
    created = admin.post("/api/v1/auth/tokens", json={"name": "cron", "expires_in_days": None})
    assert created.status_code == 201, created.get_json()
    expires = datetime.fromisoformat(created.get_json()["expires_at"])
    assert before + timedelta(days=90) <= expires <= datetime.now(UTC) + timedelta(days=90)


def test_token_longer_than_the_maximum_is_refused(make_app: Any) -> None:
    from tests.support import build_network

    app = make_app(API_TOKEN_MAX_DAYS=30)
    with app.app_context():
        build_network()
    admin = _login(app, "admin")
    refused = admin.post("/api/v1/auth/tokens", json={"name": "x", "expires_in_days": 31})
    assert refused.status_code == 422
    assert "expires_in_days" in refused.get_json()["error"]["fields"]
    default = admin.post("/api/v1/auth/tokens", json={"name": "y"}).get_json()
    expires = datetime.fromisoformat(default["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)


def test_an_old_token_stored_without_expiry_stops_at_the_maximum(
    app: Flask, as_user: Any, network: Network
) -> None:
    from auditapp.extensions import db
    from auditapp.models import ApiToken

    token = as_user("admin").post("/api/v1/auth/tokens", json={"name": "old"}).get_json()
    stored = db.session.get(ApiToken, token["id"])
    assert stored is not None
    stored.expires_at = None  # as tokens made before the cap were stored
    stored.created_at = datetime.now(UTC) - timedelta(days=91)
    db.session.commit()
    script = ApiClient(app.test_client())
    script.token = token["token"]
    assert script.get("/api/v1/auth/me").status_code == 401
    stored.created_at = datetime.now(UTC) - timedelta(days=89)
    db.session.commit()
    assert script.get("/api/v1/auth/me").status_code == 200


# 11. A user's own password change ----------------------------------------------------------


def test_own_password_change_ends_other_sessions_and_keeps_this_one(
    app: Flask, network: Network
) -> None:
    here = _login(app, "manager_n1", remember=True)
    other = _login(app, "manager_n1")
    other_remember = _cookie(_login(app, "manager_n1", remember=True), "remember_token")
    token = other.post("/api/v1/auth/tokens", json={"name": "script"}).get_json()["token"]

    changed = here.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["login"] == "manager_n1"
    assert here.get("/api/v1/auth/me").status_code == 200
    # This browser's new remember-me cookie works; the other browsers' ones do not.
    mine = _cookie(here, "remember_token")
    assert _client_with(app, remember_token=mine).get("/api/v1/auth/me").status_code == 200
    assert other.get("/api/v1/auth/me").status_code == 401
    assert _client_with(app, remember_token=other_remember).get("/api/v1/auth/me").status_code == (
        401
    )
    script = ApiClient(app.test_client())
    script.token = token
    assert script.get("/api/v1/auth/me").status_code == 401
    assert ApiClient(app.test_client()).login("manager_n1").status_code == 401
    assert ApiClient(app.test_client()).login("manager_n1", NEW_PASSWORD).status_code == 200


def test_own_password_change_keeps_the_session_lifetime(
    app: Flask, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock(monkeypatch, "auditapp.auth")
    api = _login(app, "shopper")
    clock.advance(hours=11)
    response = api.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 200
    clock.advance(hours=1, minutes=1)
    assert api.get("/api/v1/auth/me").status_code == 401


def test_own_password_change_with_a_token_keeps_that_token(
    app: Flask, as_user: Any, network: Network
) -> None:
    admin = as_user("admin")
    kept = admin.post("/api/v1/auth/tokens", json={"name": "kept"}).get_json()["token"]
    other = admin.post("/api/v1/auth/tokens", json={"name": "other"}).get_json()["token"]
    script = ApiClient(app.test_client())
    script.token = kept
    response = script.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 200, response.get_json()
    assert script.get("/api/v1/auth/me").status_code == 200
    script.token = other
    assert script.get("/api/v1/auth/me").status_code == 401
    assert admin.get("/api/v1/auth/me").status_code == 401


def test_own_password_change_rules(app: Flask, network: Network) -> None:
    api = _login(app, "employee_n1")
    url = "/api/v1/auth/password"
    wrong = api.post(url, json={"current_password": "nope", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 422
    assert list(wrong.get_json()["error"]["fields"]) == ["current_password"]
    short = api.post(url, json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422
    assert "new_password" in short.get_json()["error"]["fields"]
    same = api.post(url, json={"current_password": PASSWORD, "new_password": PASSWORD})
    assert same.status_code == 422
    assert "new_password" in same.get_json()["error"]["fields"]
    missing = api.post(url, json={"new_password": NEW_PASSWORD})
    assert missing.status_code == 422
    assert "current_password" in missing.get_json()["error"]["fields"]
    api.csrf = None
    no_csrf = api.post(url, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert no_csrf.status_code == 400
    anonymous = app.test_client().post(
        url, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert anonymous.status_code == 401


def test_wrong_current_passwords_are_throttled_like_logins(app: Flask, network: Network) -> None:
    api = _login(app, "director_n")
    url = "/api/v1/auth/password"
    codes = [
        api.post(
            url, json={"current_password": f"guess-{n}", "new_password": NEW_PASSWORD}
        ).status_code
        for n in range(6)
    ]
    assert codes == [422] * 5 + [429]
    locked = api.post(url, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert locked.status_code == 429
    assert locked.headers["Retry-After"]
