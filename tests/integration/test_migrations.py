"""The schema is made only by migrations, and the migrations match the models."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from auditapp.extensions import db


def test_migrated_schema_matches_models(app: Flask) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


@contextmanager
def _own_database(tmp_path: Any) -> Iterator[Flask]:
    """An app on a database of its own (a PostgreSQL schema, or an SQLite file), with no tables
    yet: the test migrates it."""
    import os
    import uuid

    import sqlalchemy as sa

    from auditapp import create_app
    from tests.support import _postgres_url, app_config

    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        schema = f"mig_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(_postgres_url(base, "public"))
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = _postgres_url(base, schema)
    else:
        url = f"sqlite:///{tmp_path / 'mig.db'}"
    try:
        app = create_app(app_config(url, tmp_path))
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        if base:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def test_downgrade_one_step_and_upgrade_again(tmp_path: Any) -> None:
    """An existing database at the previous revision upgrades cleanly (on a database of its own)."""
    from flask_migrate import downgrade, upgrade

    with _own_database(tmp_path):
        upgrade()
        downgrade(revision="-1")
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []


def test_downgrade_to_0010_fills_the_standards_by_window(tmp_path: Any) -> None:
    """Going back before 0011 makes the standards' window roll-ups again from the monthly item
    roll-ups: every run of 3 months and every calendar year holding a kept month."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    with _own_database(tmp_path):
        upgrade()
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO region (id, code, name, created_at)"
                    " VALUES (1, 'R', 'R', '2026-01-01')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO branch (id, region_id, code, name, kind, city, address, timezone,"
                    " active, created_at) VALUES (7, 1, 'B', 'B', 'store', 'C', '', 'UTC', TRUE,"
                    " '2026-01-01')"
                )
            )
            items = sa.table(
                "rating_item_rollup",
                *(
                    sa.column(c)
                    for c in (
                        "branch_id",
                        "month",
                        "checklist_slug",
                        "channel",
                        "item_id",
                        "clause",
                        "n",
                        "earned",
                        "possible",
                    )
                ),
            )
            conn.execute(
                sa.insert(items),
                [
                    # (month, n, earned, possible) of one standard: December 2025, January and
                    # March 2026.
                    {
                        "branch_id": 7,
                        "month": date(2025, 12, 1),
                        "checklist_slug": "s",
                        "channel": "visit",
                        "item_id": "i1",
                        "clause": "1.1",
                        "n": 2,
                        "earned": 1.5,
                        "possible": 2.0,
                    },
                    {
                        "branch_id": 7,
                        "month": date(2026, 1, 1),
                        "checklist_slug": "s",
                        "channel": "visit",
                        "item_id": "i1",
                        "clause": "1.1",
                        "n": 1,
                        "earned": 0.0,
                        "possible": 1.0,
                    },
                    {
                        "branch_id": 7,
                        "month": date(2026, 3, 1),
                        "checklist_slug": "s",
                        "channel": "visit",
                        "item_id": "i1",
                        "clause": "1.1",
                        "n": 4,
                        "earned": 3.0,
                        "possible": 4.0,
                    },
                ],
            )
        downgrade(revision="0010")
        with db.engine.connect() as conn:
            found = {
                (months, str(first)[:10]): (n, earned, possible)
                for months, first, n, earned, possible in conn.execute(
                    sa.text(
                        "SELECT months, first_month, n, earned, possible"
                        " FROM rating_period_item_rollup WHERE branch_id = 7"
                    )
                )
            }
        # Runs of 3 months holding December: Oct-Dec, Nov-Jan, Dec-Feb; holding January: Nov-Jan,
        # Dec-Feb, Jan-Mar; holding March: Jan-Mar, Feb-Apr, Mar-May. Years 2025 and 2026.
        assert found == {
            (3, "2025-10-01"): (2, 1.5, 2.0),
            (3, "2025-11-01"): (3, 1.5, 3.0),
            (3, "2025-12-01"): (3, 1.5, 3.0),
            (3, "2026-01-01"): (5, 3.0, 5.0),
            (3, "2026-02-01"): (4, 3.0, 4.0),
            (3, "2026-03-01"): (4, 3.0, 4.0),
            (12, "2025-01-01"): (2, 1.5, 2.0),
            (12, "2026-01-01"): (5, 3.0, 5.0),
        }
        upgrade()
        assert "rating_period_item_rollup" not in sa.inspect(db.engine).get_table_names()
        if db.engine.dialect.name == "postgresql":
            # The planner's count of (branch, standard) pairs, made again by the upgrade.
            with db.engine.connect() as conn:
                made = conn.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_statistic_ext"
                        " WHERE stxname = 'rating_item_rollup_standard'"
                        " AND stxnamespace = to_regnamespace(current_schema())"
                    )
                ).scalar_one()
            assert made == 1
