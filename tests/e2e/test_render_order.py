"""Renders that finish out of order, in Debian's Chromium against a real server: the screen of
the route opened last is the one shown, whatever an earlier route's render does later, and the
screen on show stays until the next one has something to show (never a blank view).

The order is forced, not hoped for: the requests a render waits on are held with Playwright's
``page.route`` and let go only once the later route's screen is on show. The end of the earlier
render is read from the page itself: the ranking records ``ranking-first-render`` (a
performance measure ``bench/screens.py`` reads) right after it has drawn, or tried to draw, its
first page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import Browser, Server
from tests.e2e.helpers import sign_in, wait_ready
from tests.support import Network


def _hold(page: Any, matches: Callable[[str], bool]) -> list[Any]:
    """Hold every request whose URL ``matches`` until the test lets it go
    (``route.continue_()``); returns the list the held routes are put in."""
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    page.route(matches, hold)
    return held


def _wait_held(page: Any, held: list[Any]) -> Any:
    """Wait until a request is held (Playwright handles routes while the page waits)."""
    deadline = time.monotonic() + 30
    while not held:
        assert time.monotonic() < deadline, "the request was never made"
        page.wait_for_timeout(50)
    return held[0]


def test_an_earlier_routes_late_render_never_draws_over_the_current_screen(
    browser: Browser, server: Server, network: Network
) -> None:
    n1 = network.branches["N1"]
    browser.open()
    page = browser.page()
    page.goto("/")
    wait_ready(page)

    # The director lands on the ranking (their home); its first page is held.
    ranking = _hold(page, lambda url: "/api/v1/ratings/rankings/branches?" in url)
    sign_in(page, "director_n")
    late = _wait_held(page, ranking)
    page.wait_for_selector("#view h1:has-text('Рейтинг филиалов')")

    # Before it comes, they open branch N1, which draws at once.
    page.goto(f"/#/branch/{n1}")
    page.wait_for_selector("#view h1:has-text('Филиал N1 (N1)')")
    page.wait_for_selector("#view [data-test=mean]")

    # The ranking's page comes now, and its render runs to its end under N1's address.
    late.continue_()
    page.wait_for_function(
        "() => performance.getEntriesByName('ranking-first-render').length > 0", timeout=30_000
    )
    assert page.locator("#view h1").all_inner_texts() == ["Филиал N1 (N1)"]
    assert page.locator("#view [data-test=mean]").count() == 1
    assert page.locator("#ranking-summary, #ranking").count() == 0
    assert page.evaluate("location.hash") == f"#/branch/{n1}"

    # A screen that draws nothing until its data comes (an audit): N1's dashboard stays on show
    # meanwhile, then the audit's screen (here "not found") replaces it.
    audit = _hold(page, lambda url: "/api/v1/audits/987654" in url)
    page.goto("/#/audit/987654")
    waiting = _wait_held(page, audit)
    assert page.locator("#view h1").all_inner_texts() == ["Филиал N1 (N1)"]
    assert page.locator("#view [data-test=mean]").count() == 1
    waiting.continue_()
    page.wait_for_selector("#view h1:text-is('Проверка')")
    assert page.locator("#view [role=alert]").inner_text() == "Не найдено или недоступно вам."
    assert page.locator("#view [data-test=mean]").count() == 0
