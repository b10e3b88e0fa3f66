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
5. **Answers export** (CSV, admin: every answer): rows per second, the time to the first
   chunk, and the Python heap's peak while exporting (tracemalloc) beside the process's RSS.

Run from the repository root::

    .venv/bin/python bench/reports.py
    .venv/bin/python bench/reports.py --scale 0.1 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import io
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
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


def median_ms(call: Callable[[], Any], repeat: int) -> float:
    """Median wall time of ``call`` in milliseconds (one warm-up call first)."""
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


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
    options = parser.parse_args()
    repeat = options.repeat
    print(f"Python {platform.python_version()}, {platform.machine()}, repeat {repeat}")

    photos = [thumbnail(n) for n in range(PHOTOS)]
    default = median_ms(lambda: floor_document(photos, passthrough=False), repeat)
    passthrough = median_ms(lambda: floor_document(photos, passthrough=True), repeat)
    sizes = (len(floor_document(photos, False)), len(floor_document(photos, True)))
    print("1. 11 pages, 20 JPEG thumbnails (the pass-through floor):")
    print(f"   reportlab defaults (decode + ASCII85): {default:.1f} ms, {sizes[0]:,} bytes")
    print(f"   pass-through, binary streams:          {passthrough:.1f} ms, {sizes[1]:,} bytes")
    print(f"   ratio {default / passthrough:.1f}x")

    branches = max(20, round(5000 * options.scale))
    regions = max(2, min(50, round(50 * options.scale * 4)))
    audits = max(200, round(1_000_000 * options.scale))
    dataset = generate(branches, regions, audits, MONTHS, options.seed)
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
        size = report()
        print(
            f"2. audit report, {ITEMS} items, {PHOTOS} photos: median "
            f"{median_ms(report, repeat):.1f} ms ({size:,} bytes)"
        )
        admin = ApiClient(app.test_client())
        assert admin.login("admin", PASSWORD).status_code == 200
        last = arith.add_months(FIRST_MONTH, MONTHS - 1)
        quarter = f"{arith.add_months(last, -2):%Y-%m}..{last:%Y-%m}"
        branch = branch_ids[len(branch_ids) // 2]
        scorecard = fetch(
            admin, f"/api/v1/ratings/branches/{branch}/scorecard.pdf?period={quarter}"
        )
        size = scorecard()
        print(
            f"3. branch scorecard, quarter: median {median_ms(scorecard, repeat):.1f} ms "
            f"({size:,} bytes)"
        )

        def comparison() -> int:
            asked = admin.post("/api/v1/ratings/comparison-jobs", json={"period": quarter})
            assert asked.status_code == 202, asked.get_json()
            return fetch(admin, f"/api/v1/reports/jobs/{asked.get_json()['id']}/file")()

        size = comparison()
        print(
            f"4. network comparison, {branches} branches, quarter: median "
            f"{median_ms(comparison, max(3, repeat // 3)):.1f} ms ({size:,} bytes)"
        )

        from flask.testing import FlaskClient

        streaming = ApiClient(FlaskClient(app, app.response_class, use_cookies=True))
        assert streaming.login("admin", PASSWORD).status_code == 200

        def export(trace: bool) -> tuple[int, int, float, float, int]:
            """Rows, bytes, seconds to the first chunk and in all, heap peak (if traced)."""
            if trace:
                tracemalloc.start()
            started = time.perf_counter()
            response = streaming.get("/api/v1/exports/answers?lang=en")
            chunks = iter(response.response)
            first = next(chunks)
            first_at = time.perf_counter() - started
            total, lines = len(first), first.count(b"\n")
            for chunk in chunks:
                total += len(chunk)
                lines += chunk.count(b"\n")
            elapsed = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] if trace else 0
            if trace:
                tracemalloc.stop()
            response.close()
            return lines - 1, total, first_at, elapsed, peak

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rows, total, first_at, elapsed, _ = export(trace=False)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = export(trace=True)[4]
        print(
            f"5. answers CSV: {rows:,} rows in {elapsed:.2f} s = {rows / elapsed:,.0f} rows/s; "
            f"first chunk after {first_at * 1000:.0f} ms; {total / 1e6:.1f} MB; process max RSS "
            f"{rss_before / 1024:.0f} -> {rss_after / 1024:.0f} MB; Python heap peak while "
            f"exporting {peak / 1e6:.1f} MB (tracemalloc, a second run)"
        )


if __name__ == "__main__":
    main()
