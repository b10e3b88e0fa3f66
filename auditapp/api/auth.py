"""Sign-in, sign-out, the current user, CSRF tokens and the caller's API tokens."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, request
from flask_login import current_user, logout_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from auditapp.api import error_response, public, require
from auditapp.auth import SessionTicket, start_session
from auditapp.domain.vocabulary import ROLES
from auditapp.extensions import limiter
from auditapp.schemas.common import ErrorSchema
from auditapp.schemas.users import (
    CsrfSchema,
    LoginSchema,
    MeSchema,
    PasswordChangeSchema,
    TokenCreateSchema,
    TokenListSchema,
    TokenSchema,
)
from auditapp.services import auth as auth_service
from auditapp.services import users as user_service

blp = Blueprint("auth", __name__, description="Sessions and API tokens")
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before the next attempt",
        "schema": {"type": "integer"},
    }
}


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


def _client_address() -> str:
    """The caller's address (the real client's when PROXY_COUNT proxies are trusted)."""
    return request.remote_addr or "unknown"


def _throttled(error: auth_service.TooManyAttempts) -> Response:
    """429 in the API's error shape, with Retry-After so clients know how long to wait."""
    response = error_response(429, error.code, error.message)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


@blp.route("/auth/login", methods=["POST"])
@public
@limiter.limit(lambda: str(current_app.config["LOGIN_RATE_LIMIT"]))
@blp.arguments(LoginSchema)
@blp.response(200, MeSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Wrong login or password")
@blp.alt_response(
    429, schema=ErrorSchema, description="Too many failed attempts", headers=RETRY_AFTER
)
def login(credentials: dict[str, Any]) -> Any:
    """Sign in with login and password; sets the session cookie and returns a CSRF token.

    Failed attempts are throttled per account, per address and per both (429 with
    Retry-After); a session lasts SESSION_LIFETIME_HOURS, or REMEMBER_LIFETIME_DAYS with
    ``remember``.
    """
    try:
        user = auth_service.sign_in(
            credentials["login"], credentials["password"], _client_address()
        )
    except auth_service.TooManyAttempts as error:
        return _throttled(error)
    if user is None:
        return error_response(401, "bad_credentials", "Wrong login or password.")
    start_session(user, remember=credentials["remember"])
    return _me()


@blp.route("/auth/logout", methods=["POST"])
@require(*ROLES)
@blp.response(204)
def logout() -> None:
    """Sign out: ends every session and remember-me cookie of the caller, on every device.

    A copy of the cookie kept from before stops working too. API tokens are not affected.
    """
    if g.get("auth_method") == "session":
        auth_service.sign_out_everywhere(current_user)
    logout_user()


@blp.route("/auth/password", methods=["POST"])
@require(*ROLES)
@limiter.limit(lambda: str(current_app.config["LOGIN_RATE_LIMIT"]))
@blp.arguments(PasswordChangeSchema)
@blp.response(200, MeSchema)
@blp.alt_response(
    429, schema=ErrorSchema, description="Too many wrong passwords", headers=RETRY_AFTER
)
def change_password(fields: dict[str, Any]) -> Any:
    """Change your own password (give the current one).

    Ends your other sessions, remember-me cookies and API tokens; this session stays signed in
    (with a fresh cookie and CSRF token), or the API token used for the call stays valid.
    Wrong current passwords are throttled like failed sign-ins.
    """
    ticket: SessionTicket | None = g.get("session_ticket")
    user = current_user._get_current_object()
    try:
        auth_service.change_own_password(
            user, fields, _client_address(), keep_token_id=g.get("api_token_id")
        )
    except auth_service.TooManyAttempts as error:
        return _throttled(error)
    if ticket is not None:
        # Same kind and sign-in time: a password change does not extend the session's life.
        start_session(user, remember=ticket.remember, issued_at=ticket.issued_at)
    return _me()


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
