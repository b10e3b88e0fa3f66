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
4. Concurrent submission: the app served by gunicorn (2 and 4 sync workers) on the same
   database, 8 client threads submitting prepared reports (photo already uploaded) over HTTP at
   once: submissions per second, median / p90 / p99 latency, and every status other than 201.
5. With ``--http`` (instead of 1-4; ``bench/api_http.py``): the hot paths over HTTP. The app
   and a floor app (a bare Flask app on the same database doing the least each request needs)
   each run under gunicorn with 2 sync workers; 8 concurrent connections drive each request for
   a bounded time; it prints requests/s, p50 and p99 of the app and of the floor, and their
   ratio: GET /healthz, an audit's detail (45 items, admin), the audit list as a manager
   (31 rows), the shopper's bundle, and a submission (45 items).

Every per-request figure comes with N and the number of SQL statements the request ran (an
SQLAlchemy ``before_cursor_execute`` listener). Lists are also counted at two page sizes: a
count growing with the page size is an N+1. Nothing is asserted about time.

Run from the repository root::

    .venv/bin/python bench/api.py                  # SQLite, about 1-2 minutes
    .venv/bin/python bench/api.py --quick          # sizes / 10
    .venv/bin/python bench/api.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/api.py --part concurrent    # only part 4 (SQLite WAL, locking)
    .venv/bin/python bench/api.py --http --rounds 3    # 5. hot paths over HTTP vs a floor app
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import os
import platform
import queue
import random
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
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
from tests.support import (  # noqa: E402
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


# Clients (as in tests/support.py) ------------------------------------------------------------


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


def prepare_fieldwork(
    app: Flask, timer: Timer, sizes: Sizes, shoppers: str = "shopper"
) -> tuple[int, list[Visit]]:
    """Import the example checklist, plan a wave over every branch and distribute the visits
    among new shoppers ``{shoppers}00``... (over the API, timed); returns the wave id and the
    visits."""
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
            waves.WavePlan(
                name="Текущая волна",
                checklist_version_id=version.id,
                starts_on=date.today() - timedelta(days=10),
                ends_on=date.today() + timedelta(days=20),
                visits_per_branch=1,
                day_parts=[],
                branch_ids=branch_ids,
            ),
        )
        wave_id = wave.id
        shopper_ids = [
            make_user(f"{shoppers}{i:02d}", "shopper") for i in range(sizes.submit_shoppers)
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
    """A complete, valid report for the example checklist (as ``tests/support.py``)."""
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
    from auditapp.services.credentials import hash_password
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
                    waves.NewAssignment(
                        branch_id=branch_id,
                        shopper_id=user.id,
                        window_start=wave.starts_on,
                        window_end=wave.ends_on,
                        day_part=None,
                    ),
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


# 4. Concurrent submission --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPResponse, bytes]:
    """One request on a new connection (gunicorn's sync workers close every connection)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        payload = None if body is None else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        return response.status, response, response.read()
    finally:
        connection.close()


@contextmanager
def gunicorn(url: str, tmp: Path, workers: int) -> Iterator[int]:
    """Serve the app with gunicorn on ``url`` (inline jobs, cheap hashing); yield the port."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret",
        "AUDITAPP_PHOTO_STORAGE_URL": str(tmp / "media"),
        "AUDITAPP_HUEY_IMMEDIATE": "true",
        "AUDITAPP_RATELIMIT_ENABLED": "false",
        "AUDITAPP_ARGON2_TIME_COST": "1",
        "AUDITAPP_ARGON2_MEMORY_COST": "1024",
    }
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "auditapp:create_app()",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _http(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _http_login(port: int, login: str) -> dict[str, str]:
    """Sign in over HTTP; the headers (session cookie, CSRF token) that later requests send."""
    status, response, body = _http(
        port, "POST", "/api/v1/auth/login", {"login": login, "password": PASSWORD}
    )
    if status != 200:
        raise SystemExit(f"login {login} over HTTP failed: {status} {body[:300]!r}")
    cookies = [c.split(";", 1)[0] for c in response.msg.get_all("Set-Cookie") or []]
    return {"Cookie": "; ".join(cookies), "X-CSRFToken": json.loads(body)["csrf_token"]}


def _percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def _submit_together(
    port: int, ready: list[tuple[str, Visit]], headers: dict[str, dict[str, str]], threads: int
) -> tuple[list[float], dict[int, int], float]:
    """POST every prepared submit from ``threads`` threads released at once; returns the
    latencies (ms), the count of each status and the wall-clock seconds of the whole batch."""
    work: queue.Queue[tuple[str, Visit]] = queue.Queue()
    for item in ready:
        work.put(item)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start_line = threading.Barrier(threads + 1)

    def client() -> None:
        start_line.wait()
        while True:
            try:
                path, visit = work.get_nowait()
            except queue.Empty:
                return
            began = time.perf_counter()
            status = _http(port, "POST", path, submit_body(visit), headers[visit.shopper])[0]
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    pool = [threading.Thread(target=client) for _ in range(threads)]
    for thread in pool:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in pool:
        thread.join()
    return latencies, statuses, time.perf_counter() - began


def bench_concurrent_submission(
    app: Flask, url: str, tmp: Path, timer: Timer, sizes: Sizes
) -> None:
    """Reports with their photo uploaded beforehand, submitted by 8 threads at once to
    gunicorn: what the database's locking lets through when shoppers submit together."""
    print("\n4. Concurrent submission (gunicorn sync workers, 8 client threads, HTTP)")
    _, visits = prepare_fieldwork(app, timer, sizes, shoppers="concurrent")
    clients = {login: ApiClient(app, login) for login in sorted({v.shopper for v in visits})}
    threads = 8
    for workers in (2, 4):
        batch, visits = visits[: sizes.submissions], visits[sizes.submissions :]
        ready: list[tuple[str, Visit]] = []
        for number, visit in enumerate(batch):
            audit_uuid = uuid.uuid4()
            form = {
                "assignment_id": str(visit.assignment_id),
                "item_id": "receipt",
                "photo_uuid": str(uuid.uuid4()),
                "file": (io.BytesIO(jpeg_bytes(10_000 + number)), "photo.jpg"),
            }
            path = f"/api/v1/audits/{audit_uuid}/photos"
            shopper = clients[visit.shopper]
            timer.run(
                None,
                lambda p=path, f=form, s=shopper: s.post(
                    p, data=f, content_type="multipart/form-data"
                ),
                201,
            )
            ready.append((f"/api/v1/audits/{audit_uuid}/submit", visit))
        with gunicorn(url, tmp, workers) as port:
            headers = {login: _http_login(port, login) for login in {v.shopper for _, v in ready}}
            latencies, statuses, wall = _submit_together(port, ready, headers, threads)
        other = {k: v for k, v in statuses.items() if k != 201}
        print(
            f"  {workers} workers: {len(latencies)} submits in {wall:5.2f} s = "
            f"{len(latencies) / wall:6.1f} /s   median {statistics.median(latencies):6.1f} ms"
            f"   p90 {_percentile(latencies, 0.9):6.1f} ms"
            f"   p99 {_percentile(latencies, 0.99):6.1f} ms   not 201: {other or 'none'}"
        )


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
        "--part",
        choices=("all", "concurrent"),
        default="all",
        help="run every part, or only part 4 (concurrent submission)",
    )
    parser.add_argument(
        "--http",
        action="store_true",
        help="instead of 1-4: each hot path over HTTP (gunicorn) against a floor app "
        "(bench/api_http.py)",
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
                    from bench.api_http import bench_http

                    bench_http(app, url, tmp, args.seconds, args.rounds, args.only)
                    return 0
                if args.part == "concurrent":
                    bench_import(app, timer, sizes, rng)
                    bench_concurrent_submission(app, url, tmp, timer, sizes)
                else:
                    bench_import(app, timer, sizes, rng)
                    bench_submission(app, timer, sizes)
                    bench_reads(app, timer, sizes, rng)
                    bench_concurrent_submission(app, url, tmp, timer, sizes)
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
