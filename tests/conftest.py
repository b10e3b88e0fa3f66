"""Fixtures: one migrated database per test session, emptied after every test.

SQLite (a temporary file) by default; PostgreSQL when ``TEST_DATABASE_URL`` is set, in a schema
of its own that is dropped at the end, so no run depends on what an earlier one left.
"""

from __future__ import annotations

import contextvars
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
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

PASSWORD = "correct-horse-battery"

# Property tests check rules, not speed: a per-example deadline only measures how busy the
# machine is (a loaded 2-core CI box failed one at random). Speed lives in bench/.
settings.register_profile("auditapp", deadline=None, print_blob=True)
settings.load_profile("auditapp")


def _postgres_url(base: str, schema: str) -> str:
    url = sa.make_url(base)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


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


def app_config(database_url: str, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """Configuration for a test app: fast password hashing, inline jobs, no rate limit."""
    config: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MEDIA_DIR": str(tmp_path / "media"),
        "PHOTO_STORAGE_URL": str(tmp_path / "media"),
        "HUEY_IMMEDIATE": True,
        "RATELIMIT_ENABLED": False,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def _migrated(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Build the schema once, by running the migrations (the only way the schema is made)."""
    from flask_migrate import upgrade

    app = create_app(app_config(database_url, tmp_path_factory.mktemp("migrate")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in a fresh context, as in production.

    Without this, a request made while a test holds an app context would share that context's
    ``g`` (the signed-in user) and database session with the test and with other requests.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        # A streamed body (exports) is read inside the same context, as a server reads it in
        # the request's thread: read later, outside, its request context would be lost.
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


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


class ApiClient:
    """A test client that signs in and sends the CSRF token like the PWA does."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.csrf: str | None = None
        self.token: str | None = None

    def login(self, login: str, password: str = PASSWORD) -> Any:
        response = self.client.post(
            "/api/v1/auth/login", json={"login": login, "password": password}
        )
        if response.status_code == 200:
            self.csrf = response.get_json()["csrf_token"]
        return response

    def open(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.csrf and method in ("POST", "PUT", "PATCH", "DELETE"):
            headers.setdefault("X-CSRFToken", self.csrf)
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.open("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.open("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.open("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.open("DELETE", path, **kwargs)


@dataclass
class Network:
    """A small network: two regions, four branches, staff, and one user per role and scope."""

    regions: dict[str, int] = field(default_factory=dict)
    branches: dict[str, int] = field(default_factory=dict)
    staff: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)


def make_user(login: str, role: str, **bindings: Any) -> int:
    """Create a user through the service (inside an app context); returns the id."""
    from auditapp.services import users

    fields: dict[str, Any] = {
        "login": login,
        "display_name": login,
        "email": None,
        "role": role,
        "locale": "ru",
        "active": True,
        "password": PASSWORD,
        "region_ids": [],
        "branch_ids": [],
        "staff_member_id": None,
    }
    fields.update(bindings)
    return users.create_user(fields).id


def build_network() -> Network:
    """Create the fixture network through the services (the way the API would)."""
    from auditapp.services import network as net

    result = Network()
    for code, name in (("N", "Север"), ("S", "Юг")):
        result.regions[code] = net.create_region({"code": code, "name": name}).id
    for code, region, kind, city in (
        ("N1", "N", "store", "Мурманск"),
        ("N2", "N", "restaurant", "Архангельск"),
        ("S1", "S", "hotel", "Сочи"),
        ("S2", "S", "store", "Краснодар"),
    ):
        branch = net.create_branch(
            {
                "region_id": result.regions[region],
                "code": code,
                "name": f"Филиал {code}",
                "kind": kind,
                "city": city,
                "address": "",
                "timezone": "Europe/Moscow",
                "latitude": 55.0,
                "longitude": 37.0,
                "active": True,
            }
        )
        result.branches[code] = branch.id
    for code, branch, position in (
        ("E-N1-a", "N1", "consultant"),
        ("E-N1-b", "N1", "cashier"),
        ("E-N2-a", "N2", "waiter"),
        ("E-S1-a", "S1", "receptionist"),
        ("E-S2-a", "S2", "consultant"),
    ):
        staff = net.create_staff(
            {
                "employee_code": code,
                "full_name": f"Сотрудник {code}",
                "position": position,
                "branch_id": result.branches[branch],
                "hired_on": date(2024, 1, 10),
                "left_on": None,
            }
        )
        result.staff[code] = staff.id

    def user(login: str, role: str, **bindings: Any) -> None:
        result.users[login] = make_user(login, role, **bindings)

    user("admin", "admin")
    user("reviewer", "reviewer")
    user("director_n", "director", region_ids=[result.regions["N"]])
    user("manager_n1", "manager", branch_ids=[result.branches["N1"]])
    user("manager_s1", "manager", branch_ids=[result.branches["S1"]])
    user("shopper", "shopper")
    user("shopper2", "shopper")
    user("employee_n1", "employee", staff_member_id=result.staff["E-N1-a"])
    return result


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


# Audits ------------------------------------------------------------------------------------

EXAMPLE_CHECKLIST = Path(__file__).parent / "unit" / "fixtures" / "example.yaml"

# Answers to the example checklist that pass every rule. By hand (weights in brackets):
# greeted yes [2] -> 2; queue 45 s <= 60 [2] -> 2; receipt yes [1] -> 1; drink 4 on 1..5 [3]
# -> 3 * 0.75 = 2.25; dessert "generic" [1] -> 0.5; table clean [1] -> 1. 8.75 / 10 = 87.5.
GOOD_ANSWERS: dict[str, Any] = {
    "greeted": True,
    "queue_wait": 45,
    "receipt": True,
    "drink_quality": 4,
    "dessert_offer": "generic",
    "table_clean": True,
    "comment": "Всё хорошо",
}
GOOD_SCORE = 87.5


def jpeg_bytes(seed: int = 0, size: tuple[int, int] = (640, 480)) -> bytes:
    """A small JPEG whose picture depends on ``seed`` (so perceptual hashes differ)."""
    import io
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        x1, y1 = x0 + rng.randrange(40, 300), y0 + rng.randrange(40, 300)
        draw.rectangle((x0, y0, x1, y1), fill=tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@dataclass
class Fieldwork:
    """A wave on the example checklist: assignments for the fixture shoppers."""

    checklist_version_id: int
    wave_id: int
    assignments: dict[str, int]


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
        {
            "name": "Ноябрь",
            "checklist_version_id": version.id,
            "starts_on": date.today() - timedelta(days=10),
            "ends_on": date.today() + timedelta(days=10),
            "visits_per_branch": 2,
            "day_parts": [],
            "branch_ids": [network.branches[c] for c in ("N1", "N2", "S2")],
        },
    )
    assignments = {}
    for key, login, branch in (
        ("shopper_n1", "shopper", "N1"),
        ("shopper_s2", "shopper", "S2"),
        ("shopper2_n1", "shopper2", "N1"),
    ):
        assignment = waves.add_assignment(
            wave.id,
            {
                "branch_id": network.branches[branch],
                "shopper_id": network.users[login],
                "window_start": wave.starts_on,
                "window_end": wave.ends_on,
                "day_part": None,
            },
        )
        assignments[key] = assignment.id
    return Fieldwork(version.id, wave.id, assignments)


def submission(assignment_id: int, **overrides: Any) -> dict[str, Any]:
    """A complete, valid submit body for the example checklist."""
    from datetime import UTC, datetime

    start = datetime.now(UTC) - timedelta(hours=2)
    body: dict[str, Any] = {
        "assignment_id": assignment_id,
        "answers": dict(GOOD_ANSWERS),
        "visit_started_at": start.isoformat(),
        "visit_ended_at": (start + timedelta(minutes=25)).isoformat(),
        "geo": {"lat": 55.0005, "lon": 37.0005, "accuracy_m": 20},
        "staff": [],
    }
    body.update(overrides)
    return body


def upload_photo(
    api: ApiClient,
    audit_uuid: str,
    assignment_id: int,
    item_id: str,
    data: bytes | None = None,
    photo_uuid: str | None = None,
) -> Any:
    """Upload a photo for an item the way the phone does (multipart)."""
    import io

    form = {
        "assignment_id": str(assignment_id),
        "item_id": item_id,
        "photo_uuid": photo_uuid or str(uuid.uuid4()),
        "file": (io.BytesIO(data if data is not None else jpeg_bytes()), "photo.jpg"),
    }
    return api.post(
        f"/api/v1/audits/{audit_uuid}/photos", data=form, content_type="multipart/form-data"
    )
