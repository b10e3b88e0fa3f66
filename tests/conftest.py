"""Fixtures: one migrated database per test session, emptied after every test.

The helpers they use (and the tests and ``bench/`` import) are in ``tests/support.py``.

SQLite (a temporary file) by default; PostgreSQL when ``TEST_DATABASE_URL`` is set, in a schema
of its own that is dropped at the end, so no run depends on what an earlier one left.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings

from auditapp import create_app
from auditapp.extensions import db
from tests.support import (
    EXAMPLE_CHECKLIST,
    ApiClient,
    Fieldwork,
    IsolatedClient,
    Network,
    _postgres_url,
    app_config,
    build_network,
)

# Property tests check rules, not speed: a per-example deadline only measures how busy the
# machine is (a loaded 2-core CI box failed one at random). Speed lives in bench/.
settings.register_profile("auditapp", deadline=None, print_blob=True)
settings.load_profile("auditapp")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database nobody else uses: a fresh PostgreSQL schema, or a fresh SQLite file."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(_postgres_url(base, "public"))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def _migrated(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Build the schema once, by running the migrations (the only way the schema is made)."""
    from flask_migrate import upgrade

    app = create_app(app_config(database_url, tmp_path_factory.mktemp("migrate")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def _empty_tables() -> None:
    """PostgreSQL: one TRUNCATE (it bypasses the append-only guard, which is row-level)."""
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def database(_migrated: str, tmp_path: Path) -> str:
    """This test's database: a copy of the migrated SQLite file, or the emptied PG schema."""
    if _migrated.startswith("sqlite:///"):
        copy = tmp_path / "test.db"
        shutil.copyfile(_migrated[len("sqlite:///") :], copy)
        return f"sqlite:///{copy}"
    return _migrated


@pytest.fixture
def make_app(database: str, tmp_path: Path) -> Iterator[Any]:
    """A factory of apps on this test's database, with config overrides."""
    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        app = create_app(app_config(database, tmp_path, **overrides))
        app.test_client_class = IsolatedClient
        apps.append(app)
        return app

    yield factory
    for index, app in enumerate(apps):
        with app.app_context():
            db.session.remove()
            if index == 0 and not database.startswith("sqlite"):
                _empty_tables()
            db.engine.dispose()


@pytest.fixture
def app(make_app: Any) -> Iterator[Flask]:
    """The app, inside an app context (services can be called directly)."""
    application = make_app()
    with application.app_context():
        yield application


@pytest.fixture
def network(app: Flask) -> Network:
    """The fixture network in the test database."""
    return build_network()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A plain test client."""
    return app.test_client()


@pytest.fixture
def as_user(app: Flask, network: Network) -> Any:
    """``as_user("manager_n1")`` -> an ApiClient signed in as that fixture user."""

    def sign_in(login: str) -> ApiClient:
        api = ApiClient(app.test_client())
        response = api.login(login)
        assert response.status_code == 200, response.get_json()
        return api

    return sign_in


@pytest.fixture
def fieldwork(app: Flask, network: Network) -> Fieldwork:
    """The example checklist (for stores and restaurants), a wave over N1, N2 and S2, and
    assignments: shopper -> N1, shopper -> S2, shopper2 -> N1."""
    from auditapp.extensions import db
    from auditapp.models import User
    from auditapp.services import checklists, waves

    text = EXAMPLE_CHECKLIST.read_text(encoding="utf-8").replace(
        "applies_to: [restaurant]", "applies_to: [store, restaurant]"
    )
    version = checklists.import_checklist(text, "example.yaml")
    admin = db.session.get(User, network.users["admin"])
    assert admin is not None
    wave = waves.create_wave(
        admin,
        waves.WavePlan(
            name="Ноябрь",
            checklist_version_id=version.id,
            starts_on=date.today() - timedelta(days=10),
            ends_on=date.today() + timedelta(days=10),
            visits_per_branch=2,
            day_parts=[],
            branch_ids=[network.branches[c] for c in ("N1", "N2", "S2")],
        ),
    )
    assignments = {}
    for key, login, branch in (
        ("shopper_n1", "shopper", "N1"),
        ("shopper_s2", "shopper", "S2"),
        ("shopper2_n1", "shopper2", "N1"),
    ):
        assignment = waves.add_assignment(
            wave.id,
            waves.NewAssignment(
                branch_id=network.branches[branch],
                shopper_id=network.users[login],
                window_start=wave.starts_on,
                window_end=wave.ends_on,
                day_part=None,
            ),
        )
        assignments[key] = assignment.id
    return Fieldwork(version.id, wave.id, assignments)
