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

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
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


_READING = "auditapp_reading"  # execution option of a connection lent to a reading


def reading() -> None:
    """Run what follows in this session without a transaction: for a use case that only reads
    (an API ``GET``), on PostgreSQL. Under READ COMMITTED every statement takes its own
    snapshot whether or not a transaction is open, so the reads see the same data; the BEGIN
    before the first statement and the ROLLBACK when the connection goes back to the pool (two
    of a detail read's round trips) are not sent. Call before the session's first statement.
    A write on such a connection raises (`_no_writes_while_reading`): a use case that writes
    is not a reading. SQLite sends no BEGIN for reads and is left as it is."""
    session = db.session()
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return  # (a session already in use, as a test's shared one, keeps its transaction)
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT", _READING: True})
    session.info[_READING] = True


def end_reading() -> None:
    """After a reading: give its connection back, so that the session, if it lives on (a test
    holding the app context), starts its next use case with a transaction again."""
    if not db.session.registry.has():  # no session was made (a request with no database work)
        return
    session = db.session()
    if session.info.pop(_READING, False):
        session.close()


_READ_ONLY_STARTS = ("SELECT", "WITH", "SHOW")


@event.listens_for(Connection, "before_cursor_execute")
def _no_writes_while_reading(
    connection: Connection, cursor: Any, statement: str, *args: Any
) -> None:
    if connection.get_execution_options().get(_READING) and not statement.lstrip()[
        :6
    ].upper().startswith(_READ_ONLY_STARTS):
        raise RuntimeError(f"A reading (a GET) tried to write: {statement[:80]}")
