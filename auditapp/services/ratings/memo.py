"""Network-wide readings kept in memory until the ratings change.

A ranking of 5,000 branches, a branch's place in the network, the network's breakdowns, trend
and standards all start from the same few network-wide sums of a period, and those change only
when a transaction changes what ratings read: a release, an upheld dispute, a rebuild, a branch
created, moved, re-kinded or removed. Such a transaction marks itself (`changed`, or the branch
edit is seen at flush) and raises the one row of ``rating_state`` just before it commits (the
last statement of the transaction, so its lock is held for the commit alone). A reading reads
that row once (``token``, ``version``) and keeps what it computed under it, in this process,
for the next request with the same period and filters; any committed change makes a new
version, and the kept readings of older versions are dropped as new ones are kept.

Kept values are shared between requests and threads: callers read them and never change
them. Only readings that do not depend on the caller are kept (scope is applied afterwards).
A transaction that has changed ratings and not yet committed reads afresh, as does a database
whose state row is missing (emptied: until its next change).
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from itertools import chain
from typing import Any, TypeVar

from sqlalchemy import bindparam, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from auditapp.extensions import db
from auditapp.models import Branch, RatingState

T = TypeVar("T")

# How many readings a process keeps: network-wide ones (each at most a few MB: 5,000
# branches' sums), and one branch's (a few KB: its months, parts or standards).
LIMIT = 48
SMALL_LIMIT = 4096

_CHANGED = "ratings.changed"  # session.info: this transaction changed what ratings read
_STAMP = "ratings.stamp"  # session.info: the state read by this transaction (or None)
_STATE_ID = 1

_LOCK = threading.Lock()
_Key = tuple[tuple[str, str, int], str, Hashable]
_KEPT: OrderedDict[_Key, Any] = OrderedDict()
_KEPT_SMALL: OrderedDict[_Key, Any] = OrderedDict()


def changed() -> None:
    """Mark the caller's transaction as changing what ratings read (the version is raised when
    it commits; nothing if it rolls back)."""
    db.session.info[_CHANGED] = True


def _stamp() -> tuple[str, str, int] | None:
    """(database, token, version) of the committed ratings, read once per transaction; None
    when nothing may be kept (this transaction changed ratings, or no state row yet)."""
    session = db.session()
    if session.info.get(_CHANGED):
        return None
    if _STAMP not in session.info:
        row = (
            session.connection()
            .execute(
                select(RatingState.token, RatingState.version).where(RatingState.id == _STATE_ID)
            )
            .first()
        )
        session.info[_STAMP] = (
            None if row is None else (str(db.engine.url), row.token, int(row.version))
        )
    stamp: tuple[str, str, int] | None = session.info[_STAMP]
    return stamp


def kept(name: str, key: Hashable, compute: Callable[[], T], *, small: bool = False) -> T:
    """``compute()``, or what it gave for ``(name, key)`` since the ratings last changed.

    ``small``: one branch's reading, kept among many more (`SMALL_LIMIT`) than the
    network-wide ones, so that managers' dashboards do not push the network's sums out."""
    stamp = _stamp()
    if stamp is None:
        return compute()
    store, limit = (_KEPT_SMALL, SMALL_LIMIT) if small else (_KEPT, LIMIT)
    full = (stamp, name, key)
    with _LOCK:
        if full in store:
            store.move_to_end(full)
            value: T = store[full]
            return value
    value = compute()
    with _LOCK:
        if store and next(iter(store))[0] != stamp:
            # Readings of an older state of the same database are never asked for again.
            for old in [k for k in store if k[0][:2] == stamp[:2] and k[0][2] != stamp[2]]:
                del store[old]
        store[full] = value
        while len(store) > limit:
            store.popitem(last=False)
    return value


def forget() -> None:
    """Drop every kept reading (tests and benchmarks that time cold readings)."""
    with _LOCK:
        _KEPT.clear()
        _KEPT_SMALL.clear()


@event.listens_for(Session, "before_flush")
def _branch_edited(session: Session, _context: Any, _instances: Any) -> None:
    # A branch's region and kind decide which region and filter it counts in.
    if any(isinstance(o, Branch) for o in chain(session.new, session.dirty, session.deleted)):
        session.info[_CHANGED] = True


_RAISING: dict[str, Any] = {}


def _raising(dialect_name: str) -> Any:
    """The state row made (a new token) or its version raised; built once per dialect (building
    it took longer than running it, on every commit of a change)."""
    if dialect_name not in _RAISING:
        dialect = postgresql if dialect_name == "postgresql" else sqlite
        statement = dialect.insert(RatingState.__table__).values(
            id=_STATE_ID, token=bindparam("token"), version=1
        )
        _RAISING[dialect_name] = statement.on_conflict_do_update(
            index_elements=[RatingState.id],
            set_={"version": RatingState.version + 1},
        )
    return _RAISING[dialect_name]


@event.listens_for(Session, "before_commit")
def _raise_version(session: Session) -> None:
    session.flush()  # a branch edit still pending marks the transaction here
    if not session.info.pop(_CHANGED, False):
        return
    # On the session's connection: a plain statement, no ORM handling needed.
    connection = session.connection()
    connection.execute(_raising(connection.dialect.name), {"token": uuid.uuid4().hex})


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _transaction_ended(session: Session) -> None:
    session.info.pop(_CHANGED, None)
    session.info.pop(_STAMP, None)
