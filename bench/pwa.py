"""Benchmark the shopper's PWA: its weight and the time to an interactive assignment list on a
slow mobile connection.

1. Weight: every JS and CSS file the service worker precaches, gzipped (level 9, what a
   compressing proxy sends), and the same for the whole shell (with HTML, manifest, icons).
2. Time to interactive of the assignment list: a real server (gunicorn, the e2e tests' app
   factory) over a fresh migrated SQLite database with a shopper and 4 assignments; Debian's
   Chromium throttled through CDP network emulation to 1.6 Mbit/s down, 750 kbit/s up, 150 ms
   RTT. Measured from navigation start to the app's ``app-ready`` mark (the list is drawn, the
   bundle fetched and the outbox synced), signed in, for a cold start (empty profile: no cache,
   no service worker; Flask serves the files uncompressed, so this is pessimistic) and a warm
   start (the service worker's shell). Median of N runs each.

Run from the repository root (needs /usr/bin/chromium)::

    .venv/bin/python bench/pwa.py            # 5 runs each, about a minute
    .venv/bin/python bench/pwa.py --runs 3
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from auditapp import create_app  # noqa: E402 - after making the package importable
from auditapp.extensions import db  # noqa: E402
from tests.e2e.conftest import ARGS, CHROMIUM  # noqa: E402
from tests.support import (  # noqa: E402
    EXAMPLE_CHECKLIST,
    PASSWORD,
    app_config,
    build_network,
)

PWA = ROOT / "static" / "pwa"
DOWN_BPS = 1_600_000
UP_BPS = 750_000
RTT_MS = 150


def shell_files() -> list[str]:
    """The URLs the service worker precaches, read from sw.js."""
    text = (PWA / "sw.js").read_text(encoding="utf-8")
    block = text[text.index("SHELL_FILES = [") : text.index("];", text.index("SHELL_FILES"))]
    return re.findall(r'"(/[^"]*)"', block)


def path_of(url: str) -> Path:
    """The file behind a shell URL."""
    if url == "/":
        return PWA / "index.html"
    if url == "/manifest.webmanifest":
        return PWA / "manifest.webmanifest"
    return PWA / url.removeprefix("/pwa/")


def weight() -> dict[str, int]:
    """Raw and gzipped bytes of the JS+CSS, and of the whole shell (plus sw.js)."""
    out = {"js_css_raw": 0, "js_css_gzip": 0, "shell_raw": 0, "shell_gzip": 0}
    files = [path_of(u) for u in shell_files()] + [PWA / "sw.js"]
    for path in files:
        data = path.read_bytes()
        packed = len(gzip.compress(data, 9))
        out["shell_raw"] += len(data)
        out["shell_gzip"] += packed
        if path.suffix in (".js", ".css"):
            out["js_css_raw"] += len(data)
            out["js_css_gzip"] += packed
    return out


def build_database(tmp: Path) -> str:
    """A migrated SQLite database with the fixture network and 4 assignments for `shopper`."""
    from flask_migrate import upgrade

    from auditapp.models import User
    from auditapp.services import checklists, waves

    url = f"sqlite:///{tmp / 'bench.db'}"
    app = create_app(app_config(url, tmp))
    with app.app_context():
        upgrade()
        network = build_network()
        text = EXAMPLE_CHECKLIST.read_text(encoding="utf-8").replace(
            "applies_to: [restaurant]", "applies_to: [store, restaurant, hotel]"
        )
        version = checklists.import_checklist(text, "example.yaml")
        admin = db.session.get(User, network.users["admin"])
        wave = waves.create_wave(
            admin,
            waves.WavePlan(
                name="Бенчмарк",
                checklist_version_id=version.id,
                starts_on=date.today() - timedelta(days=3),
                ends_on=date.today() + timedelta(days=20),
                visits_per_branch=2,
                day_parts=[],
                branch_ids=list(network.branches.values()),
            ),
        )
        for code in ("N1", "N2", "S1", "S2"):
            waves.add_assignment(
                wave.id,
                waves.NewAssignment(
                    branch_id=network.branches[code],
                    shopper_id=network.users["shopper"],
                    window_start=wave.starts_on,
                    window_end=wave.ends_on,
                    day_part=None,
                ),
            )
        db.engine.dispose()
    return url


def free_port() -> int:
    """A free local TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn with the e2e app factory; returns the process and its base URL."""
    port = free_port()
    env = {**os.environ, "AUDITAPP_E2E_CONFIG": json.dumps(app_config(url, tmp))}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "4", "tests.e2e.serve:app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                return process, base
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the server did not start")


def measure(driver: Any, base: str, profile: Path, cookies: list[Any]) -> float:
    """Open the app on a throttled connection; milliseconds to the app-ready mark."""
    context = driver.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=ARGS, headless=True,
        viewport={"width": 360, "height": 740}, base_url=base,
    )  # fmt: skip
    try:
        context.add_cookies(cookies)
        page = context.pages[0] if context.pages else context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": RTT_MS,
                "downloadThroughput": DOWN_BPS / 8,
                "uploadThroughput": UP_BPS / 8,
            },
        )
        page.goto("/")
        page.wait_for_selector("body[data-ready='1']", timeout=120_000)
        page.wait_for_selector("ul.list li")
        ms = page.evaluate("performance.getEntriesByName('app-ready')[0].startTime")
        page.evaluate("navigator.serviceWorker.ready")
        return float(ms)
    finally:
        context.close()


def main() -> None:
    """Print the weight and the medians of the cold and warm time to interactive."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sizes = weight()
    print(f"PWA weight: JS+CSS {sizes['js_css_raw'] / 1024:.1f} KB raw, "
          f"{sizes['js_css_gzip'] / 1024:.1f} KB gzipped (target < 150 KB); whole shell "
          f"{sizes['shell_gzip'] / 1024:.1f} KB gzipped")  # fmt: skip
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        process, base = start_server(build_database(tmp), tmp)
        try:
            with sync_playwright() as driver:
                api = driver.request.new_context(base_url=base)
                signed = api.post(
                    "/api/v1/auth/login",
                    data={"login": "shopper", "password": PASSWORD, "remember": True},
                )
                assert signed.ok, signed.text()
                cookies = api.storage_state()["cookies"]
                cold, warm = [], []
                for run in range(args.runs):
                    profile = tmp / f"profile-{run}"
                    cold.append(measure(driver, base, profile, cookies))
                    warm.append(measure(driver, base, profile, cookies))
                api.dispose()
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(f"Time to interactive, assignment list, {DOWN_BPS / 1e6:.1f} Mbit/s, {RTT_MS} ms RTT "
          f"(median of {args.runs}; target < 3 s):")  # fmt: skip
    print(f"  cold (no cache, no service worker): {statistics.median(cold) / 1000:.2f} s "
          f"(min {min(cold) / 1000:.2f}, max {max(cold) / 1000:.2f})")  # fmt: skip
    print(f"  warm (service worker shell):        {statistics.median(warm) / 1000:.2f} s "
          f"(min {min(warm) / 1000:.2f}, max {max(warm) / 1000:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
