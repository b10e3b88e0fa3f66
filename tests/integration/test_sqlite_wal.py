"""SQLite runs in WAL mode with ``synchronous=FULL``: readers beside a writer, and an
acknowledged commit is on disk. Checked on a SQLite file of its own, whatever TEST_DATABASE_URL
says, since these are SQLite settings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from auditapp import create_app
from auditapp.extensions import db
from tests.support import app_config

FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


def test_app_connections_use_wal_and_full_sync(tmp_path: Path) -> None:
    """Every connection of the app's pool runs in WAL mode with FULL sync, and the database
    file itself is in WAL mode for any other process that opens it."""
    path = tmp_path / "wal.db"
    app = create_app(app_config(f"sqlite:///{path}", tmp_path))
    with app.app_context():
        with db.engine.connect() as first, db.engine.connect() as second:
            for connection in (first, second):
                assert connection.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
                assert connection.execute(sa.text("PRAGMA synchronous")).scalar() == FULL
        db.engine.dispose()
    other = sqlite3.connect(path)
    try:
        # journal_mode=WAL is stored in the file; a plain connection sees it too.
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        other.close()


def test_a_writer_commits_while_a_reader_is_in_a_transaction(tmp_path: Path) -> None:
    """A submission commits at once although another request is in the middle of a read (with
    the rollback journal the commit waits for every reader to finish: SQLITE_BUSY here), and
    the reader keeps its snapshot until it ends its transaction."""
    path = tmp_path / "wal.db"
    app = create_app(app_config(f"sqlite:///{path}", tmp_path))
    with app.app_context():
        with db.engine.begin() as setup:
            setup.execute(sa.text("CREATE TABLE t (n INTEGER)"))
            setup.execute(sa.text("INSERT INTO t VALUES (1)"))
        reader_proxy, writer_proxy = db.engine.raw_connection(), db.engine.raw_connection()
        try:
            # The pool's connections with the app's pragmas, driven by hand (autocommit mode).
            reader, writer = reader_proxy.driver_connection, writer_proxy.driver_connection
            assert isinstance(reader, sqlite3.Connection)
            assert isinstance(writer, sqlite3.Connection)
            reader.isolation_level = writer.isolation_level = None
            writer.execute("PRAGMA busy_timeout=0")  # fail at once instead of waiting
            reader.execute("BEGIN")
            assert reader.execute("SELECT count(*) FROM t").fetchone() == (1,)
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("INSERT INTO t VALUES (2)")
            writer.execute("COMMIT")
            assert reader.execute("SELECT count(*) FROM t").fetchone() == (1,)
            reader.execute("COMMIT")
            assert reader.execute("SELECT count(*) FROM t").fetchone() == (2,)
        finally:
            reader_proxy.close()
            writer_proxy.close()
        db.engine.dispose()
