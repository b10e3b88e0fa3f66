"""``bench/api.py --http``: the hot paths over HTTP, each beside a floor app on the same data.

The real app and a floor app (a bare Flask app on the same database doing the least each request
needs) each run under gunicorn with 2 sync workers on a free local port; 8 concurrent keep-alive
connections drive each request for a bounded time, and it prints requests/s, p50 and p99 of the
app and of the floor, and their ratio. Run it through ``bench/api.py --http``.
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from auditapp import create_app
from auditapp.extensions import db
from bench.api import CITIES, FIRST_NAMES, ROOT, SURNAMES, _insert_returning_ids
from tests.support import app_config, make_user

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
            "bench.api_http:http_app()",
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
