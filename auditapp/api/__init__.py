"""The REST API under /api/v1: OpenAPI document, JSON errors, and deny-by-default access.

Every view is wrapped by ``require(...)`` (roles that may call it) or ``public``; a view with
neither is refused, so forgetting a check denies instead of exposing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, g, jsonify, request
from flask_login import current_user
from flask_smorest import Api
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from auditapp.extensions import csrf
from auditapp.schemas.common import MAX_ID, ErrorSchema
from auditapp.services.errors import ServiceError

F = TypeVar("F", bound=Callable[..., Any])
API_PREFIX = "/api/"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def error_response(
    status: int, code: str, message: str, fields: dict[str, Any] | None = None
) -> Response:
    """The one error shape of the API: ``{"error": {"code", "message", "fields"}}``."""
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    response.status_code = status
    return response


def _flatten_messages(messages: Any) -> dict[str, Any]:
    """webargs nests messages by location (json, query, files); clients want field -> reasons."""
    fields: dict[str, Any] = {}
    if not isinstance(messages, dict):
        return {"_schema": messages}
    for location, per_field in messages.items():
        if isinstance(per_field, dict):
            for name, reasons in per_field.items():
                key = name if location in ("json", "form") else f"{location}.{name}"
                fields[key] = reasons
        else:
            fields[location] = per_field
    return fields


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


class AuditApi(Api):
    """flask-smorest's Api with our error shape (in the responses and in the document)."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        fields = _flatten_messages(data["messages"]) if "messages" in data else {}
        message = data.get("message") or error.description or "error"
        if status == 422 and fields:
            message = "The request has invalid fields."
        return error_response(status, _HTTP_CODES.get(status, "error"), str(message), fields)


api = AuditApi()


def require(*roles: str) -> Callable[[F], F]:
    """Allow the wrapped view to users with one of ``roles``; checks CSRF for cookie sessions."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return error_response(401, "unauthenticated", "Sign in or send an API token.")
            if current_user.role not in roles:
                return error_response(403, "forbidden", "Your role may not do this.")
            if request.method in UNSAFE_METHODS and g.get("auth_method") == "session":
                csrf.protect()
            return view(*args, **kwargs)

        wrapper._access = roles  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorator


def public(view: F) -> F:
    """Mark a view as callable without signing in (login, CSRF token, health)."""
    view._access = "public"  # type: ignore[attr-defined]
    return view


def _deny_unmarked() -> Response | None:
    """Deny by default: an API view that declares no access rule is never run."""
    if not request.path.startswith(API_PREFIX) or request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    if view is None or getattr(view, "_access", None) is None:
        if request.endpoint.startswith("api-docs."):
            return None
        return error_response(403, "forbidden", "This endpoint declares no access rule.")
    return None


def _handle_service_error(error: ServiceError) -> Response:
    return error_response(error.status, error.code, error.message, error.fields)


def _handle_csrf_error(error: CSRFError) -> Response:
    return error_response(400, "csrf_failed", f"CSRF check failed: {error.description}")


def _handle_any_http_exception(error: HTTPException) -> Response | HTTPException:
    if request.path.startswith(API_PREFIX):
        return cast(Response, api.handle_http_exception(error))
    return error


def _handle_unexpected(error: Exception) -> Response | tuple[str, int]:
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    if request.path.startswith(API_PREFIX):
        return error_response(500, "internal", "Internal error; nothing was saved.")
    return "Internal error", 500


class IdConverter(IntegerConverter):
    """``<int:...>`` in URLs: a 32-bit id; anything larger is simply not found (404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _handle_data_error(error: Exception) -> Response:
    """A value the database cannot hold is bad input (422), never a crash."""
    from auditapp.extensions import db

    db.session.rollback()
    if not request.path.startswith(API_PREFIX):
        raise error
    return error_response(422, "out_of_range", "A value is out of range.")


def init_app(app: Flask) -> None:
    """Register the API blueprints, the OpenAPI document and the JSON error handlers."""
    from auditapp.api import audits, auth, checklists, network, ratings, users

    app.url_map.converters["int"] = IdConverter
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "aud_..."}
    )
    api.spec.components.security_scheme(
        "cookieAuth", {"type": "apiKey", "in": "cookie", "name": "session"}
    )
    for module in (auth, network, users, checklists, audits, ratings):
        api.register_blueprint(module.blp, url_prefix="/api/v1")
    app.before_request(_deny_unmarked)
    app.register_error_handler(ServiceError, _handle_service_error)
    app.register_error_handler(DataError, _handle_data_error)
    app.register_error_handler(OverflowError, _handle_data_error)
    app.register_error_handler(CSRFError, _handle_csrf_error)
    app.register_error_handler(HTTPException, _handle_any_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)
