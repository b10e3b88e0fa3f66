"""Benchmark the API paths real users hit, at realistic scale, through the Flask test client.

Builds a fresh database with the migrations (a temporary SQLite file by default; with
``--database-url postgresql+psycopg://...`` a fresh PostgreSQL schema of its own, dropped at the
end), then measures and prints:

1. CSV import over the API: 500 branches (4 regions created through ``region_name``) and 5,000
   staff (10 per branch): total seconds per file, and a re-import of the same files (which must
   report everything "unchanged").
2. Submission: a wave over every branch on the example checklist, visits distributed among 25
   shoppers; per visit one photo upload (small JPEG, processed inline) and the submit. Median and
   p90 of the upload alone, the submit alone, and of a retried submit (same content -> 200).
3. Reading at scale: ~20,000 audits inserted in bulk (scores from ``score_audit``; submitted,
   approved and released; one photo and 1-3 history rows each), then the review queue, the audit
   list as a manager of one branch, a director of one region and an admin, the audit detail, and
   the shopper's offline bundle.
4. With ``--http`` (instead of 1-3): the hot paths over HTTP. The app and a floor app (a bare
   Flask app on the same database doing the least each request needs) each run under gunicorn
   with 2 sync workers on a free local port; 8 concurrent connections drive each request for a
   bounded time, and it prints requests/s, p50 and p99 of the app and of the floor, and their
   ratio: GET /healthz, an audit's detail (45 items, admin), the audit list as a manager
   (31 rows), the shopper's bundle, and a submission (45 items).

Every per-request figure comes with N and the number of SQL statements the request ran (an
SQLAlchemy ``before_cursor_execute`` listener). Lists are also counted at two page sizes: a
count growing with the page size is an N+1. Nothing is asserted about time.

Run from the repository root::

    .venv/bin/python bench/api.py                  # SQLite, about 1-2 minutes
    .venv/bin/python bench/api.py --quick          # sizes / 10
    .venv/bin/python bench/api.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/api.py --http --rounds 3      # the HTTP comparison, ~3 minutes
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import random
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from auditapp import create_app  # noqa: E402 - after making the package importable
from auditapp.extensions import db  # noqa: E402

# The test suite's helpers: the same database handling, client and photos as the tests use.
from tests.conftest import (  # noqa: E402
    EXAMPLE_CHECKLIST,
    PASSWORD,
    IsolatedClient,
    _postgres_url,
    app_config,
    jpeg_bytes,
    make_user,
)

TIMEZONES = ("Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Asia/Vladivostok")
CITIES = ("Москва", "Екатеринбург", "Новосибирск", "Владивосток", "Казань", "Самара")
POSITIONS = ("consultant", "cashier", "barista", "waiter", "manager")
SURNAMES = ("Иванов", "Петров", "Сидоров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев")
FIRST_NAMES = ("Анна", "Иван", "Ольга", "Пётр", "Мария", "Сергей", "Елена", "Дмитрий")


@dataclass(frozen=True)
class Sizes:
    """How much data and how many repetitions (``--quick`` divides by 10)."""

    regions: int = 4
    branches: int = 500
    staff_per_branch: int = 10
    submit_shoppers: int = 25
    submissions: int = 200
    waves: int = 20
    visits_per_branch: int = 2
    bulk_shoppers: int = 50
    reads: int = 50
    bundle_assignments: int = 20

    @property
    def staff(self) -> int:
        """Staff rows in the staff CSV."""
        return self.branches * self.staff_per_branch

    @property
    def audits(self) -> int:
        """Audits inserted in bulk for the reading part."""
        return self.waves * self.branches * self.visits_per_branch


FULL = Sizes()
QUICK = Sizes(branches=50, submit_shoppers=5, submissions=20, bulk_shoppers=10, reads=10)


# Measuring -----------------------------------------------------------------------------------


class SqlCounter:
    """Counts the statements the engine sends (``executemany`` counts once)."""

    def __init__(self, engine: sa.Engine) -> None:
        """Listen on ``engine``."""
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


@dataclass
class Samples:
    """Wall-clock milliseconds and SQL statement counts of repeated requests."""

    ms: list[float] = field(default_factory=list)
    sql: list[int] = field(default_factory=list)


def p90(values: list[float]) -> float:
    """The 90th percentile (the value itself when there is only one)."""
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def sql_range(counts: list[int]) -> str:
    """``12`` when every request ran the same number of statements, else ``12-15``."""
    low, high = min(counts), max(counts)
    return str(low) if low == high else f"{low}-{high}"


def print_samples(label: str, samples: Samples, extra: str = "") -> None:
    """One line: label, N, median, p90, SQL statements per request."""
    print(
        f"  {label:<44} N={len(samples.ms):<4} median {statistics.median(samples.ms):7.1f} ms"
        f"   p90 {p90(samples.ms):7.1f} ms   SQL/req {sql_range(samples.sql)}{extra}"
    )


class Timer:
    """Times requests and counts their SQL statements."""

    def __init__(self, counter: SqlCounter) -> None:
        """Use ``counter`` for the statement counts."""
        self.counter = counter

    def run(self, samples: Samples | None, call: Callable[[], Any], expect: int) -> Any:
        """Call, check the status code, and record the time and statement count."""
        before = self.counter.count
        start = time.perf_counter()
        response = call()
        elapsed = (time.perf_counter() - start) * 1000
        statements = self.counter.count - before
        if response.status_code != expect:
            body = response.get_data()[:500]
            raise SystemExit(f"unexpected {response.status_code} (wanted {expect}): {body!r}")
        if samples is not None:
            samples.ms.append(elapsed)
            samples.sql.append(statements)
        return response


# Clients (as in tests/conftest.py) -----------------------------------------------------------


class ApiClient:
    """Signs in with a cookie session and sends the CSRF token like the PWA does."""

    def __init__(self, app: Flask, login: str) -> None:
        """Sign in as ``login``."""
        self.client = app.test_client()
        response = self.client.post(
            "/api/v1/auth/login", json={"login": login, "password": PASSWORD}
        )
        if response.status_code != 200:
            raise SystemExit(f"login {login} failed: {response.get_json()}")
        self.csrf = response.get_json()["csrf_token"]

    def get(self, path: str) -> Any:
        """GET ``path``."""
        return self.client.get(path)

    def post(self, path: str, **kwargs: Any) -> Any:
        """POST ``path`` with the CSRF header."""
        return self.client.post(path, headers={"X-CSRFToken": self.csrf}, **kwargs)


# Database ------------------------------------------------------------------------------------


@contextmanager
def fresh_database(base: str | None, tmp: Path) -> Iterator[tuple[str, str]]:
    """(url, description): a temporary SQLite file, or a PostgreSQL schema dropped at the end."""
    if not base:
        yield f"sqlite:///{tmp / 'bench.db'}", f"SQLite {sqlite3.sqlite_version} (temp file)"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(_postgres_url(base, "public"))
    with admin.begin() as conn:
        version = conn.execute(sa.text("SHOW server_version")).scalar_one()
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_url(base, schema), f"PostgreSQL {version} (schema {schema}, dropped)"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def build_app(url: str, tmp: Path) -> Flask:
    """The app on ``url`` with the test settings (inline jobs, cheap hashing, no rate limit)."""
    app = create_app(app_config(url, tmp))
    app.test_client_class = IsolatedClient
    return app


# Data ----------------------------------------------------------------------------------------


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def branches_csv(sizes: Sizes, rng: random.Random) -> bytes:
    """Branches B0001..., spread over regions R1..Rn (created by their region_name)."""
    rows = []
    for number in range(1, sizes.branches + 1):
        region = number % sizes.regions + 1
        rows.append(
            [
                f"B{number:04d}",
                f"Филиал №{number}",
                "store" if number % 2 else "restaurant",
                f"R{region}",
                f"Регион {region}",
                CITIES[number % len(CITIES)],
                f"ул. Ленина, {number}",
                TIMEZONES[region % len(TIMEZONES)],
                round(rng.uniform(43, 69), 5),
                round(rng.uniform(30, 135), 5),
            ]
        )
    header = "code,name,kind,region_code,region_name,city,address,timezone,latitude,longitude"
    return _csv(header.split(","), rows)


def staff_csv(sizes: Sizes, rng: random.Random) -> bytes:
    """``staff_per_branch`` employees per branch, hired on various days of 2023-2024."""
    rows = []
    for number in range(1, sizes.staff + 1):
        branch = (number - 1) // sizes.staff_per_branch + 1
        name = f"{rng.choice(SURNAMES)} {rng.choice(FIRST_NAMES)} {number}"
        hired = date(2023, 1, 1) + timedelta(days=rng.randrange(700))
        rows.append(
            [f"E{number:05d}", name, POSITIONS[number % len(POSITIONS)], f"B{branch:04d}", hired]
        )
    return _csv(["employee_code", "full_name", "position", "branch_code", "hired_on"], rows)


def random_answers(rng: random.Random) -> dict[str, Any]:
    """Valid answers to the example checklist, of varying quality."""
    return {
        "greeted": rng.random() < 0.85,
        "queue_wait": rng.randrange(5, 300),
        "receipt": rng.random() < 0.95,
        "drink_quality": rng.randint(1, 5),
        "dessert_offer": rng.choice(["matched", "generic", "none", None]),
        "table_clean": rng.choice([True, True, True, None]),
        "comment": rng.choice(["Всё хорошо", "Долго ждал", "", "Приятный персонал"]),
    }


# 1. CSV import -------------------------------------------------------------------------------


def bench_import(app: Flask, timer: Timer, sizes: Sizes, rng: random.Random) -> None:
    """Import branches and staff over the API, then import the same files again."""
    print("\n1. CSV import over the API (POST /branches/import, /staff/import)")
    admin = ApiClient(app, "admin")
    files = {
        "branches": (branches_csv(sizes, rng), sizes.branches),
        "staff": (staff_csv(sizes, rng), sizes.staff),
    }
    for attempt in ("first import", "re-import"):
        for name, (data, rows) in files.items():
            samples = Samples()

            def upload(path: str = f"/api/v1/{name}/import", body: bytes = data) -> Any:
                form = {"file": (io.BytesIO(body), "import.csv")}
                return admin.post(path, data=form, content_type="multipart/form-data")

            response = timer.run(samples, upload, 200)
            result = response.get_json()
            print(
                f"  {name + ' ' + attempt:<28} rows={rows:<5} {samples.ms[0] / 1000:6.2f} s"
                f"   SQL {samples.sql[0]:<6} -> {result}"
            )
            if attempt == "re-import" and result["unchanged"] != rows:
                print(f"  !! re-import of {name} was not idempotent: {result}")


# 2. Submission -------------------------------------------------------------------------------


@dataclass
class Visit:
    """One assignment to submit, with its shopper and what the body needs."""

    assignment_id: int
    shopper: str
    latitude: float
    longitude: float
    staff_id: int


def prepare_fieldwork(app: Flask, timer: Timer, sizes: Sizes) -> tuple[int, list[Visit]]:
    """Import the example checklist, plan a wave over every branch and distribute the visits
    among the shoppers (over the API, timed); returns the wave id and the visits."""
    from auditapp.models import Assignment, Branch, StaffPlacement, User
    from auditapp.services import checklists, waves

    text = EXAMPLE_CHECKLIST.read_text(encoding="utf-8").replace(
        "applies_to: [restaurant]", "applies_to: [store, restaurant]"
    )
    with app.app_context():
        version = checklists.import_checklist(text, "example.yaml")
        admin = db.session.execute(sa.select(User).where(User.login == "admin")).scalar_one()
        branch_ids = list(db.session.execute(sa.select(Branch.id).order_by(Branch.id)).scalars())
        wave = waves.create_wave(
            admin,
            {
                "name": "Текущая волна",
                "checklist_version_id": version.id,
                "starts_on": date.today() - timedelta(days=10),
                "ends_on": date.today() + timedelta(days=20),
                "visits_per_branch": 1,
                "day_parts": [],
                "branch_ids": branch_ids,
            },
        )
        wave_id = wave.id
        shopper_ids = [
            make_user(f"shopper{i:02d}", "shopper") for i in range(sizes.submit_shoppers)
        ]
        db.session.remove()
    api = ApiClient(app, "admin")
    samples = Samples()
    response = timer.run(
        samples,
        lambda: api.post(f"/api/v1/waves/{wave_id}/distribute", json={"shopper_ids": shopper_ids}),
        200,
    )
    created = len(response.get_json()["created"])
    print(
        f"  distribute {len(branch_ids)} visits among {len(shopper_ids)} shoppers: "
        f"{samples.ms[0]:.0f} ms, SQL {samples.sql[0]}, created {created}"
    )
    with app.app_context():
        rows = db.session.execute(
            sa.select(Assignment.id, User.login, Branch.latitude, Branch.longitude, Branch.id)
            .join(User, User.id == Assignment.shopper_id)
            .join(Branch, Branch.id == Assignment.branch_id)
            .where(Assignment.wave_id == wave_id)
            .order_by(Assignment.id)
        ).all()
        staff: dict[int, int] = {}
        for branch_id, staff_id in db.session.execute(
            sa.select(StaffPlacement.branch_id, StaffPlacement.staff_member_id).order_by(
                StaffPlacement.id
            )
        ):
            staff.setdefault(branch_id, staff_id)
        db.session.remove()
    visits = [Visit(a, login, lat, lon, staff[b]) for a, login, lat, lon, b in rows]
    return wave_id, visits


def submit_body(visit: Visit) -> dict[str, Any]:
    """A complete, valid report for the example checklist (as ``tests/conftest.py``)."""
    start = datetime.now(UTC) - timedelta(hours=2)
    return {
        "assignment_id": visit.assignment_id,
        "answers": {
            "greeted": True,
            "queue_wait": 45,
            "receipt": True,
            "drink_quality": 4,
            "dessert_offer": "generic",
            "table_clean": True,
            "comment": "Всё хорошо",
        },
        "visit_started_at": start.isoformat(),
        "visit_ended_at": (start + timedelta(minutes=25)).isoformat(),
        "geo": {"lat": visit.latitude + 0.0003, "lon": visit.longitude, "accuracy_m": 20},
        "staff": [{"staff_role": "barista", "staff_member_id": visit.staff_id}],
    }


def bench_submission(app: Flask, timer: Timer, sizes: Sizes) -> None:
    """Per visit: upload the receipt photo, submit, and retry the submit."""
    print("\n2. Submission (photo upload + submit, example checklist)")
    _, visits = prepare_fieldwork(app, timer, sizes)
    visits = visits[: sizes.submissions]
    photos = [jpeg_bytes(seed) for seed in range(len(visits))]
    clients = {login: ApiClient(app, login) for login in sorted({v.shopper for v in visits})}
    upload, submit, retry = Samples(), Samples(), Samples()
    for visit, photo in zip(visits, photos, strict=True):
        shopper = clients[visit.shopper]
        audit_uuid = uuid.uuid4()
        form = {
            "assignment_id": str(visit.assignment_id),
            "item_id": "receipt",
            "photo_uuid": str(uuid.uuid4()),
            "file": (io.BytesIO(photo), "photo.jpg"),
        }
        timer.run(
            upload,
            lambda u=audit_uuid, f=form, s=shopper: s.post(
                f"/api/v1/audits/{u}/photos", data=f, content_type="multipart/form-data"
            ),
            201,
        )
        body = submit_body(visit)
        path = f"/api/v1/audits/{audit_uuid}/submit"
        timer.run(submit, lambda p=path, b=body, s=shopper: s.post(p, json=b), 201)
        timer.run(retry, lambda p=path, b=body, s=shopper: s.post(p, json=b), 200)
    kb = statistics.mean(len(p) for p in photos) / 1024
    print_samples(f"photo upload ({kb:.0f} KB JPEG, processed inline)", upload)
    print_samples("submit (new report -> 201)", submit)
    print_samples("submit retry (same content -> 200)", retry)


# 3. Reading at scale -------------------------------------------------------------------------


@dataclass
class ReadFixture:
    """Who reads, and what they read."""

    manager_branch_id: int
    director_region_id: int
    history_shopper: str
    audit_ids: list[int]
    manager_audit_ids: list[int]


def _insert_returning_ids(model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk INSERT ... RETURNING id, in the order of ``rows``."""
    statement = sa.insert(model).returning(model.id, sort_by_parameter_order=True)
    ids: list[int] = []
    for start in range(0, len(rows), 5000):
        ids += list(db.session.execute(statement, rows[start : start + 5000]).scalars())
    return ids


def bulk_audits(app: Flask, sizes: Sizes, rng: random.Random) -> ReadFixture:
    """Past waves over every branch with ``visits_per_branch`` audits each, inserted in bulk."""
    from auditapp.auth import hash_password
    from auditapp.domain.scoring import score_audit
    from auditapp.models import (
        Assignment,
        Audit,
        AuditHistory,
        AuditPhoto,
        Branch,
        ChecklistVersion,
        Region,
        User,
        Wave,
        wave_branch,
    )
    from auditapp.services.checklists import checklist_of
    from auditapp.services.waves import due_at

    started = time.perf_counter()
    with app.app_context():
        version = db.session.execute(sa.select(ChecklistVersion)).scalars().first()
        assert version is not None
        checklist = checklist_of(version)
        branches = list(db.session.execute(sa.select(Branch).order_by(Branch.id)).scalars())
        reviewer = db.session.execute(sa.select(User).where(User.login == "reviewer")).scalar_one()
        password_hash = hash_password(PASSWORD)
        shopper_ids = _insert_returning_ids(
            User,
            [
                {
                    "login": f"veteran{i:02d}",
                    "display_name": f"Тайный покупатель {i}",
                    "password_hash": password_hash,
                    "role": "shopper",
                }
                for i in range(sizes.bulk_shoppers)
            ],
        )
        today = date.today()
        assignments: list[dict[str, Any]] = []
        visits: list[tuple[int, Branch, int, datetime]] = []  # wave age, branch, shopper, visit
        for age in range(sizes.waves):
            starts_on = today - timedelta(days=30 * (age + 1) + 15)
            ends_on = starts_on + timedelta(days=20)
            wave_id = _insert_returning_ids(
                Wave,
                [
                    {
                        "name": f"Волна −{age + 1}",
                        "checklist_version_id": version.id,
                        "starts_on": starts_on,
                        "ends_on": ends_on,
                        "visits_per_branch": sizes.visits_per_branch,
                        "day_parts": [],
                        "created_by_id": reviewer.id,
                    }
                ],
            )[0]
            db.session.execute(
                sa.insert(wave_branch), [{"wave_id": wave_id, "branch_id": b.id} for b in branches]
            )
            for index, branch in enumerate(branches):
                for visit in range(sizes.visits_per_branch):
                    shopper = shopper_ids[(index * 7 + age + visit) % len(shopper_ids)]
                    day = starts_on + timedelta(days=rng.randrange(20))
                    assignments.append(
                        {
                            "wave_id": wave_id,
                            "branch_id": branch.id,
                            "shopper_id": shopper,
                            "window_start": starts_on,
                            "window_end": ends_on,
                            "due_at": due_at(branch, ends_on),
                        }
                    )
                    at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
                        hours=rng.randrange(6, 14), minutes=rng.randrange(60)
                    )
                    visits.append((age, branch, shopper, at))
        assignment_ids = _insert_returning_ids(Assignment, assignments)
        audits: list[dict[str, Any]] = []
        for assignment_id, (age, branch, shopper, at) in zip(assignment_ids, visits, strict=True):
            answers = random_answers(rng)
            detail = score_audit(checklist, answers).to_dict()
            if age < 3:
                status = rng.choice(["submitted", "approved"])
            else:
                status = "released" if rng.random() < 0.95 else "approved"
            submitted = at + timedelta(hours=rng.randrange(1, 30))
            audits.append(
                {
                    "client_uuid": uuid.uuid4(),
                    "assignment_id": assignment_id,
                    "checklist_version_id": version.id,
                    "branch_id": branch.id,
                    "shopper_id": shopper,
                    "status": status,
                    "answers": answers,
                    "comment": answers["comment"],
                    "channel": version.channel,
                    "visit_started_at": at,
                    "visit_ended_at": at + timedelta(minutes=rng.randrange(10, 40)),
                    "geo_lat": branch.latitude,
                    "geo_lon": branch.longitude,
                    "geo_accuracy_m": 15.0,
                    "created_at": at,
                    "first_submitted_at": submitted,
                    "submitted_at": submitted,
                    "reviewed_at": None if status == "submitted" else submitted + timedelta(days=1),
                    "reviewed_by_id": None if status == "submitted" else reviewer.id,
                    "review_comment": "",
                    "released_at": submitted + timedelta(days=3) if status == "released" else None,
                    "submission_hash": secrets.token_hex(32),
                    "score": detail["score"],
                    "earned": detail["earned"],
                    "possible": detail["possible"],
                    "score_detail": detail,
                    "version": 1,
                }
            )
        audit_ids = _insert_returning_ids(Audit, audits)
        photos: list[dict[str, Any]] = []
        history: list[dict[str, Any]] = []
        for audit_id, audit in zip(audit_ids, audits, strict=True):
            sha = secrets.token_hex(32)
            photos.append(
                {
                    "client_uuid": uuid.uuid4(),
                    "audit_id": audit_id,
                    "item_id": "receipt",
                    "purpose": "evidence",
                    "status": "ready",
                    "sha256": sha,
                    "format": "jpeg",
                    "byte_size": 250_000,
                    "width": 1600,
                    "height": 1200,
                    "original_key": f"originals/{sha[:2]}/{sha}.jpg",
                    "display_key": f"display/{sha[:2]}/{sha}.jpg",
                    "thumb_key": f"thumbs/{sha[:2]}/{sha}.jpg",
                    "phash": secrets.token_hex(8),
                    "captured_at": audit["visit_started_at"] + timedelta(minutes=5),
                    "uploaded_by_id": audit["shopper_id"],
                    "uploaded_at": audit["submitted_at"],
                    "processed_at": audit["submitted_at"],
                }
            )
            steps = [("submitted", audit["shopper_id"], "shopper", None, "submitted")]
            if audit["status"] != "submitted":
                steps.append(("approve", reviewer.id, "reviewer", "submitted", "approved"))
            if audit["status"] == "released":
                steps.append(("released", reviewer.id, "reviewer", "approved", "released"))
            for action, actor, role, old, new in steps:
                history.append(
                    {
                        "audit_id": audit_id,
                        "at": audit["submitted_at"],
                        "actor_id": actor,
                        "actor_role": role,
                        "action": action,
                        "field": "status",
                        "old_value": old,
                        "new_value": new,
                        "reason": "",
                    }
                )
        for model, rows in ((AuditPhoto, photos), (AuditHistory, history)):
            for start in range(0, len(rows), 5000):
                db.session.execute(sa.insert(model), rows[start : start + 5000])
        db.session.commit()
        region = db.session.execute(sa.select(Region).order_by(Region.id)).scalars().first()
        assert region is not None
        manager_branch = branches[0]
        make_user("bench_manager", "manager", branch_ids=[manager_branch.id])
        make_user("bench_director", "director", region_ids=[region.id])
        manager_audits = [
            i
            for i, a in zip(audit_ids, audits, strict=True)
            if a["branch_id"] == manager_branch.id and a["status"] == "released"
        ]
        fixture = ReadFixture(
            manager_branch_id=manager_branch.id,
            director_region_id=region.id,
            history_shopper="veteran00",
            audit_ids=audit_ids,
            manager_audit_ids=manager_audits,
        )
        counts = dict(
            db.session.execute(
                sa.select(Audit.status, sa.func.count()).group_by(Audit.status)
            ).all()
        )
        db.session.remove()
    print(
        f"  bulk insert: {len(audits)} audits ({counts}), {len(photos)} photos, "
        f"{len(history)} history rows, {len(assignments)} assignments in {sizes.waves} waves: "
        f"{time.perf_counter() - started:.1f} s"
    )
    return fixture


def give_open_assignments(app: Flask, sizes: Sizes, logins: list[str]) -> None:
    """``bundle_assignments`` open assignments in the current wave for each of ``logins``."""
    from auditapp.models import Assignment, Branch, User, Wave
    from auditapp.services import waves

    with app.app_context():
        wave = db.session.execute(sa.select(Wave).order_by(Wave.starts_on.desc())).scalars().first()
        assert wave is not None
        taken = set(
            db.session.execute(
                sa.select(Assignment.branch_id).where(Assignment.wave_id == wave.id)
            ).scalars()
        )
        free = [
            b
            for b in db.session.execute(sa.select(Branch.id).order_by(Branch.id)).scalars()
            if b not in taken
        ]
        free = free or list(db.session.execute(sa.select(Branch.id)).scalars())
        for n, login in enumerate(logins):
            user = db.session.execute(sa.select(User).where(User.login == login)).scalar_one()
            for k in range(sizes.bundle_assignments):
                branch_id = free[(n * sizes.bundle_assignments + k) % len(free)]
                waves.add_assignment(
                    wave.id,
                    {
                        "branch_id": branch_id,
                        "shopper_id": user.id,
                        "window_start": wave.starts_on,
                        "window_end": wave.ends_on,
                        "day_part": None,
                    },
                )
        db.session.remove()


def bench_reads(app: Flask, timer: Timer, sizes: Sizes, rng: random.Random) -> None:
    """Time the reading paths on the bulk data; count statements at two page sizes."""
    print(f"\n3. Reading at scale (~{sizes.audits} audits over {sizes.branches} branches)")
    fixture = bulk_audits(app, sizes, rng)
    make = app.app_context
    with make():
        make_user("fresh_shopper", "shopper")
        db.session.remove()
    give_open_assignments(app, sizes, [fixture.history_shopper, "fresh_shopper"])
    reviewer = ApiClient(app, "reviewer")
    admin = ApiClient(app, "admin")
    manager = ApiClient(app, "bench_manager")
    director = ApiClient(app, "bench_director")
    veteran = ApiClient(app, fixture.history_shopper)
    fresh = ApiClient(app, "fresh_shopper")

    def measure(label: str, client: ApiClient, paths: list[str], extra: str = "") -> Any:
        timer.run(None, lambda: client.get(paths[0]), 200)  # warm-up, not counted
        samples = Samples()
        response = None
        for index in range(sizes.reads):
            path = paths[index % len(paths)]
            response = timer.run(samples, lambda p=path: client.get(p), 200)
        print_samples(label, samples, extra)
        return response

    def sql_by_page_size(client: ApiClient, path: str) -> str:
        counts = []
        for per_page in (10, 50, 200):
            sep = "&" if "?" in path else "?"
            before = timer.counter.count
            response = client.get(f"{path}{sep}per_page={per_page}")
            assert response.status_code == 200, response.get_data()[:300]
            items = len(response.get_json()["items"])
            counts.append(f"{timer.counter.count - before} ({items} items)")
        return "   SQL at per_page 10/50/200: " + " / ".join(counts)

    lists = [
        ("review queue, reviewer", reviewer, "/api/v1/review/queue"),
        ("audits, manager of 1 branch", manager, "/api/v1/audits"),
        ("audits, director of 1 region", director, "/api/v1/audits"),
        ("audits, admin", admin, "/api/v1/audits"),
    ]
    for label, client, path in lists:
        response = measure(label + " (per_page 50)", client, [f"{path}?page=1&per_page=50"])
        print(f"      total={response.get_json()['total']}" + sql_by_page_size(client, path))
    measure("audits, admin, page 100 (deep offset)", admin, ["/api/v1/audits?page=100&per_page=50"])
    sample = rng.sample(fixture.audit_ids, min(len(fixture.audit_ids), sizes.reads))
    measure("audit detail, admin", admin, [f"/api/v1/audits/{i}" for i in sample])
    measure(
        "audit detail, manager (branch view)",
        manager,
        [f"/api/v1/audits/{i}" for i in fixture.manager_audit_ids],
    )
    with make():
        from auditapp.models import Assignment, User

        history = db.session.execute(
            sa.select(sa.func.count())
            .select_from(Assignment)
            .join(User, User.id == Assignment.shopper_id)
            .where(User.login == fixture.history_shopper)
        ).scalar_one()
        db.session.remove()
    for label, client in (
        (f"shopper bundle, 20 open + {history - 20} past", veteran),
        ("shopper bundle, 20 open, no past visits", fresh),
    ):
        response = measure(label, client, ["/api/v1/shopper/bundle"])
        body = response.get_json()
        print(
            f"      {len(body['assignments'])} assignments in the bundle, "
            f"{len(response.get_data()) / 1024:.0f} KB"
        )


# 4. Over HTTP against a floor (--http) -------------------------------------------------------
#
# The real app and a floor app run under gunicorn (2 sync workers each) on the same database; a
# load generator drives each request with 8 concurrent connections for a bounded time. The floor
# is a bare Flask app doing the least each request needs, so the ratio app/floor says how much of
# the machine the app's own layers cost, whatever the machine.

HTTP_CHECKLIST = ROOT / "checklists" / "hotel-stay.yaml"
HTTP_BRANCHES = 60
HTTP_SUBMITTERS = 8
HTTP_LIST_ROWS = 31


@dataclass
class HttpFixture:
    """Ids and bearer tokens the HTTP requests use."""

    admin_token: str
    manager_token: str
    bundle_token: str
    submit_tokens: list[str]
    audit_ids: list[int]
    manager_branch_id: int
    bundle_shopper_id: int
    submit_visits: list[list[tuple[int, str, int]]]  # (assignment id, draft UUID, staff id)
    answers: dict[str, Any]


def full_answers(checklist: Any) -> dict[str, Any]:
    """A complete, valid answer to every item of ``checklist`` (full marks where scored)."""
    answers: dict[str, Any] = {}
    for item in checklist.items():
        if item.type == "yes_no":
            answers[item.id] = True
        elif item.type == "choice":
            answers[item.id] = max(item.options, key=lambda option: option.score).id
        elif item.type == "scale":
            answers[item.id] = item.scale_max
        elif item.type == "number":
            first = item.bands[0].upto
            answers[item.id] = 0 if first is None else max(1, int(first * 0.6))
        else:
            answers[item.id] = "Всё по стандарту, сотрудник был вежлив."
    return answers


def insert_photos(audits: list[tuple[int, int]], item_ids: list[str], at: datetime) -> None:
    """A processed evidence photo for each of ``item_ids`` on each (audit id, shopper id)."""
    from auditapp.models import AuditPhoto

    rows = []
    for audit_id, shopper in audits:
        for item_id in item_ids:
            sha = secrets.token_hex(32)
            rows.append(
                {
                    "client_uuid": uuid.uuid4(),
                    "audit_id": audit_id,
                    "item_id": item_id,
                    "purpose": "evidence",
                    "status": "ready",
                    "sha256": sha,
                    "format": "jpeg",
                    "byte_size": 250_000,
                    "width": 1600,
                    "height": 1200,
                    "original_key": f"originals/{sha[:2]}/{sha}.jpg",
                    "display_key": f"display/{sha[:2]}/{sha}.jpg",
                    "thumb_key": f"thumbs/{sha[:2]}/{sha}.jpg",
                    "phash": secrets.token_hex(8),
                    "captured_at": at,
                    "uploaded_by_id": shopper,
                    "uploaded_at": at,
                    "processed_at": at,
                }
            )
    for start in range(0, len(rows), 5000):
        db.session.execute(sa.insert(AuditPhoto), rows[start : start + 5000])


def http_fixture(app: Flask, seconds: float) -> HttpFixture:
    """A hotel network on the hotel stay checklist (45 items): a manager's branch with 31
    released audits (every item answered, a photo per item that requires one, history, staff
    served), a shopper with 20 open visits, and 8 shoppers with enough open visits to submit
    for ``seconds`` at up to ~400 requests/s, each already a draft holding its required photos
    (as the phone uploads them before it submits)."""
    from auditapp.domain.scoring import score_audit
    from auditapp.models import (
        Assignment,
        Audit,
        AuditHistory,
        AuditStaff,
        Branch,
        Region,
        StaffMember,
        StaffPlacement,
        User,
        Wave,
        wave_branch,
    )
    from auditapp.services import checklists, users
    from auditapp.services.waves import due_at

    today = date.today()
    with app.app_context():
        outcome = checklists.import_checklist(
            HTTP_CHECKLIST.read_text(encoding="utf-8"), HTTP_CHECKLIST.name
        )
        version = checklists.get_version(outcome.id)
        checklist = checklists.checklist_of(version)
        answers = full_answers(checklist)
        photo_items = [item.id for item in checklist.items() if item.photo == "required"]
        region_id = _insert_returning_ids(Region, [{"code": "R1", "name": "Регион 1"}])[0]
        branch_rows = [
            {
                "region_id": region_id,
                "code": f"H{n:03d}",
                "name": f"Отель №{n}",
                "kind": "hotel",
                "city": CITIES[n % len(CITIES)],
                "address": f"ул. Ленина, {n}",
                "timezone": "Europe/Moscow",
                "latitude": 55.75,
                "longitude": 37.62,
            }
            for n in range(1, HTTP_BRANCHES + 1)
        ]
        branch_ids = _insert_returning_ids(Branch, branch_rows)
        branches = {b.id: b for b in db.session.execute(sa.select(Branch)).scalars()}
        staff_ids = _insert_returning_ids(
            StaffMember,
            [
                {
                    "employee_code": f"E{n:04d}",
                    "full_name": f"{SURNAMES[n % 8]} {FIRST_NAMES[n % 8]} {n}",
                    "position": "reservations_agent",
                    "hired_on": date(2024, 1, 1),
                }
                for n in range(HTTP_BRANCHES * 5)
            ],
        )
        db.session.execute(
            sa.insert(StaffPlacement),
            [
                {
                    "staff_member_id": s,
                    "branch_id": branch_ids[n // 5],
                    "position": "reservations_agent",
                    "started_on": date(2024, 1, 1),
                }
                for n, s in enumerate(staff_ids)
            ],
        )
        admin = db.session.execute(sa.select(User).where(User.login == "admin")).scalar_one()
        manager_branch = branch_ids[0]
        make_user("http_manager", "manager", branch_ids=[manager_branch])
        bundle_shopper = make_user("http_bundle", "shopper")
        submitters = [make_user(f"http_submit{i}", "shopper") for i in range(HTTP_SUBMITTERS)]
        veterans = [make_user(f"http_veteran{i:02d}", "shopper") for i in range(HTTP_LIST_ROWS)]

        def wave(name: str, starts_on: date, ends_on: date) -> int:
            wave_id = _insert_returning_ids(
                Wave,
                [
                    {
                        "name": name,
                        "checklist_version_id": version.id,
                        "starts_on": starts_on,
                        "ends_on": ends_on,
                        "visits_per_branch": 1,
                        "day_parts": [],
                        "created_by_id": admin.id,
                    }
                ],
            )[0]
            db.session.execute(
                sa.insert(wave_branch), [{"wave_id": wave_id, "branch_id": b} for b in branch_ids]
            )
            return wave_id

        def assignment(wave_id: int, branch_id: int, shopper: int, start: date, end: date) -> Any:
            return {
                "wave_id": wave_id,
                "branch_id": branch_id,
                "shopper_id": shopper,
                "window_start": start,
                "window_end": end,
                "due_at": due_at(branches[branch_id], end),
            }

        # The manager's 31 released audits, one per veteran shopper, every item answered.
        past_start, past_end = today - timedelta(days=60), today - timedelta(days=40)
        past = wave("Прошлая волна", past_start, past_end)
        past_assignments = _insert_returning_ids(
            Assignment,
            [assignment(past, manager_branch, v, past_start, past_end) for v in veterans],
        )
        detail = score_audit(checklist, answers).to_dict()
        at = datetime.combine(past_start, datetime.min.time(), UTC) + timedelta(hours=10)
        audit_ids = _insert_returning_ids(
            Audit,
            [
                {
                    "client_uuid": uuid.uuid4(),
                    "assignment_id": a,
                    "checklist_version_id": version.id,
                    "branch_id": manager_branch,
                    "shopper_id": v,
                    "status": "released",
                    "answers": answers,
                    "comment": "Номер чистый, персонал приветлив.",
                    "channel": version.channel,
                    "visit_started_at": at,
                    "visit_ended_at": at + timedelta(minutes=12),
                    "created_at": at,
                    "first_submitted_at": at + timedelta(hours=1),
                    "submitted_at": at + timedelta(hours=1),
                    "reviewed_at": at + timedelta(days=1),
                    "reviewed_by_id": admin.id,
                    "review_comment": "",
                    "released_at": at + timedelta(days=2),
                    "submission_hash": secrets.token_hex(32),
                    "score": detail["score"],
                    "earned": detail["earned"],
                    "possible": detail["possible"],
                    "score_detail": detail,
                    "version": 3,
                }
                for a, v in zip(past_assignments, veterans, strict=True)
            ],
        )
        history, served = [], []
        for audit_id, shopper in zip(audit_ids, veterans, strict=True):
            served.append(
                {"audit_id": audit_id, "staff_role": "reservations_agent", "description": ""}
                | {"staff_member_id": staff_ids[0]}
            )
            for action, actor, role, old, new in (
                ("submitted", shopper, "shopper", None, "submitted"),
                ("approve", admin.id, "admin", "submitted", "approved"),
                ("released", admin.id, "admin", "approved", "released"),
            ):
                history.append(
                    {
                        "audit_id": audit_id,
                        "at": at + timedelta(days=1),
                        "actor_id": actor,
                        "actor_role": role,
                        "action": action,
                        "field": "status",
                        "old_value": old,
                        "new_value": new,
                        "reason": "",
                    }
                )
        db.session.execute(sa.insert(AuditHistory), history)
        db.session.execute(sa.insert(AuditStaff), served)
        insert_photos(list(zip(audit_ids, veterans, strict=True)), photo_items, at)

        # Open visits: 20 for the bundle's shopper; enough for every submitter.
        start, end = today - timedelta(days=5), today + timedelta(days=25)
        count = 1 + int(seconds * 400 / HTTP_SUBMITTERS / HTTP_BRANCHES)
        waves = [wave(f"Текущая волна {n}", start, end) for n in range(count)]
        rows = [assignment(waves[0], b, bundle_shopper, start, end) for b in branch_ids[:20]]
        _insert_returning_ids(Assignment, rows)
        submit_visits: list[list[tuple[int, str, int]]] = []
        now = datetime.now(UTC)
        for shopper in submitters:
            pairs = [(w, n) for w in waves for n in range(HTTP_BRANCHES)]
            rows = [assignment(w, branch_ids[n], shopper, start, end) for w, n in pairs]
            visits = _insert_returning_ids(Assignment, rows)
            uuids = [uuid.uuid4() for _ in visits]
            drafts = _insert_returning_ids(
                Audit,
                [
                    {
                        "client_uuid": u,
                        "assignment_id": a,
                        "checklist_version_id": version.id,
                        "branch_id": branch_ids[n],
                        "shopper_id": shopper,
                        "status": "in_progress",
                        "answers": {},
                        "channel": version.channel,
                        "created_at": now,
                        "version": 1,
                    }
                    for u, a, (_, n) in zip(uuids, visits, pairs, strict=True)
                ],
            )
            insert_photos([(d, shopper) for d in drafts], photo_items, now)
            submit_visits.append(
                [
                    (a, str(u), staff_ids[n * 5])
                    for a, u, (_, n) in zip(visits, uuids, pairs, strict=True)
                ]
            )
        db.session.commit()

        def token(login: str) -> str:
            user = db.session.execute(sa.select(User).where(User.login == login)).scalar_one()
            return users.create_token(user, "bench", None)[1]

        fixture = HttpFixture(
            admin_token=token("admin"),
            manager_token=token("http_manager"),
            bundle_token=token("http_bundle"),
            submit_tokens=[token(f"http_submit{i}") for i in range(HTTP_SUBMITTERS)],
            audit_ids=audit_ids,
            manager_branch_id=manager_branch,
            bundle_shopper_id=bundle_shopper,
            submit_visits=submit_visits,
            answers=answers,
        )
        db.session.remove()
    return fixture


def http_app() -> Flask:
    """The app gunicorn serves: ``BENCH_HTTP_KIND`` ``app`` (auditapp) or ``floor``."""
    url, tmp = os.environ["BENCH_HTTP_URL"], Path(os.environ["BENCH_HTTP_TMP"])
    if os.environ["BENCH_HTTP_KIND"] == "floor":
        return floor_app(url)
    return create_app(app_config(url, tmp, TESTING=False))


_FLOOR = sa.MetaData()
FLOOR_AUDIT = sa.Table(
    "bench_floor_audit",
    _FLOOR,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_uuid", sa.Uuid, unique=True, nullable=False),
    sa.Column("assignment_id", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
)
FLOOR_ANSWER = sa.Table(
    "bench_floor_answer",
    _FLOOR,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("audit_id", sa.ForeignKey("bench_floor_audit.id"), nullable=False, index=True),
    sa.Column("item_id", sa.String(80), nullable=False),
    sa.Column("value", sa.JSON),
)


def floor_app(url: str) -> Flask:
    """The floor: a bare Flask app on the same database doing the least each request needs
    (bare JSON; one indexed SELECT for a read; one audit and 20 answers inserted for a submit,
    with the ORM and a commit)."""
    from flask import jsonify, request
    from sqlalchemy.orm import Session, registry, relationship

    class FloorAudit:
        """A submitted report, as little of it as a submission must store."""

    class FloorAnswer:
        """One answer."""

    mapper = registry()
    mapper.map_imperatively(
        FloorAudit, FLOOR_AUDIT, properties={"answers": relationship(FloorAnswer)}
    )
    mapper.map_imperatively(FloorAnswer, FLOOR_ANSWER)
    engine = sa.create_engine(url)
    floor = Flask("floor")

    from auditapp.models import Assignment, Audit

    audit_table, assignment_table = Audit.__table__, Assignment.__table__

    def rows(statement: Any) -> list[dict[str, Any]]:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(statement)]

    @floor.get("/healthz")
    def health() -> Any:
        return jsonify(status="ok")

    # Reads return the rows the real answer is made from (answers and score details included),
    # so the floor pays for the bytes the request must carry, but for nothing else.
    @floor.get("/api/v1/audits/<int:audit_id>")
    def audit(audit_id: int) -> Any:
        found = rows(sa.select(audit_table).where(audit_table.c.id == audit_id))
        return jsonify(found[0]) if found else ("", 404)

    @floor.get("/api/v1/audits")
    def audits() -> Any:
        query = (
            sa.select(audit_table)
            .where(audit_table.c.branch_id == int(request.args["branch_id"]))
            .where(audit_table.c.status == "released")
            .order_by(audit_table.c.id.desc())
            .limit(50)
        )
        return jsonify(items=rows(query))

    @floor.get("/api/v1/shopper/bundle")
    def bundle() -> Any:
        query = (
            sa.select(assignment_table)
            .where(assignment_table.c.shopper_id == int(request.args["shopper_id"]))
            .order_by(assignment_table.c.due_at)
        )
        return jsonify(assignments=rows(query))

    @floor.post("/api/v1/audits/<uuid:client_uuid>/submit")
    def submit(client_uuid: uuid.UUID) -> Any:
        body = request.get_json()
        report = FloorAudit()
        report.client_uuid = client_uuid  # type: ignore[attr-defined]
        report.assignment_id = body["assignment_id"]  # type: ignore[attr-defined]
        report.status = "submitted"  # type: ignore[attr-defined]
        report.submitted_at = datetime.now(UTC)  # type: ignore[attr-defined]
        for item_id, value in list(body["answers"].items())[:20]:
            answer = FloorAnswer()
            answer.item_id, answer.value = item_id, value  # type: ignore[attr-defined]
            report.answers.append(answer)  # type: ignore[attr-defined]
        with Session(engine) as session:
            session.add(report)
            session.commit()
            return jsonify(id=report.id, status="submitted"), 201  # type: ignore[attr-defined]

    return floor


def free_port() -> int:
    """A TCP port nobody listens on now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(kind: str, url: str, tmp: Path) -> Iterator[int]:
    """Serve ``kind`` (``app`` or ``floor``) under gunicorn, 2 sync workers; yields the port."""
    import http.client
    import subprocess

    port = free_port()
    env = os.environ | {"BENCH_HTTP_KIND": kind, "BENCH_HTTP_URL": url, "BENCH_HTTP_TMP": str(tmp)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers=2",
            "--worker-class=sync",
            f"--bind=127.0.0.1:{port}",
            f"--chdir={ROOT}",
            "--log-level=warning",
            "bench.api:http_app()",
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn ({kind}) did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


@dataclass
class Request:
    """One kind of request: how to make the n-th request of connection c."""

    label: str
    make: Callable[[int, int], tuple[str, str, bytes | None, dict[str, str]]]
    expect: int


@dataclass
class Load:
    """What a bounded run measured."""

    requests: int
    seconds: float
    ms: list[float]

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds

    def percentile(self, q: int) -> float:
        """The q-th percentile latency in ms."""
        return statistics.quantiles(self.ms, n=100, method="inclusive")[q - 1]


def drive(port: int, request: Request, seconds: float, connections: int = 8) -> Load:
    """``connections`` threads, each with its own keep-alive ``http.client`` connection (it
    reconnects by itself when the server closes, as gunicorn's sync workers do after every
    response), send ``request`` for ``seconds`` after a short warm-up."""
    import http.client
    import threading

    start_at = time.perf_counter() + 1.0  # one second of warm-up, not counted
    stop_at = start_at + seconds
    results: list[list[float]] = [[] for _ in range(connections)]
    errors: list[str] = []

    def worker(c: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while True:
            began = time.perf_counter()
            if began >= stop_at:
                break
            try:
                method, path, body, headers = request.make(c, n)
            except IndexError:  # no more open visits to submit
                break
            n += 1
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            ended = time.perf_counter()
            if response.status != request.expect:
                errors.append(f"{response.status} {data[:300]!r}")
                break
            if began >= start_at:
                results[c].append((ended - began) * 1000)
        conn.close()

    threads = [threading.Thread(target=worker, args=(c,)) for c in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"{request.label}: unexpected answer {errors[0]}")
    ms = [m for r in results for m in r]
    return Load(len(ms), seconds, ms)


def http_requests(fixture: HttpFixture, floor: bool) -> list[Request]:
    """The five requests, as the app and as the floor ask them (the floor needs no token and is
    told the branch or shopper the app finds from the token)."""
    import json

    def bearer(token: str) -> dict[str, str]:
        return {} if floor else {"Authorization": f"Bearer {token}"}

    def get(path: str, token: str) -> Callable[[int, int], Any]:
        return lambda c, n: ("GET", path, None, bearer(token))

    ids = fixture.audit_ids
    started = datetime.now(UTC) - timedelta(hours=2)

    def detail(c: int, n: int) -> Any:
        return (
            "GET",
            f"/api/v1/audits/{ids[(c * 7 + n) % len(ids)]}",
            None,
            bearer(fixture.admin_token),
        )

    def submit(c: int, n: int) -> Any:
        visits = fixture.submit_visits[c]
        # The app needs an open visit per submission (IndexError when used up); the floor
        # stores any number against the same ids.
        assignment, draft, staff = visits[n % len(visits)] if floor else visits[n]
        body = {
            "assignment_id": assignment,
            "answers": fixture.answers,
            "comment": "Номер чистый, персонал приветлив.",
            "visit_started_at": started.isoformat(),
            "visit_ended_at": (started + timedelta(minutes=50)).isoformat(),
            "geo": {"lat": 55.7503, "lon": 37.62, "accuracy_m": 20},
            "staff": [{"staff_role": "receptionist", "staff_member_id": staff}],
        }
        headers = bearer(fixture.submit_tokens[c]) | {"Content-Type": "application/json"}
        draft = str(uuid.uuid4()) if floor else draft
        return ("POST", f"/api/v1/audits/{draft}/submit", json.dumps(body).encode(), headers)

    manager_list = "/api/v1/audits" + (f"?branch_id={fixture.manager_branch_id}" if floor else "")
    bundle = "/api/v1/shopper/bundle" + (
        f"?shopper_id={fixture.bundle_shopper_id}" if floor else ""
    )
    return [
        Request("GET /healthz", get("/healthz", ""), 200),
        Request(f"GET /audits/{{id}} ({len(fixture.answers)} items, admin)", detail, 200),
        Request(
            f"GET /audits as a manager ({HTTP_LIST_ROWS} rows)",
            get(manager_list, fixture.manager_token),
            200,
        ),
        Request("GET /shopper/bundle (20 open visits)", get(bundle, fixture.bundle_token), 200),
        Request(f"POST .../submit ({len(fixture.answers)} items)", submit, 201),
    ]


def bench_http(
    app: Flask, url: str, tmp: Path, seconds: float, rounds: int, only: str | None = None
) -> None:
    """Each request against the app and the floor, ``rounds`` times interleaved; medians."""
    print(
        f"\n4. Over HTTP: gunicorn {_version('gunicorn')} (2 sync workers) per app, "
        f"8 connections, {seconds:g} s per run after 1 s warm-up, {rounds} round(s), medians"
    )
    print(
        "  load generator: Python http.client, 8 threads in the bench process, one keep-alive "
        "connection each (gunicorn's sync workers close it after every response)"
    )
    print(f"  app code: {Path(sys.modules['auditapp'].__file__ or '').parent}")
    with app.app_context():
        _FLOOR.create_all(db.engine)
        db.engine.dispose()
    # Submissions use up open visits: every round needs its own share.
    fixture = http_fixture(app, seconds * rounds * 1.2 + rounds * 2)
    app_requests = http_requests(fixture, floor=False)
    floor_requests = http_requests(fixture, floor=True)
    offsets = [0] * HTTP_SUBMITTERS
    chosen = [
        i
        for i, r in enumerate(app_requests)
        if not only or any(word in r.label for word in only.split(","))
    ]
    loads: dict[tuple[str, int], list[Load]] = {}
    with gunicorn("app", url, tmp) as app_port, gunicorn("floor", url, tmp) as floor_port:
        for _ in range(rounds):
            for index in chosen:
                for side, port, requests in (
                    ("floor", floor_port, floor_requests),
                    ("app", app_port, app_requests),
                ):
                    request = requests[index]
                    if index == 4 and side == "app":
                        request = _submit_from(request, fixture, offsets)
                    load = drive(port, request, seconds)
                    loads.setdefault((side, index), []).append(load)
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"  {'request':<40} {'app rps':>8} {'p50':>6} {'p99':>6}   {'floor rps':>9} {'p50':>6}"
        f" {'p99':>6}   {'ratio':>5}  p99/floor's"
    )
    for index in chosen:
        request = app_requests[index]
        mine, base = loads[("app", index)], loads[("floor", index)]
        rps = statistics.median(x.rps for x in mine)
        floor_rps = statistics.median(x.rps for x in base)
        p50 = statistics.median(x.percentile(50) for x in mine)
        p99 = statistics.median(x.percentile(99) for x in mine)
        f50 = statistics.median(x.percentile(50) for x in base)
        f99 = statistics.median(x.percentile(99) for x in base)
        print(
            f"  {request.label:<40} {rps:8.0f} {p50:6.1f} {p99:6.1f}   {floor_rps:9.0f} "
            f"{f50:6.1f} {f99:6.1f}   {rps / floor_rps:5.2f}  {p99 / f99:5.1f}x"
        )


def _submit_from(request: Request, fixture: HttpFixture, offsets: list[int]) -> Request:
    """The submit request continuing after the visits earlier rounds used."""
    base = list(offsets)
    used = offsets

    def make(c: int, n: int) -> Any:
        used[c] = base[c] + n + 1
        return request.make(c, base[c] + n)

    return Request(request.label, make, request.expect)


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


# Main ----------------------------------------------------------------------------------------


def machine_note(description: str, sizes: Sizes, quick: bool) -> None:
    """Cores, Python, SQLAlchemy, database and sizes."""
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()} "
        f"({platform.machine()}, {platform.system()}), SQLAlchemy {sa.__version__}"
    )
    print(f"database: {description}")
    print(
        f"sizes{' (--quick)' if quick else ''}: {sizes.branches} branches, {sizes.staff} staff, "
        f"{sizes.submissions} submissions, ~{sizes.audits} audits, {sizes.reads} reads per path"
    )


def main(argv: list[str] | None = None) -> int:
    """Parse the options, build the database, run the three parts, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", help="PostgreSQL base URL (default: SQLite temp file)")
    parser.add_argument("--quick", action="store_true", help="divide the sizes by 10")
    parser.add_argument("--seed", type=int, default=2026, help="random seed for the data")
    parser.add_argument(
        "--http",
        action="store_true",
        help="instead of 1-3: each hot path over HTTP (gunicorn) against a floor app",
    )
    parser.add_argument("--seconds", type=float, default=10, help="--http: seconds per run")
    parser.add_argument("--rounds", type=int, default=1, help="--http: interleaved rounds")
    parser.add_argument("--only", help="--http: requests whose label has one of these words")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="auditapp-bench-"))
    started = time.perf_counter()
    try:
        with fresh_database(args.database_url, tmp) as (url, description):
            machine_note(description, sizes, args.quick)
            app = build_app(url, tmp)
            with app.app_context():
                from flask_migrate import upgrade

                upgrade()
                counter = SqlCounter(db.engine)
                make_user("admin", "admin")
                make_user("reviewer", "reviewer")
                db.session.remove()
            timer = Timer(counter)
            try:
                if args.http:
                    bench_http(app, url, tmp, args.seconds, args.rounds, args.only)
                    return 0
                bench_import(app, timer, sizes, rng)
                bench_submission(app, timer, sizes)
                bench_reads(app, timer, sizes, rng)
            finally:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
