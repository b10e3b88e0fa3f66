"""Sign-in, sign-out, the current user, CSRF tokens and the caller's API tokens."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_login import current_user, login_user, logout_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from auditapp.api import error_response, public, require
from auditapp.extensions import limiter
from auditapp.models import ROLES
from auditapp.schemas.users import (
    CsrfSchema,
    LoginSchema,
    MeSchema,
    TokenCreateSchema,
    TokenListSchema,
    TokenSchema,
)
from auditapp.services import users as user_service

blp = Blueprint("auth", __name__, description="Sessions and API tokens")


def _me() -> dict[str, Any]:
    user = current_user
    return {
        "id": user.id,
        "login": user.login,
        "display_name": user.display_name,
        "role": user.role,
        "locale": user.locale,
        "region_ids": user.region_ids,
        "branch_ids": user.branch_ids,
        "staff_member_id": user.staff_member_id,
        "csrf_token": generate_csrf(),
    }


@blp.route("/auth/login", methods=["POST"])
@public
@limiter.limit(lambda: str(current_app.config["LOGIN_RATE_LIMIT"]))
@blp.arguments(LoginSchema)
@blp.response(200, MeSchema)
def login(credentials: dict[str, Any]) -> Any:
    """Sign in with login and password; sets the session cookie and returns a CSRF token."""
    user = user_service.authenticate(credentials["login"], credentials["password"])
    if user is None:
        return error_response(401, "bad_credentials", "Wrong login or password.")
    login_user(user, remember=credentials["remember"])
    return _me()


@blp.route("/auth/logout", methods=["POST"])
@require(*ROLES)
@blp.response(204)
def logout() -> None:
    """End this session."""
    logout_user()


@blp.route("/auth/me")
@require(*ROLES)
@blp.response(200, MeSchema)
def me() -> dict[str, Any]:
    """The signed-in user, with a fresh CSRF token."""
    return _me()


@blp.route("/auth/csrf")
@public
@blp.response(200, CsrfSchema)
def csrf_token() -> dict[str, str]:
    """A CSRF token for this browser session."""
    return {"csrf_token": generate_csrf()}


@blp.route("/auth/tokens")
@require(*ROLES)
@blp.response(200, TokenListSchema)
def list_tokens() -> dict[str, Any]:
    """The caller's API tokens (never the secrets)."""
    return {"items": user_service.list_tokens(current_user)}


@blp.route("/auth/tokens", methods=["POST"])
@require(*ROLES)
@blp.arguments(TokenCreateSchema)
@blp.response(201, TokenSchema)
def create_token(args: dict[str, Any]) -> dict[str, Any]:
    """A new API token for scripts; the token is shown in this response only."""
    api_token, token = user_service.create_token(
        current_user, args["name"], args["expires_in_days"]
    )
    fields = ("id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    return {**{name: getattr(api_token, name) for name in fields}, "token": token}


@blp.route("/auth/tokens/<int:token_id>", methods=["DELETE"])
@require(*ROLES)
@blp.response(200, TokenSchema)
def revoke_token(token_id: int) -> Any:
    """Revoke one of the caller's tokens."""
    return user_service.revoke_token(current_user, token_id)
