"""Use cases for users: accounts, sign-in, API tokens. The only layer that commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypedDict

from flask import current_app
from sqlalchemy import or_, select

from auditapp import clock
from auditapp.extensions import db
from auditapp.models import ApiToken, Branch, Region, StaffMember, User
from auditapp.services.credentials import hash_password, new_token, verify_password
from auditapp.services.errors import Conflict, Invalid, NotFound
from auditapp.services.pagination import Page, paginate
from auditapp.services.transactions import commit

# Which binding each role needs: directors regions, managers branches, employees a staff member.
_BINDINGS = {"director": "region_ids", "manager": "branch_ids", "employee": "staff_member_id"}


@dataclass(frozen=True)
class UserFilters(Page):
    """Which users to list: one role, a text found in the login or name (each optional)."""

    role: str | None = None
    q: str | None = None


@dataclass(frozen=True)
class NewUser:
    """An account to create: who, the role, the first password and the role's bindings
    (regions for a director, branches for a manager, a staff member for an employee)."""

    login: str
    display_name: str
    role: str
    password: str
    email: str | None = None
    locale: str = "ru"
    active: bool = True
    region_ids: list[int] = field(default_factory=list)
    branch_ids: list[int] = field(default_factory=list)
    staff_member_id: int | None = None


class Bindings(TypedDict, total=False):
    """A role's scope; a key present replaces that binding, a key absent keeps it."""

    region_ids: list[int]
    branch_ids: list[int]
    staff_member_id: int | None


class UserChanges(Bindings, total=False):
    """A partial change of a user: only the keys present change."""

    display_name: str
    email: str | None
    role: str
    locale: str
    active: bool
    password: str


def list_users(filters: UserFilters) -> dict[str, Any]:
    """All users (admins only, checked by the API), filtered."""
    query = select(User)
    if filters.role is not None:
        query = query.where(User.role == filters.role)
    if filters.q:
        pattern = f"%{filters.q}%"
        query = query.where(or_(User.login.ilike(pattern), User.display_name.ilike(pattern)))
    return paginate(query.order_by(User.login), filters.page, filters.per_page)


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


def _apply_bindings(user: User, bindings: Bindings) -> None:
    """Set the bindings present in ``bindings`` (ids checked: unknown ones are 422)."""
    if "region_ids" in bindings:
        user.regions = _all_by_id(Region, bindings["region_ids"], "region_ids")
    if "branch_ids" in bindings:
        user.branches = _all_by_id(Branch, bindings["branch_ids"], "branch_ids")
    if "staff_member_id" in bindings:
        staff_id = bindings["staff_member_id"]
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


def create_user(new: NewUser) -> User:
    """A new user with a hashed password and the bindings its role needs."""
    user = User(
        login=new.login,
        display_name=new.display_name,
        email=new.email,
        role=new.role,
        locale=new.locale,
        active=new.active,
        password_hash=hash_password(new.password),
    )
    _apply_bindings(
        user,
        {
            "region_ids": new.region_ids,
            "branch_ids": new.branch_ids,
            "staff_member_id": new.staff_member_id,
        },
    )
    _check_role_bindings(user)
    db.session.add(user)
    commit(Conflict(f"The login {new.login!r} is taken."))
    return user


def update_user(user_id: int, changes: UserChanges) -> User:
    """Change a user; a new password, role or deactivation signs them out everywhere."""
    user = get_user(user_id)
    sign_out = False
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
        sign_out = True
    if "role" in changes and changes["role"] != user.role:
        sign_out = True
    if changes.get("active") is False:
        sign_out = True
    _apply_bindings(user, changes)
    if "display_name" in changes:
        user.display_name = changes["display_name"]
    if "email" in changes:
        user.email = changes["email"]
    if "role" in changes:
        user.role = changes["role"]
    if "locale" in changes:
        user.locale = changes["locale"]
    if "active" in changes:
        user.active = changes["active"]
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
