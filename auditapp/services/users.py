"""Use cases for users: accounts, sign-in, API tokens. The only layer that commits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select

from auditapp import clock
from auditapp.extensions import db
from auditapp.models import ApiToken, Branch, Region, StaffMember, User
from auditapp.services.credentials import hash_password, new_token, verify_password
from auditapp.services.errors import Conflict, Invalid, NotFound
from auditapp.services.pagination import paginate
from auditapp.services.transactions import commit

# Which binding each role needs: directors regions, managers branches, employees a staff member.
_BINDINGS = {"director": "region_ids", "manager": "branch_ids", "employee": "staff_member_id"}


def list_users(filters: dict[str, Any]) -> dict[str, Any]:
    """All users (admins only, checked by the API), filtered."""
    query = select(User)
    if "role" in filters:
        query = query.where(User.role == filters["role"])
    if filters.get("q"):
        pattern = f"%{filters['q']}%"
        query = query.where(or_(User.login.ilike(pattern), User.display_name.ilike(pattern)))
    return paginate(query.order_by(User.login), filters["page"], filters["per_page"])


def get_user(user_id: int) -> User:
    """A user by id, else NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found.")
    return user


def _all_by_id(model: Any, ids: list[int], field: str) -> list[Any]:
    """Every row of ``model`` with these ids, or Invalid naming ``field`` and the missing ids."""
    wanted = set(ids)
    rows = list(db.session.execute(select(model).where(model.id.in_(wanted))).scalars())
    missing = wanted - {row.id for row in rows}
    if missing:
        raise Invalid(f"Unknown {field}.", fields={field: [f"No such ids: {sorted(missing)}."]})
    return rows


def _apply_bindings(user: User, fields: dict[str, Any]) -> None:
    if "region_ids" in fields:
        user.regions = _all_by_id(Region, fields["region_ids"], "region_ids")
    if "branch_ids" in fields:
        user.branches = _all_by_id(Branch, fields["branch_ids"], "branch_ids")
    if "staff_member_id" in fields:
        staff_id = fields["staff_member_id"]
        if staff_id is not None and db.session.get(StaffMember, staff_id) is None:
            raise Invalid(
                "Unknown staff member.", fields={"staff_member_id": [f"No staff {staff_id}."]}
            )
        user.staff_member_id = staff_id


def _check_role_bindings(user: User) -> None:
    """A scoped role without its binding would see nothing; say so instead of saving it."""
    needed = _BINDINGS.get(user.role)
    if needed == "region_ids" and not user.regions:
        raise Invalid("A director needs regions.", fields={"region_ids": ["Required."]})
    if needed == "branch_ids" and not user.branches:
        raise Invalid("A manager needs branches.", fields={"branch_ids": ["Required."]})
    if needed == "staff_member_id" and user.staff_member_id is None:
        raise Invalid(
            "An employee needs a staff member.", fields={"staff_member_id": ["Required."]}
        )


def create_user(fields: dict[str, Any]) -> User:
    """A new user with a hashed password and the bindings its role needs."""
    fields = dict(fields)
    password = fields.pop("password")
    bindings = {k: fields.pop(k) for k in ("region_ids", "branch_ids", "staff_member_id")}
    user = User(**fields, password_hash=hash_password(password))
    _apply_bindings(user, bindings)
    _check_role_bindings(user)
    db.session.add(user)
    commit(Conflict(f"The login {fields['login']!r} is taken."))
    return user


def update_user(user_id: int, fields: dict[str, Any]) -> User:
    """Change a user; a new password, role or deactivation signs them out everywhere."""
    user = get_user(user_id)
    fields = dict(fields)
    sign_out = False
    if "password" in fields:
        user.password_hash = hash_password(fields.pop("password"))
        sign_out = True
    if "role" in fields and fields["role"] != user.role:
        sign_out = True
    if fields.get("active") is False:
        sign_out = True
    _apply_bindings(user, fields)
    for name in ("display_name", "email", "role", "locale", "active"):
        if name in fields:
            setattr(user, name, fields[name])
    _check_role_bindings(user)
    if sign_out:
        revoke_sessions(user)
    commit()
    return user


def deactivate_user(user_id: int, actor: User) -> User:
    """Users are never deleted (their actions stay attributable); they are deactivated."""
    user = get_user(user_id)
    if user.id == actor.id:
        raise Conflict("You cannot deactivate yourself.")
    user.active = False
    revoke_sessions(user)
    commit()
    return user


def revoke_sessions(user: User, keep_token_id: int | None = None) -> None:
    """End every cookie session and API token of ``user`` (in the current transaction).

    ``keep_token_id`` spares the token the caller is using right now (a password change made
    with a token keeps that token working).
    """
    user.session_generation += 1
    now = clock.now()
    for token in db.session.execute(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).scalars():
        if token.id != keep_token_id:
            token.revoked_at = now


def authenticate(login: str, password: str) -> User | None:
    """The active user with these credentials, else None (same work either way)."""
    user = db.session.execute(
        select(User).where(User.login == login.strip().lower())
    ).scalar_one_or_none()
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        return None
    user.last_login_at = clock.now()
    commit()
    return user


def create_token(user: User, name: str, expires_in_days: int | None) -> tuple[ApiToken, str]:
    """A new API token for ``user``; the plain token is returned once and never stored.

    Every token expires: no lifetime (None) means the longest allowed, ``API_TOKEN_MAX_DAYS``;
    a longer one is refused, naming the field.
    """
    longest = int(current_app.config["API_TOKEN_MAX_DAYS"])
    if expires_in_days is None:
        expires_in_days = longest
    if expires_in_days > longest:
        raise Invalid(
            "The token would live too long.",
            fields={"expires_in_days": [f"At most {longest} days."]},
        )
    token, digest = new_token()
    expires = clock.now() + timedelta(days=expires_in_days)
    api_token = ApiToken(
        user_id=user.id, name=name, token_hash=digest, prefix=token[:10], expires_at=expires
    )
    db.session.add(api_token)
    commit()
    return api_token, token


def list_tokens(user: User) -> list[ApiToken]:
    """The caller's own tokens, newest first."""
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(db.session.execute(query).scalars())


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the caller's own tokens."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(f"Token {token_id} not found.")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        commit()
    return token
