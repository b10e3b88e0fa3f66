"""Who is calling: password hashing, cookie sessions (Flask-Login), bearer API tokens.

A cookie session is bound to ``User.session_generation`` so that bumping it signs the user out
everywhere. A bearer token (``Authorization: Bearer aud_...``) authenticates scripts; CSRF is
checked only for cookie sessions, since a browser never attaches a bearer token on its own.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app, g, request
from sqlalchemy import select

from auditapp.extensions import db, login_manager
from auditapp.models import ApiToken, User

TOKEN_PREFIX = "aud_"
# Verifying against a dummy hash when the login is unknown keeps timing uniform.
_DUMMY_HASH: dict[str, str] = {}


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; spends the same work when there is no hash."""
    hasher = _hasher()
    if password_hash is None:
        key = f"{hasher.time_cost}:{hasher.memory_cost}"
        if key not in _DUMMY_HASH:
            _DUMMY_HASH[key] = hasher.hash(secrets.token_hex(8))
        password_hash = _DUMMY_HASH[key]
        try:
            hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> tuple[str, str]:
    """A fresh API token and the SHA-256 hex digest that is stored in its place."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    """SHA-256 hex digest of a token (tokens are random, so no salt is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _load_session_user(session_id: str) -> User | None:
    user_id, _, generation = session_id.partition(":")
    if not user_id.isdigit() or not generation.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_generation != int(generation):
        return None
    g.auth_method = "session"
    return user


def _load_token_user(req: object) -> User | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX):
        return None
    api_token = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == token_digest(token.strip()))
    ).scalar_one_or_none()
    now = datetime.now(UTC)
    if api_token is None or api_token.revoked_at is not None:
        return None
    if api_token.expires_at is not None and api_token.expires_at <= now:
        return None
    if not api_token.user.active:
        return None
    g.auth_method = "token"
    g.api_token_id = api_token.id
    return api_token.user


def init_app(app: Flask) -> None:
    """Install the loaders; the API answers 401 in JSON itself, so no login view is set."""
    login_manager.user_loader(_load_session_user)
    login_manager.request_loader(_load_token_user)
    login_manager.session_protection = "basic"
