"""The ends of a use case's transaction: one commit point, its error translation, and rollback.

A use case (a public service function the API, the CLI, a job or the demo calls) runs in one
transaction and ends it once, with ``commit()``. Helpers add, change and flush, but never
commit or roll back: a request refused half-way (a 409, a 422) leaves nothing behind, because
the API's error handler rolls the whole transaction back, and a helper cannot publish half of
what its caller meant to write.

These are the only places in ``auditapp/services`` that call ``session.commit()`` and
``session.rollback()`` (``tests/unit/test_transactions.py`` reads the source to keep it so).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from auditapp.extensions import db
from auditapp.services.errors import Conflict, ServiceError


class Clash(Conflict):
    """The commit found another transaction got there first: a unique key it inserted
    meanwhile, or a row it changed under our version check. Use cases that can settle a race
    (an idempotent retry) catch this; the others let it through as a 409."""

    code = "conflict"


def _clash(error: Exception, clash: ServiceError | None) -> ServiceError:
    if clash is not None:
        return clash
    if isinstance(error, StaleDataError):
        return Clash("The record changed meanwhile; reload it and try again.", code="stale_version")
    return Clash("This clashes with a change saved at the same time; reload and try again.")


def commit(clash: ServiceError | None = None, *, keep_loaded: bool = False) -> None:
    """End the use case: write and commit everything it did, once.

    A unique key or a version check that fails at the commit rolls the transaction back and
    raises ``clash`` (a ``Clash`` when not given). ``keep_loaded`` keeps the objects' state
    after the commit, so an answer built from what this transaction wrote needs no reload.
    """
    session = db.session()
    expire = session.expire_on_commit
    if keep_loaded:
        session.expire_on_commit = False
    try:
        session.commit()
    except (IntegrityError, StaleDataError) as error:
        session.rollback()
        raise _clash(error, clash) from error
    finally:
        session.expire_on_commit = expire


def flush(clash: ServiceError | None = None) -> None:
    """Write what is pending inside the transaction (so later statements see it), translating
    a clash as ``commit`` does. It does not roll back: the transaction belongs to the use case,
    and whoever ends the request (the API's error handler) rolls it back."""
    try:
        db.session.flush()
    except (IntegrityError, StaleDataError) as error:
        raise _clash(error, clash) from error


def rollback() -> None:
    """Abandon the use case's transaction: to read again after losing a race, or to end a
    refused request (the API's error handler)."""
    db.session.rollback()
