"""Sign-in with throttling, sign-out everywhere, and a user's own password change.

Failed sign-ins are counted in the database (table ``login_throttle``) under three keys: the
account and the client address together (``pair``), the account alone (``account``) and the
address alone (``address``). Every worker and host shares the counters, so the limits hold
however many processes serve the API. The numbers (``LOGIN_THROTTLE``, documented in
docs/security.md) are chosen so that an attacker cannot lock a real user out for long:

* ``pair``: the first ``pair_free`` failures from one address for one account are free; each
  further one locks that pair for ``pair_lock_seconds`` doubled per failure, at most
  ``pair_lock_max_seconds``. The counter restarts only after ``pair_window_seconds`` without a
  failure, and a successful sign-in clears it. Someone guessing from one address is slowed to a
  crawl; the real user, at another address, is not affected.
* ``account``: ``account_failures`` failures within ``account_window_seconds`` (from any
  address: a botnet) lock the account until that short window ends, and no longer.
* ``address``: ``address_failures`` failures within ``address_window_seconds`` (across any
  accounts: password spraying) lock that address until the window ends.

While a key is locked, attempts are refused with 429 before the password is checked, so a
locked attacker learns nothing, and refused attempts do not extend the lock.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from auditapp import clock
from auditapp.extensions import db
from auditapp.models import LoginThrottle, User
from auditapp.models.types import UTCDateTime
from auditapp.services import users as user_service
from auditapp.services.credentials import hash_password, verify_password
from auditapp.services.errors import Invalid, ServiceError
from auditapp.services.transactions import commit

DEFAULT_THROTTLE: dict[str, int] = {
    "pair_free": 5,
    "pair_lock_seconds": 30,
    "pair_lock_max_seconds": 900,
    "pair_window_seconds": 3600,
    "account_failures": 30,
    "account_window_seconds": 300,
    "address_failures": 100,
    "address_window_seconds": 600,
}
# Rows older than the longest window can hold no lock any more; they are swept on each failure.
_SWEEP_AFTER = timedelta(days=1)


class TooManyAttempts(ServiceError):
    """Sign-in refused for a while; ``retry_after`` is the number of seconds to wait."""

    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed attempts; try again in {retry_after} s.")
        self.retry_after = retry_after


def throttle_policy() -> dict[str, int]:
    """The configured numbers over the defaults (a partial ``LOGIN_THROTTLE`` is fine)."""
    return {**DEFAULT_THROTTLE, **(current_app.config.get("LOGIN_THROTTLE") or {})}


def _now() -> datetime:
    """Now, aware UTC, from the app's clock (so tests and the demo can move it)."""
    return clock.now()


def _normal_login(login: str) -> str:
    """The login as the user lookup sees it."""
    # The same normalisation as the user lookup, so "Admin " and "admin" share a counter.
    return login.strip().lower()


def _keys(login: str, address: str) -> dict[str, str]:
    """scope -> stored key; hashed so that the table holds no logins or addresses."""
    values = {
        "pair": f"{_normal_login(login)}\n{address}",
        "account": _normal_login(login),
        "address": address,
    }
    return {
        scope: hashlib.sha256(f"{scope}\n{value}".encode()).hexdigest()
        for scope, value in values.items()
    }


def check_allowed(login: str, address: str) -> None:
    """Raise TooManyAttempts if the account, the address or the pair is locked now."""
    now = _now()
    locks = db.session.execute(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.key.in_(_keys(login, address).values()),
            LoginThrottle.locked_until > now,
        )
    ).scalars()
    latest = max((lock for lock in locks if lock is not None), default=None)
    if latest is not None:
        raise TooManyAttempts(max(1, math.ceil((latest - now).total_seconds())))


def _window_seconds(scope: str, policy: dict[str, int]) -> int:
    """How long a key's failures count (for the pair: since the last failure)."""
    return policy[f"{scope}_window_seconds"]


def _lock_for(
    scope: str, failures: int, window_started_at: datetime, now: datetime, policy: dict[str, int]
) -> datetime | None:
    """When the key unlocks after ``failures`` failures in its window (None: not locked)."""
    if scope == "pair":
        over = failures - policy["pair_free"]
        if over < 0:
            return None
        # Capped before exponentiation, so a huge count cannot overflow.
        seconds = min(
            policy["pair_lock_seconds"] * 2 ** min(over, 32), policy["pair_lock_max_seconds"]
        )
        return now + timedelta(seconds=seconds)
    if failures >= policy[f"{scope}_failures"]:
        return window_started_at + timedelta(seconds=_window_seconds(scope, policy))
    return None


def _count_failure(key: str, scope: str, now: datetime, policy: dict[str, int]) -> None:
    """Add one failure to ``key`` atomically (one upsert), then lock it if it is over."""
    cutoff = now - timedelta(seconds=_window_seconds(scope, policy))
    row = LoginThrottle
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    expired = row.window_started_at <= cutoff
    # INSERT ... ON CONFLICT DO UPDATE (SQLite and PostgreSQL): concurrent failures on other
    # workers are each counted, never lost to a read-modify-write race.
    statement = (
        insert(row)
        .values(key=key, scope=scope, failures=1, window_started_at=now, locked_until=None)
        .on_conflict_do_update(
            index_elements=[row.key],
            set_={
                "failures": case((expired, 1), else_=row.failures + 1),
                # A pair's count lives until an hour passes without a failure (so waiting out
                # a window never buys a guesser fresh free attempts); the others are fixed
                # windows, so a lock they set ends soon after an attack stops.
                "window_started_at": (
                    literal(now, UTCDateTime())
                    if scope == "pair"
                    else case((expired, literal(now, UTCDateTime())), else_=row.window_started_at)
                ),
            },
        )
        .returning(row.failures, row.window_started_at)
    )
    failures, window_started_at = db.session.execute(statement).one()
    lock = _lock_for(scope, failures, window_started_at, now, policy)
    if lock is not None:
        db.session.execute(
            update(LoginThrottle).where(LoginThrottle.key == key).values(locked_until=lock)
        )


def record_failure(login: str, address: str) -> None:
    """Count a failed attempt under all three keys and sweep rows that can hold no lock."""
    now, policy = _now(), throttle_policy()
    for scope, key in _keys(login, address).items():
        _count_failure(key, scope, now, policy)
    db.session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.window_started_at < now - _SWEEP_AFTER,
            (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now),
        )
    )
    commit()


def _clear_pair(login: str, address: str) -> None:
    """Forget the pair's failures after the right password (in the current transaction)."""
    db.session.execute(
        delete(LoginThrottle).where(LoginThrottle.key == _keys(login, address)["pair"])
    )


def sign_in(login: str, password: str, address: str) -> User | None:
    """The user with these credentials, None if wrong; TooManyAttempts while throttled."""
    check_allowed(login, address)
    user = user_service.authenticate(login, password)
    if user is None:
        record_failure(login, address)
        return None
    _clear_pair(login, address)
    commit()
    return user


def sign_out_everywhere(user: User) -> None:
    """End every cookie session and remember-me cookie of ``user`` (API tokens stay)."""
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(session_generation=User.session_generation + 1)
    )
    commit()
    db.session.refresh(user)


def change_own_password(
    user: User, fields: dict[str, Any], address: str, keep_token_id: int | None = None
) -> User:
    """The user sets a new password after proving the current one.

    Every other session, remember-me cookie and API token of the user ends (the caller signs
    the current session in again, or keeps the token it used). A wrong current password counts
    as a failed sign-in for the throttle.
    """
    check_allowed(user.login, address)
    if not verify_password(user.password_hash, fields["current_password"]):
        record_failure(user.login, address)
        raise Invalid(
            "The current password is wrong.",
            fields={"current_password": ["Wrong password."]},
        )
    if fields["new_password"] == fields["current_password"]:
        raise Invalid(
            "Choose a password you do not use now.",
            fields={"new_password": ["The same as the current password."]},
        )
    user.password_hash = hash_password(fields["new_password"])
    user_service.revoke_sessions(user, keep_token_id=keep_token_id)
    _clear_pair(user.login, address)
    commit()
    return user
