"""Benchmark the reports: PDF kinds, the JPEG pass-through floor, and the streamed answer export.

Printed, each a median of ``--repeat`` runs in this one process (nothing is asserted):

1. **Pass-through floor**: the same 11-page document with 20 JPEG thumbnails (320 x 240, as
   stored) rendered with reportlab's defaults (``drawImage`` decodes each JPEG, every stream
   goes through ASCII85) and with this project's path (JPEG bytes embedded as they are, binary
   streams).
2. **Audit report**, 60 items and 20 photos, released, fetched by its branch's manager through
   the Flask test client (``GET /audits/{id}/report.pdf``: the read, the redaction, the
   thumbnails from storage, the layout).
3. **Branch scorecard** for a quarter over the ratings bench's generated network
   (``--scale``, default 0.01: 50 branches, 10,000 audits) (``GET .../scorecard.pdf``).
4. **Network comparison** of every generated branch (the background job's work, run inline:
   ``POST /ratings/comparison-jobs`` then the file), as admin.
5. **Answers export** (CSV, admin: every answer), streamed by a fresh worker process (this
   script run with ``--export-worker``): rows per second, the time to the first chunk, and the
   worker's RSS before the export and its peak (``VmHWM``) after it.

Each median is printed with the median CPU time of the process beside it: on a shared machine
the wall time also holds the wait for a core. ``--only`` picks figures (``floor``, ``report``,
``scorecard``, ``comparison``, ``export``); ``--branches`` and ``--audits`` size the network
apart from ``--scale`` (a 5,000-branch comparison without a million audits to load).

Run from the repository root::

    .venv/bin/python bench/reports.py
    .venv/bin/python bench/reports.py --scale 0.1 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/reports.py --branches 5000 --audits 143000 --repeat 5 \\
        --only report,comparison,export --database-url postgresql://postgres@127.0.0.1:5432/DB
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw  # noqa: E402
from reportlab import rl_config  # noqa: E402
from reportlab.platypus import Image as PlatypusImage  # noqa: E402
from reportlab.platypus import PageBreak, Paragraph  # noqa: E402

from auditapp import create_app  # noqa: E402
from auditapp.adapters import pdf  # noqa: E402
from auditapp.domain import ratings as arith  # noqa: E402
from auditapp.extensions import db  # noqa: E402
from bench.api import fresh_database  # noqa: E402
from bench.ratings import FIRST_MONTH, MONTHS, generate, load_audits, load_network  # noqa: E402
from tests.support import PASSWORD, ApiClient, IsolatedClient, app_config, make_user  # noqa: E402

ITEMS, PHOTOS = 60, 20


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process for ``call``, in milliseconds (one
    warm-up call first). On a shared machine the wall time includes waiting for a core; the CPU
    time is what the call itself costs."""
    call()
    walls, cpus = [], []
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def _status(field: str) -> float:
    """A memory figure of this process from /proc (``VmRSS``, ``VmHWM``), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


class _ServerCpu:
    """CPU seconds of the PostgreSQL backends serving this process's connections (read from
    /proc: the server must run on this machine), counted from ``start``: the export's cost on
    the database's side, which the process's own CPU time leaves out."""

    def __init__(self, app: Any) -> None:
        from sqlalchemy import event

        self.pids: set[int] = set()
        self.since: dict[int, float] = {}
        with app.app_context():
            engine = db.engine

        @event.listens_for(engine, "checkout")
        def checked_out(dbapi_connection: Any, *_: Any) -> None:
            self.pids.add(dbapi_connection.info.backend_pid)

    @staticmethod
    def _cpu(pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def start(self) -> None:
        self.since = {pid: self._cpu(pid) for pid in self.pids}

    def used(self) -> float:
        return sum(self._cpu(pid) - self.since.get(pid, 0.0) for pid in self.pids)


def _read_floor(app: Any) -> tuple[float, float]:
    """The export's floor, measured after it in the same process: the same query (the same
    columns, JSON as text, server-side batches) read to the end with nothing done per row.
    Seconds of wall and CPU time."""
    from auditapp.models import User
    from auditapp.services import exports

    with app.app_context():
        admin = db.session.execute(db.select(User).where(User.login == "admin")).scalar_one()
        started, cpu = time.perf_counter(), time.process_time()
        for _ in exports._answer_source(admin, {}):
            pass
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        db.session.remove()
    return elapsed, cpu


def export_worker(url: str, tmp: str) -> None:
    """Run in a fresh process (``--export-worker``): an app on the bench's database streams the
    answers CSV of every audit to admin; prints one JSON line: rows, bytes, seconds to the
    first chunk and in all, CPU seconds, the process's RSS before and its peak (VmHWM) after."""
    import json

    from flask.testing import FlaskClient

    app = create_app(app_config(url, Path(tmp)))
    server = _ServerCpu(app) if url.startswith("postgresql") else None
    api = ApiClient(FlaskClient(app, app.response_class, use_cookies=True))
    assert api.login("admin", PASSWORD).status_code == 200
    before = _status("VmRSS")
    if server is not None:
        server.start()
    profile_to = os.environ.get("BENCH_PROFILE")  # a file for cProfile's statistics
    profiler = cProfile.Profile() if profile_to else None
    if profiler is not None:
        profiler.enable()
    started, cpu = time.perf_counter(), time.process_time()
    response = api.get("/api/v1/exports/answers?lang=en")
    chunks = iter(response.response)
    first = next(chunks)
    first_at = time.perf_counter() - started
    total, lines = len(first), first.count(b"\n")
    for chunk in chunks:
        total += len(chunk)
        lines += chunk.count(b"\n")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    response.close()
    server_cpu = None if server is None else server.used()
    floor_wall, floor_cpu = _read_floor(app)
    if profiler is not None and profile_to:
        profiler.disable()
        profiler.dump_stats(profile_to)
    print(
        json.dumps(
            {
                "rows": lines - 1,
                "bytes": total,
                "first": first_at,
                "elapsed": elapsed,
                "cpu": cpu,
                "server_cpu": server_cpu,
                "floor_wall": floor_wall,
                "floor_cpu": floor_cpu,
                "rss_before": before,
                "rss_peak": _status("VmHWM"),
            }
        )
    )


def thumbnail(seed: int) -> bytes:
    """A 320 x 240 JPEG like a stored thumbnail."""
    rng = random.Random(seed)
    image = Image.new("RGB", (320, 240), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(300), rng.randrange(220)
        draw.ellipse((x, y, x + 30, y + 20), fill=tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def floor_document(photos: list[bytes], passthrough: bool) -> bytes:
    """11 pages: text and 20 thumbnails, by reportlab's default image path or ours."""
    styles = pdf.styles()
    story: list[Any] = []
    for page in range(11):
        story.append(Paragraph(f"Страница {page + 1}: проверка сети филиалов", styles["h2"]))
        story += [Paragraph("Сотрудник поздоровался с гостем? " * 8, styles["body"])] * 6
        for photo in photos[page * 2 : page * 2 + 2]:
            if passthrough:
                story.append(pdf.JpegImage(photo, 80 * pdf.mm, 60 * pdf.mm))
            else:
                story.append(PlatypusImage(io.BytesIO(photo), 80 * pdf.mm, 60 * pdf.mm))
        story.append(PageBreak())
    previous = rl_config.useA85
    rl_config.useA85 = 0 if passthrough else 1
    try:
        return pdf.render(story, title="floor", footer=lambda page, pages: f"{page}/{pages}")
    finally:
        rl_config.useA85 = previous


def advance_sequences() -> None:
    """On PostgreSQL, move every id sequence past the ids the bulk load wrote itself (the
    services then add rows after them)."""
    import sqlalchemy as sa

    if db.engine.dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        column = table.c.get("id")
        if column is None or not isinstance(column.type, sa.Integer):
            continue
        sequence = db.session.execute(
            sa.text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
        ).scalar_one()
        if sequence is not None:
            highest = db.session.execute(sa.select(sa.func.max(column))).scalar_one() or 0
            db.session.execute(
                sa.text("SELECT setval(:sequence, :value, :called)"),
                {"sequence": sequence, "value": max(highest, 1), "called": highest > 0},
            )
    db.session.commit()


def checklist_yaml(items: int) -> str:
    """A checklist of ``items`` yes/no items in three stages, every fifth critical."""
    lines = [
        "checklist: bench-report",
        "version: 1",
        'title: {ru: "Большая проверка", en: "Large audit"}',
        "standard:",
        "  code: STD-BENCH",
        '  title: {ru: "Стандарт", en: "Standard"}',
        "applies_to: [store, restaurant, hotel]",
        "channel: visit",
        "critical_rule: cap_60",
        "staff_roles: [consultant]",
        "sections:",
    ]
    per = items // 3
    for s, stage in enumerate(("pre_purchase", "purchase", "after_sale")):
        lines += [
            f"  - id: s{s}",
            f"    stage: {stage}",
            f'    title: {{ru: "Раздел {s + 1}", en: "Section {s + 1}"}}',
            "    items:",
        ]
        for i in range(per):
            n = s * per + i
            lines += [
                f"      - id: i{n}",
                f'        clause: "{s + 1}.{i + 1}"',
                f'        text: {{ru: "Сотрудник выполнил требование {n}?", '
                f'en: "Did staff meet requirement {n}?"}}',
                f'        guidance: {{ru: "Как выполнять требование {n}: подробно, по шагам.", '
                f'en: "How to meet requirement {n}, step by step."}}',
                "        type: yes_no",
                f"        critical: {'true' if n % 5 == 0 else 'false'}",
            ]
    return "\n".join(lines) + "\n"


def released_large_audit(app: Any) -> tuple[int, ApiClient]:
    """A 60-item audit with 20 photos, submitted, approved and released through the API;
    returns its id and a client signed in as the branch's manager."""
    from auditapp.models import User
    from auditapp.services import checklists, waves
    from auditapp.services import network as net

    region = net.create_region({"code": "BR", "name": "Бенч"})
    branch = net.create_branch(
        {
            "region_id": region.id,
            "code": "BENCH1",
            "name": "Филиал для замеров",
            "kind": "store",
            "city": "Москва",
            "address": "",
            "timezone": "Europe/Moscow",
            "latitude": 55.0,
            "longitude": 37.0,
            "active": True,
        }
    )
    version = checklists.import_checklist(checklist_yaml(ITEMS), "bench.yaml")
    shopper_id = make_user("bench_shopper", "shopper")
    make_user("bench_reviewer", "reviewer")
    make_user("bench_manager", "manager", branch_ids=[branch.id])
    admin = db.session.execute(db.select(User).where(User.login == "admin")).scalar_one()
    wave = waves.create_wave(
        admin,
        waves.WavePlan(
            name="Бенч",
            checklist_version_id=version.id,
            starts_on=date.today() - timedelta(days=5),
            ends_on=date.today() + timedelta(days=5),
            visits_per_branch=1,
            day_parts=[],
            branch_ids=[branch.id],
        ),
    )
    assignment = waves.add_assignment(
        wave.id,
        waves.NewAssignment(
            branch_id=branch.id,
            shopper_id=shopper_id,
            window_start=wave.starts_on,
            window_end=wave.ends_on,
            day_part=None,
        ),
    ).id

    def signed_in(login: str) -> ApiClient:
        api = ApiClient(app.test_client())
        assert api.login(login, PASSWORD).status_code == 200
        return api

    shopper, reviewer = signed_in("bench_shopper"), signed_in("bench_reviewer")
    audit_uuid = str(uuid.uuid4())
    for n in range(PHOTOS):
        big = Image.open(io.BytesIO(thumbnail(n))).resize((1280, 960))
        out = io.BytesIO()
        big.save(out, "JPEG", quality=85)
        answer = shopper.post(
            f"/api/v1/audits/{audit_uuid}/photos",
            data={
                "assignment_id": str(assignment),
                "item_id": f"i{n * 3}",
                "photo_uuid": str(uuid.uuid4()),
                "file": (io.BytesIO(out.getvalue()), "p.jpg"),
            },
            content_type="multipart/form-data",
        )
        assert answer.status_code == 201, answer.get_json()
    from datetime import UTC, datetime

    start = datetime.now(UTC) - timedelta(hours=1)
    answers = {f"i{n}": n % 7 != 3 for n in range(ITEMS)}
    submitted = shopper.post(
        f"/api/v1/audits/{audit_uuid}/submit",
        json={
            "assignment_id": assignment,
            "answers": answers,
            "visit_started_at": start.isoformat(),
            "visit_ended_at": (start + timedelta(minutes=30)).isoformat(),
            "staff": [],
        },
    )
    assert submitted.status_code == 201, submitted.get_json()
    audit = submitted.get_json()
    approved = reviewer.post(
        f"/api/v1/audits/{audit['id']}/approve", json={"version": audit["version"]}
    ).get_json()
    released = reviewer.post(
        f"/api/v1/audits/{audit['id']}/release", json={"version": approved["version"]}
    )
    assert released.status_code == 200, released.get_json()
    return int(audit["id"]), signed_in("bench_manager")


def main() -> None:
    """Load, time, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None, help="PostgreSQL base URL (default SQLite)")
    parser.add_argument("--scale", type=float, default=0.01, help="of the ratings bench's data")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--branches", type=int, help="instead of 5000 x scale")
    parser.add_argument("--audits", type=int, help="instead of 1,000,000 x scale")
    parser.add_argument(
        "--months", type=int, default=MONTHS, help="visits spread over the last N months (24)"
    )
    parser.add_argument(
        "--only",
        default="floor,report,scorecard,comparison,export",
        help="which figures, comma-separated (default all)",
    )
    parser.add_argument("--export-worker", nargs=2, metavar=("URL", "TMP"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.export_worker:
        export_worker(*options.export_worker)
        return
    only = set(options.only.split(","))
    repeat = options.repeat
    print(f"Python {platform.python_version()}, {platform.machine()}, repeat {repeat}")
    if "floor" in only:
        floor(repeat)

    branches = options.branches or max(20, round(5000 * options.scale))
    regions = max(2, min(50, round(50 * options.scale * 4)))
    if options.branches:
        regions = max(2, min(50, branches // 100))
    audits = options.audits or max(200, round(1_000_000 * options.scale))
    measure(options, only, branches, regions, audits, repeat)


def floor(repeat: int) -> None:
    """Figure 1: the pass-through floor."""
    photos = [thumbnail(n) for n in range(PHOTOS)]
    default, default_cpu = timed(lambda: floor_document(photos, passthrough=False), repeat)
    passthrough, cpu = timed(lambda: floor_document(photos, passthrough=True), repeat)
    sizes = (len(floor_document(photos, False)), len(floor_document(photos, True)))
    print("1. 11 pages, 20 JPEG thumbnails (the pass-through floor):")
    print(
        f"   reportlab defaults (decode + ASCII85): {default:.1f} ms (CPU {default_cpu:.1f} ms), "
        f"{sizes[0]:,} bytes"
    )
    print(
        f"   pass-through, binary streams:          {passthrough:.1f} ms (CPU {cpu:.1f} ms), "
        f"{sizes[1]:,} bytes"
    )
    print(f"   ratio {default / passthrough:.1f}x")


def measure(
    options: argparse.Namespace,
    only: set[str],
    branches: int,
    regions: int,
    audits: int,
    repeat: int,
) -> None:
    """Figures 2-5 on a generated network in a fresh database."""
    dataset = generate(branches, regions, audits, options.months, options.seed)
    with (
        tempfile.TemporaryDirectory() as tmp,
        fresh_database(options.database_url, Path(tmp)) as (url, description),
    ):
        print(f"Database: {description}; {branches} branches, {audits} released audits")
        app = create_app(app_config(url, Path(tmp)))
        app.test_client_class = IsolatedClient
        with app.app_context():
            from flask_migrate import upgrade

            from auditapp.services import ratings as rating_service

            upgrade()
            version_id, _, branch_ids, _ = load_network(dataset)
            load_audits(dataset, version_id, branch_ids)
            advance_sequences()
            rating_service.rebuild()
            audit_id, manager = released_large_audit(app)
            db.session.remove()

        def fetch(api: ApiClient, path: str) -> Callable[[], int]:
            def call() -> int:
                answer = api.get(path)
                assert answer.status_code == 200, (path, answer.data[:200])
                return len(answer.data)

            return call

        report = fetch(manager, f"/api/v1/audits/{audit_id}/report.pdf?lang=ru")
        if "report" in only:
            size = report()
            wall, cpu = timed(report, repeat)
            print(
                f"2. audit report, {ITEMS} items, {PHOTOS} photos: median {wall:.1f} ms "
                f"(CPU {cpu:.1f} ms) ({size:,} bytes)"
            )
        admin = ApiClient(app.test_client())
        assert admin.login("admin", PASSWORD).status_code == 200
        last = arith.add_months(FIRST_MONTH, MONTHS - 1)
        quarter = f"{arith.add_months(last, -2):%Y-%m}..{last:%Y-%m}"
        branch = branch_ids[len(branch_ids) // 2]
        scorecard = fetch(
            admin, f"/api/v1/ratings/branches/{branch}/scorecard.pdf?period={quarter}"
        )
        if "scorecard" in only:
            size = scorecard()
            wall, cpu = timed(scorecard, repeat)
            print(
                f"3. branch scorecard, quarter: median {wall:.1f} ms (CPU {cpu:.1f} ms) "
                f"({size:,} bytes)"
            )

        def comparison() -> int:
            asked = admin.post("/api/v1/ratings/comparison-jobs", json={"period": quarter})
            assert asked.status_code == 202, asked.get_json()
            return fetch(admin, f"/api/v1/reports/jobs/{asked.get_json()['id']}/file")()

        if "comparison" in only:
            size = comparison()
            wall, cpu = timed(comparison, max(3, repeat // 3))
            print(
                f"4. network comparison, {branches} branches, quarter: median {wall:.1f} ms "
                f"(CPU {cpu:.1f} ms) ({size:,} bytes)"
            )
        if "export" in only:
            export_figures(url, tmp)


def export_figures(url: str, tmp: str) -> None:
    """Figure 5: the answers CSV, streamed by a fresh worker process (its own RSS)."""
    import json
    import subprocess

    worker = subprocess.run(
        [sys.executable, __file__, "--export-worker", url, tmp],
        check=True,
        capture_output=True,
        text=True,
    )
    found = json.loads(worker.stdout.strip().splitlines()[-1])
    rows, elapsed = found["rows"], found["elapsed"]
    server = found["server_cpu"]
    both = (
        ""
        if server is None
        else f"; with PostgreSQL's backend CPU {server:.2f} s: "
        f"{rows / (found['cpu'] + server):,.0f} rows/s"
    )
    print(
        f"5. answers CSV: {rows:,} rows in {elapsed:.2f} s = {rows / elapsed:,.0f} rows/s "
        f"(CPU {found['cpu']:.2f} s = {rows / found['cpu']:,.0f} rows/s{both}); first chunk after "
        f"{found['first'] * 1000:.0f} ms; {found['bytes'] / 1e6:.1f} MB; worker RSS "
        f"{found['rss_before']:.0f} MB before, peak {found['rss_peak']:.0f} MB"
    )
    print(
        f"   floor: the same query read through, nothing done per row: "
        f"{found['floor_wall']:.2f} s (CPU {found['floor_cpu']:.2f} s = "
        f"{rows / found['floor_cpu']:,.0f} rows/s)"
    )


if __name__ == "__main__":
    main()
