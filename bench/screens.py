"""Benchmark the HQ ranking screen: 5,000 branches ranked, fetched and drawn in Chromium.

The ratings bench's network (``bench/ratings.py``: same generator, loader and rebuild) with
5,000 branches in 50 regions, and ``--visits`` released audits per branch and month over the
last ``--months`` months (default 3 x 3: 45,000 audits; the ranking reads roll-ups, so the
audit count changes the rebuild, not the screen). A real server (gunicorn, the e2e app
factory, 1 worker with 4 threads) and Debian's Chromium at 1366 x 768, signed in as the admin
(who sees every branch). For each run the app navigates to the ranking of the whole period
(``#/ranking?period=<first>..<last>``) and the screen's own marks are read:

- first page: ``/ratings/rankings/branches?per_page=100`` (the rows shown first, in rank
  order) fetched, then drawn into the table and laid out;
- every entry: the same in one page of up to 5,000 (every page ranks all branches again: ten
  pages of 500 took 8.4 s here), then handed to the table (sorting and paging over all);
- from the route change to the first rows on screen, and to every row sortable;
- re-sort: a click on the "score" header, sorting all 5,000 entries and redrawing the page,
  timed synchronously in the page (layout forced).

Median, min and max of ``--runs`` runs (the first run warms the server and is not counted).

    .venv/bin/python bench/screens.py                 # about 3-4 minutes (load + rebuild)
    .venv/bin/python bench/screens.py --runs 3 --months 1
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from auditapp import create_app  # noqa: E402 - after making the package importable
from auditapp.domain import ratings as arith  # noqa: E402
from auditapp.extensions import db  # noqa: E402
from bench.api import fresh_database  # noqa: E402
from bench.pwa import start_server  # noqa: E402
from bench.ratings import FIRST_MONTH, MONTHS, generate, load_audits, load_network  # noqa: E402
from tests.e2e.conftest import ARGS, CHROMIUM  # noqa: E402
from tests.support import PASSWORD, app_config  # noqa: E402


def build(url: str, tmp: Path, branches: int, regions: int, months: int, visits: int) -> str:
    """Load the network and released audits, rebuild the roll-ups; returns the period."""
    from flask_migrate import upgrade

    from auditapp.services import ratings as rating_service

    started = time.perf_counter()
    dataset = generate(branches, regions, branches * months * visits, months, seed=8)
    app = create_app(app_config(url, tmp))
    with app.app_context():
        upgrade()
        version_id, _, branch_ids, _ = load_network(dataset)
        load_audits(dataset, version_id, branch_ids)
        loaded = time.perf_counter()
        made = rating_service.rebuild()
        db.engine.dispose()
    rebuilt = time.perf_counter() - loaded
    print(f"  loaded {len(dataset.visits)} audits in {loaded - started:.1f} s; "
          f"rebuild {rebuilt:.1f} s ({made['cells']} branch-months)")  # fmt: skip
    last = arith.add_months(FIRST_MONTH, MONTHS - 1)
    first = arith.add_months(last, -(months - 1))
    return f"{first:%Y-%m}..{last:%Y-%m}"


def run_once(page: Any, period: str, expected: int) -> dict[str, float]:
    """Navigate to the ranking, wait until every entry is in; the screen's marks, the times
    from the route change, and a re-sort."""
    page.evaluate("performance.clearMeasures(); performance.clearMarks()")
    page.goto("/#/admin/users")  # somewhere else first, so the ranking is a fresh route
    page.wait_for_selector("#users tbody tr")
    started = page.evaluate("performance.now()")
    page.evaluate(f"location.hash = '#/ranking?period={period}'")
    page.wait_for_selector(f"#view[data-rows='{expected}'] #ranking tbody tr", timeout=120_000)
    marks = page.evaluate(
        "Object.fromEntries(performance.getEntriesByType('measure')"
        ".filter(m => m.name.startsWith('ranking-'))"
        ".map(m => [m.name, [m.duration, m.startTime + m.duration]]))"
    )
    resort = page.evaluate(
        "(() => { const t0 = performance.now();"
        " document.querySelector('th[data-key=mean] button').click();"
        " document.getElementById('view').getBoundingClientRect();"
        " return performance.now() - t0; })()"
    )
    rows = page.locator("#ranking tbody tr").count()
    assert rows == min(100, expected), rows
    return {
        "first_fetch": marks["ranking-first-fetch"][0],
        "first_render": marks["ranking-first-render"][0],
        "first_total": marks["ranking-first-render"][1] - started,
        "all_fetch": marks["ranking-all-fetch"][0],
        "all_render": marks["ranking-all-render"][0],
        "all_total": marks["ranking-all-render"][1] - started,
        "resort": resort,
    }


def main() -> None:
    """Build the data, serve it, time the ranking screen, print medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--branches", type=int, default=5000)
    parser.add_argument("--regions", type=int, default=50)
    parser.add_argument("--months", type=int, default=3, help="months of audits (<= 24)")
    parser.add_argument("--visits", type=int, default=3, help="audits per branch and month")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="PostgreSQL base URL (default SQLite)")
    options = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    print(f"Python {platform.python_version()}, {platform.machine()}")
    print(f"Data: {options.branches} branches, {options.regions} regions, "
          f"{options.visits} audits per branch and month over {options.months} months")  # fmt: skip
    with (
        tempfile.TemporaryDirectory() as name,
        fresh_database(options.database_url, Path(name)) as (url, description),
    ):
        tmp = Path(name)
        print(f"Database: {description}")
        period = build(url, tmp, options.branches, options.regions, options.months, options.visits)
        process, base = start_server(url, tmp)
        try:
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                context = browser.new_context(
                    viewport={"width": 1366, "height": 768}, base_url=base,
                    locale="ru-RU", service_workers="block",
                )  # fmt: skip
                signed = context.request.post(
                    "/api/v1/auth/login", data={"login": "admin", "password": PASSWORD}
                )
                assert signed.ok, signed.text()
                page = context.new_page()
                page.goto("/")
                page.wait_for_selector("body[data-ready='1']", timeout=60_000)
                results = [
                    run_once(page, period, options.branches) for _ in range(options.runs + 1)
                ]
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=10)
    results = results[1:]  # the first run warms the server's caches and the JIT
    print(f"Ranking of {options.branches} branches, period {period}, "
          f"median of {options.runs} (min, max), ms:")  # fmt: skip
    for key, label in (
        ("first_fetch", "first page: fetch (100 entries)"),
        ("first_render", "first page: draw the table, laid out"),
        ("first_total", "route change -> first 100 rows on screen"),
        ("all_fetch", "every entry: fetch (one page of up to 5,000)"),
        ("all_render", "every entry: re-page the table, laid out"),
        ("all_total", "route change -> all rows sortable"),
        ("resort", "re-sort all rows by score and redraw"),
    ):
        values = [r[key] for r in results]
        print(f"  {label:45s} {statistics.median(values):8.1f}  "
              f"({min(values):.1f}, {max(values):.1f})")  # fmt: skip


if __name__ == "__main__":
    main()
