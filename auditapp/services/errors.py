"""Errors the services raise; the API turns each into a JSON error with its HTTP status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ServiceError(Exception):
    """A use case refused: ``code`` is stable for clients, ``message`` is for people."""

    status = 400
    code = "bad_request"

    def __init__(
        self, message: str, *, fields: Mapping[str, Any] | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        if code:
            self.code = code


class Invalid(ServiceError):
    """Input that parses but breaks a business rule; ``fields`` says which and why."""

    status = 422
    code = "invalid"


class NotFound(ServiceError):
    """Missing, or out of the caller's scope: the two are indistinguishable on purpose."""

    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    """The caller's role may not do this."""

    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    """The state changed underneath, or the request clashes with stored data."""

    status = 409
    code = "conflict"


class Gone(ServiceError):
    """It existed, and was deleted on purpose (a report file past its retention period)."""

    status = 410
    code = "gone"
