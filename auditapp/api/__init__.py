"""The REST API under /api/v1: OpenAPI document, JSON errors, and deny-by-default access.

Every view is wrapped by ``require(...)`` (roles that may call it) or ``public``; a view with
neither is refused, so forgetting a check denies instead of exposing.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar, cast

import flask_smorest
from flask import Flask, Response, current_app, g, jsonify, request
from flask_login import current_user
from flask_smorest import Api
from flask_wtf.csrf import CSRFError
from marshmallow import Schema
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from auditapp.adapters.storage import StorageUnavailable
from auditapp.extensions import csrf
from auditapp.schemas.common import MAX_ID, ErrorSchema
from auditapp.services import transactions
from auditapp.services.errors import ServiceError
from auditapp.services.transactions import rollback

F = TypeVar("F", bound=Callable[..., Any])
API_PREFIX = "/api/"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The deepest body the API takes is a submission: {answers: {item: value}, staff: [{...}]}, depth
# 3. 32 leaves room for any honest client and keeps every recursive walk of a body (marshmallow,
# the NUL check) far from Python's recursion limit (~1000 frames, less inside a request).
JSON_MAX_DEPTH = 32
# The longest number a JavaScript client writes is 24 characters (-1.2345678901234567e-308);
# 100 is generous and far below the 4300 digits where int() gives up with a ValueError.
JSON_MAX_NUMBER_LENGTH = 100


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
                key = name if location in ("json", "form", "multipart") else f"{location}.{name}"
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
    503: "unavailable",
}
# Seconds a client waits before retrying after the database went away (a restart or failover
# takes a few seconds; the pool's pre-ping replaces the dead connections on the next request).
DATABASE_RETRY_AFTER = 5


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


class ApiParser(FlaskParser):
    """webargs' Flask parser, plus the ``multipart`` location: form fields and files together.

    A photo upload is one multipart body (``file`` and its fields); parsing both with one
    schema lets the OpenAPI document declare that body as it is, file part included.
    """

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req: Any, schema: Schema) -> Any:
        """The form fields and the uploaded files of a multipart body."""
        return MultiDictProxy(CombinedMultiDict([req.form, req.files]), schema)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with `ApiParser` (``location="multipart"`` is documented as
    ``multipart/form-data``)."""

    ARGUMENTS_PARSER = ApiParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


def require(*roles: str) -> Callable[[F], F]:
    """Allow the wrapped view to users with one of ``roles``; checks CSRF for cookie sessions."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user._get_current_object()  # once, not through the proxy each time
            if not user.is_authenticated:
                return error_response(401, "unauthenticated", "Sign in or send an API token.")
            if user.role not in roles:
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


class HostileJson(ValueError):
    """A JSON body the API refuses to parse: too deep, a number too long, or not JSON."""


def _bounded_number(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        if len(text) > JSON_MAX_NUMBER_LENGTH:
            raise HostileJson(
                f"a number of {len(text)} characters (at most {JSON_MAX_NUMBER_LENGTH})"
            )
        return kind(text)

    return parse


def _refuse_constant(name: str) -> Any:
    raise HostileJson(f"{name} is not JSON")


def _depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (a scalar is 0); iterative, not recursive."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            level += 1
            deepest = max(deepest, level)
            if deepest > JSON_MAX_DEPTH:
                break
            stack.extend((child, level) for child in node)
    return deepest


def load_json_body(raw: bytes) -> Any:
    """Parse a request body as strict JSON within the API's limits; raise `HostileJson`."""
    try:
        text = raw.decode("utf-8")
        value = json.loads(
            text,
            parse_int=_bounded_number(int),
            parse_float=_bounded_number(float),
            parse_constant=_refuse_constant,
        )
    except UnicodeDecodeError as error:
        raise HostileJson(f"not UTF-8 (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise HostileJson(f"not valid JSON: {error.msg} at line {error.lineno}") from None
    except RecursionError:
        # The C decoder stops at the recursion limit: far deeper than we allow anyway.
        raise HostileJson(f"nested deeper than {JSON_MAX_DEPTH} levels") from None
    if _depth(value) > JSON_MAX_DEPTH:
        raise HostileJson(f"nested deeper than {JSON_MAX_DEPTH} levels")
    return value


def _json_too_large(limit: int) -> Response:
    """413 for a JSON body above ``MAX_JSON_BYTES`` (only photos may be large)."""
    message = f"A JSON body may be at most {limit // 1024} KB."
    return error_response(413, "too_large", message, {"json": [message]})


def _refuse_hostile_json() -> Response | None:
    """Check every JSON body sent to the API before anything parses it.

    webargs (through flask-smorest) and ``request.get_json`` call ``json.loads`` with no limit,
    so a crafted body (a few KB nested hundreds deep, or a 5,000-digit number) crashed the
    request deep inside marshmallow. Checking here, once, covers every endpoint, and a refusal
    is one log line instead of a traceback per request.
    """
    if not request.path.startswith(API_PREFIX) or not request.is_json:
        return None
    limit = current_app.config["MAX_JSON_BYTES"]
    if (request.content_length or 0) > limit:
        return _json_too_large(limit)
    raw = request.get_data(cache=True)
    if len(raw) > limit:  # a chunked body gives no length up front
        return _json_too_large(limit)
    if not raw.strip():
        return None  # no body: the view says which fields are missing
    try:
        load_json_body(raw)
    except HostileJson as error:
        current_app.logger.warning(
            "refused JSON body on %s %s: %s", request.method, request.path, error
        )
        return error_response(
            400, "invalid_json", f"The JSON body is refused: {error}.", {"json": [str(error)]}
        )
    return None


def in_transaction(view: F) -> F:
    """Mark a ``GET`` view that needs its reads inside a transaction: a streamed export reads
    through a server-side cursor, which PostgreSQL keeps only inside one. (Put it right under
    the route, above the access rule.) Every other API ``GET`` reads without one
    (`transactions.reading`)."""
    view._in_transaction = True  # type: ignore[attr-defined]
    return view


def _deny_unmarked(view: Any) -> Response | None:
    """Deny by default: an API view that declares no access rule is never run."""
    if request.endpoint is None:
        return None
    if view is None or getattr(view, "_access", None) is None:
        if request.endpoint.startswith("api-docs."):
            return None
        return error_response(403, "forbidden", "This endpoint declares no access rule.")
    return None


def _check_api_request() -> Response | None:
    """Before an API view runs: deny by default, then refuse a hostile JSON body (one hook,
    so a request outside the API, such as the load balancer's probe, pays one path check).
    An API ``GET`` only reads, so it reads without a transaction (`transactions.reading`),
    unless its view is marked `in_transaction`."""
    if not request.path.startswith(API_PREFIX):
        return None
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if request.method in ("GET", "HEAD") and not getattr(view, "_in_transaction", False):
        transactions.reading()
    return _deny_unmarked(view) or _refuse_hostile_json()


def _cache_headers(response: Response) -> Response:
    """No shared or browser cache keeps API answers, which are per user (issue 13, item 9).

    JSON is always ``no-store`` (the offline app keeps the shopper bundle itself and revalidates
    it with ``If-None-Match``, which needs no HTTP cache). Anything else a signed-in user gets
    (photos) is ``private``, revalidated by its ETag, unless the view chose its own caching.
    """
    if not request.path.startswith(API_PREFIX):
        return response
    if response.mimetype == "application/json":
        response.headers["Cache-Control"] = "no-store"
    elif "Cache-Control" not in response.headers and current_user.is_authenticated:
        response.headers["Cache-Control"] = "private, no-cache"
    return response


def _handle_service_error(error: ServiceError) -> Response:
    """A refused use case leaves nothing behind: what it wrote before refusing is rolled back
    here, once for every service (services never roll back their callers' work)."""
    rollback()
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


def _unavailable(message: str, retry_after: int) -> Response:
    """503 in the API's shape with Retry-After: nothing was saved, the same request may be sent
    again (uploads and submissions are idempotent by their client ids)."""
    from auditapp.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection may be gone as well; the pool replaces it
        current_app.logger.debug("rollback after a lost dependency failed", exc_info=True)
    response = error_response(503, "unavailable", message)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _handle_database_lost(error: Exception) -> Response:
    """The database refused or dropped the connection (restart, failover): 503, not 500."""
    current_app.logger.warning(
        "database unavailable on %s %s: %s", request.method, request.path, error
    )
    return _unavailable(
        "The database is unavailable; nothing was saved. Retry shortly.", DATABASE_RETRY_AFTER
    )


def _handle_storage_lost(error: StorageUnavailable) -> Response:
    """The photo storage failed (S3 5xx, unreachable): 503; an upload stored nothing."""
    current_app.logger.warning(
        "photo storage unavailable on %s %s: %s", request.method, request.path, error
    )
    return _unavailable(
        "The photo storage is unavailable; nothing was saved. Retry shortly.", error.retry_after
    )


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
    from auditapp.api import (
        attestation,
        audits,
        auth,
        checklists,
        network,
        ratings,
        reports,
        users,
    )

    app.url_map.converters["int"] = IdConverter
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "aud_..."}
    )
    api.spec.components.security_scheme(
        "cookieAuth", {"type": "apiKey", "in": "cookie", "name": "session"}
    )
    for module in (auth, network, users, checklists, audits, ratings, reports, attestation):
        api.register_blueprint(module.blp, url_prefix="/api/v1")
    app.before_request(_check_api_request)
    app.teardown_request(lambda _error: transactions.end_reading())
    app.after_request(_cache_headers)
    app.register_error_handler(ServiceError, _handle_service_error)
    app.register_error_handler(DataError, _handle_data_error)
    app.register_error_handler(OverflowError, _handle_data_error)
    app.register_error_handler(CSRFError, _handle_csrf_error)
    app.register_error_handler(OperationalError, _handle_database_lost)
    app.register_error_handler(InterfaceError, _handle_database_lost)
    app.register_error_handler(StorageUnavailable, _handle_storage_lost)
    app.register_error_handler(HTTPException, _handle_any_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)
