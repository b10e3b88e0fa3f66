"""End-to-end fixtures: a real server process (gunicorn) on a free local port over the test's
migrated database, and Debian's Chromium driven by Playwright (never a downloaded browser).

Without /usr/bin/chromium the tests fail in CI (``CI`` set) and are skipped with the reason
elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import app_config

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "test-artefacts" / "e2e"
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
VIEWPORT = {"width": 360, "height": 740}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """No browser: fail in CI (the tests must run there), skip with the reason elsewhere."""
    if Path(CHROMIUM).exists():
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            if os.environ.get("CI"):
                item.add_marker(pytest.mark.e2e_no_browser)
            else:
                item.add_marker(
                    pytest.mark.skip(reason=f"{CHROMIUM} is missing (apt-get install chromium)")
                )


@pytest.fixture(autouse=True)
def _browser_present(request: pytest.FixtureRequest) -> None:
    """In CI a missing browser is a failure, never a skip."""
    if request.node.get_closest_marker("e2e_no_browser"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running server: its base URL and the copy of the shell it serves."""

    url: str
    pwa_dir: Path
    media_dir: Path


@pytest.fixture
def server(database: str, tmp_path: Path, fieldwork: Any) -> Iterator[Server]:
    """gunicorn on a free port, over this test's database (with the fieldwork in it)."""
    from auditapp.extensions import db

    db.session.remove()  # the server process writes: drop this process's snapshot and locks
    pwa_dir = tmp_path / "pwa"
    shutil.copytree(ROOT / "static" / "pwa", pwa_dir)
    config = app_config(database, tmp_path)
    config.update(PWA_DIR=str(pwa_dir), WTF_CSRF_SSL_STRICT=False)
    port = _free_port()
    env = {**os.environ, "AUDITAPP_E2E_CONFIG": json.dumps(config)}
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "4", "--timeout", "120", "tests.e2e.serve:app()"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "server.log").read_text())
            time.sleep(0.2)
        yield Server(url, pwa_dir, tmp_path / "media")
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    """Playwright's driver (the browser itself is Debian's Chromium)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


class Browser:
    """Opens persistent Chromium contexts on one profile directory (closing and reopening is a
    browser restart with the same storage)."""

    def __init__(self, driver: Any, profile: Path, base_url: str, name: str) -> None:
        self.driver = driver
        self.profile = profile
        self.base_url = base_url
        self.name = name
        self.context: Any = None
        self.shots = 0

    def open(self, *, offline: bool = False, service_workers: str = "allow") -> Any:
        """Start the browser on the profile; returns the context."""
        self.context = self.driver.chromium.launch_persistent_context(
            str(self.profile),
            executable_path=CHROMIUM,
            args=ARGS,
            headless=True,
            viewport=VIEWPORT,
            base_url=self.base_url,
            offline=offline,
            locale="ru-RU",
            service_workers=service_workers,
            permissions=["geolocation"],
            geolocation={"latitude": 55.0005, "longitude": 37.0004, "accuracy": 15},
        )
        return self.context

    def page(self) -> Any:
        """The context's page (a persistent context opens with one)."""
        pages = self.context.pages
        return pages[0] if pages else self.context.new_page()

    def close(self) -> None:
        """Close the browser (like quitting it)."""
        if self.context is not None:
            self.context.close()
            self.context = None

    def check_screen(self, page: Any, screen: str) -> None:
        """Save a 360 x 740 screenshot of the screen and assert that axe-core finds no serious
        or critical violation on it."""
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        page.screenshot(path=str(ARTEFACTS / f"{self.name}-{self.shots:02d}-{screen}.png"))
        if not page.evaluate("() => Boolean(window.axe)"):
            page.evaluate(AXE.read_text(encoding="utf-8"))
        result = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"
        )
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        assert not bad, f"{screen}: {json.dumps(bad, ensure_ascii=False, indent=1)}"


@pytest.fixture
def browser(
    playwright_driver: Any, tmp_path: Path, server: Server, request: Any
) -> Iterator[Browser]:
    """A Chromium with its own profile, pointed at the test server."""
    opened = Browser(playwright_driver, tmp_path / "profile", server.url, request.node.name)
    try:
        yield opened
    finally:
        opened.close()
