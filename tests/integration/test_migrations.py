"""The schema is made only by migrations, and the migrations match the models."""

from __future__ import annotations

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


def test_downgrade_one_step_and_upgrade_again(make_app: Any, tmp_path: Any) -> None:
    """An existing database at the previous revision upgrades cleanly (on a database of its own)."""
    import os

    from flask_migrate import downgrade, upgrade

    from tests.support import app_config

    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        import uuid

        import sqlalchemy as sa

        from tests.support import _postgres_url

        schema = f"mig_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(_postgres_url(base, "public"))
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = _postgres_url(base, schema)
    else:
        url = f"sqlite:///{tmp_path / 'mig.db'}"
    app = Flask_app = None
    try:
        from auditapp import create_app

        app = create_app(app_config(url, tmp_path))
        with app.app_context():
            upgrade()
            downgrade(revision="-1")
            upgrade()
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                assert compare_metadata(context, db.metadata) == []
            db.engine.dispose()
    finally:
        del Flask_app
        if base:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
