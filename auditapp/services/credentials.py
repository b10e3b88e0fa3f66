"""Secrets a user proves who they are with: argon2id password hashes and API tokens.

Kept apart from ``auditapp/auth.py`` (Flask-Login sessions, the request's user) so that the
services that create users, change passwords and issue tokens need nothing from the web layer.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

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
