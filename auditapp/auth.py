"""Who is calling: cookie sessions (Flask-Login) and bearer API tokens.

A cookie session (and the remember-me cookie, which carries the same value) holds a signed
ticket ``user_id:generation:issued_at:kind``. It is bound to ``User.session_generation``, so
bumping it (sign-out, password change) ends every session and remember-me cookie of the user on
every host, and it stops working ``SESSION_LIFETIME_HOURS`` after sign-in (kind ``s``) or
``REMEMBER_LIFETIME_DAYS`` after it (kind ``r``, "remember me"), whatever the activity.
A bearer token (``Authorization: Bearer aud_...``) authenticates scripts; CSRF is checked only
for cookie sessions, since a browser never attaches a bearer token on its own. Password hashes
and the making of tokens are ``auditapp/services/credentials.py``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Response, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_login import login_user
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Select, bindparam, select
from werkzeug.middleware.proxy_fix import ProxyFix

from auditapp import clock
from auditapp.extensions import db, login_manager
from auditapp.models import ApiToken, User
from auditapp.services.credentials import TOKEN_PREFIX, token_digest

# Hosts' clocks differ a little; a ticket issued "in the future" by more than this is refused.
_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class SessionTicket:
    """What a session cookie (or remember-me cookie) says about its sign-in."""

    user_id: int
    generation: int
    issued_at: int  # Unix seconds
    remember: bool

    def encode(self) -> str:
        """The value stored in the signed cookies."""
        kind = "r" if self.remember else "s"
        return f"{self.user_id}:{self.generation}:{self.issued_at}:{kind}"

    @classmethod
    def decode(cls, value: str) -> SessionTicket | None:
        """The ticket, or None for anything else (including pre-ticket cookies)."""
        parts = value.split(":")
        if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]):
            return None
        if parts[3] not in ("r", "s"):
            return None
        return cls(int(parts[0]), int(parts[1]), int(parts[2]), parts[3] == "r")

    def expires_at(self) -> datetime:
        """The absolute end of this sign-in."""
        cfg = current_app.config
        lifetime = (
            timedelta(days=int(cfg["REMEMBER_LIFETIME_DAYS"]))
            if self.remember
            else timedelta(hours=int(cfg["SESSION_LIFETIME_HOURS"]))
        )
        return datetime.fromtimestamp(self.issued_at, UTC) + lifetime


def start_session(user: User, remember: bool, issued_at: int | None = None) -> None:
    """Sign ``user`` in on this browser; ``issued_at`` keeps an earlier sign-in's lifetime."""
    ticket = SessionTicket(
        user.id,
        user.session_generation,
        issued_at if issued_at is not None else int(clock.now().timestamp()),
        remember,
    )
    duration = timedelta(days=int(current_app.config["REMEMBER_LIFETIME_DAYS"]))
    login_user(user, remember=remember, duration=duration)
    # Flask-Login stores get_id(); the ticket replaces it, and the remember-me cookie written
    # after this request copies it from the session.
    session["_user_id"] = ticket.encode()
    g.session_ticket = ticket


def _load_session_user(session_id: str) -> User | None:
    """The user of a session or remember-me ticket, if it is still valid (else None)."""
    ticket = SessionTicket.decode(session_id)
    if ticket is None:
        return None
    now = clock.now()
    if ticket.expires_at() <= now:
        return None
    if datetime.fromtimestamp(ticket.issued_at, UTC) > now + _CLOCK_SKEW:
        return None
    user = db.session.get(User, ticket.user_id)
    if user is None or not user.active or user.session_generation != ticket.generation:
        return None
    g.auth_method = "session"
    g.session_ticket = ticket
    return user


@functools.cache
def _token_statement() -> Select[User, int, datetime | None, datetime | None, datetime]:
    """A token's user and what the check reads of the token, in one statement; built once
    (with a bound digest), since every bearer request runs it."""
    return (
        select(User, ApiToken.id, ApiToken.revoked_at, ApiToken.expires_at, ApiToken.created_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == bindparam("digest"))
    )


def _load_token_user(req: object) -> User | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX):
        return None
    # Looked up on every request (no cache), so a revocation holds at once on every host.
    found = db.session.execute(_token_statement(), {"digest": token_digest(token.strip())}).first()
    if found is None:
        return None
    user, token_id, revoked_at, expires_at, created_at = found
    if revoked_at is not None:
        return None
    # Tokens made before every token had an expiry live at most API_TOKEN_MAX_DAYS too.
    if expires_at is None:
        expires_at = created_at + timedelta(days=int(current_app.config["API_TOKEN_MAX_DAYS"]))
    if expires_at <= clock.now():
        return None
    if not user.active:
        return None
    g.auth_method = "token"
    g.api_token_id = token_id
    return user


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, with less work on requests that carry no session.

    Flask makes the signing serializer anew on every request, cookie or not; here it is made
    once per set of keys (``SECRET_KEY`` and its fallbacks: a changed key makes a new one), and
    a request without the cookie, which leaves the session empty, skips the cookie settings on
    the way out. What is signed, read, written and refused is Flask's own code.
    """

    def __init__(self) -> None:
        """No serializer yet: the first request's keys make it."""
        self._signing: tuple[Any, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer for the app's current keys, made once per set of keys."""
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        signing = self._signing
        if signing is None or signing[0] != keys:
            signing = (keys, super().get_signing_serializer(app))
            self._signing = signing
        return signing[1]

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Nothing to write for an empty, unmodified session (Flask's early return, before it
        reads six cookie settings); otherwise Flask's own."""
        if not session and not session.modified:
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Install the loaders; the API answers 401 in JSON itself, so no login view is set.

    Also: the remember-me cookie is Secure whenever the session cookie is (unless configured on
    its own), and the client address is taken from ``X-Forwarded-For`` only when
    ``PROXY_COUNT`` trusted proxies are declared in front of the app.
    """
    app.session_interface = CookieSessions()
    login_manager.user_loader(_load_session_user)
    login_manager.request_loader(_load_token_user)
    login_manager.session_protection = "basic"
    app.config.setdefault("REMEMBER_COOKIE_SECURE", bool(app.config["SESSION_COOKIE_SECURE"]))
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies > 0:
        # Only the last ``proxies`` hops are believed: an address a client writes into the
        # header itself sits further left and is ignored.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies
        )
