"""The regional director's, QA reviewer's and HQ admin's screens in Debian's Chromium against a
real server. The director walks ranking -> heat-map -> branch -> audit; the reviewer opens the
queue, approves a report and releases its wave; the admin imports a checklist with an error,
sees the problem at its line, fixes it and imports it (and a branch CSV with a bad row). Every
number checked on screen is read from the API in the same test and formatted as the server
formats scores (``display``). Each screen is saved at 360 x 740 and 1366 x 768 and checked by
axe-core (no serious or critical violation); no CSP violation or script error on the way; a
role typing another role's URL gets the "not allowed" page.

Data (through the services, relative to today): last month N1 has 87.5 and 67.5, N2 87.5 and
77.5, S1 87.5, S2 67.5 and 47.5; the month before, N1 and N2 have 87.5 each. One report of S2
waits in the review queue, visited in 6 minutes (a ``visit_too_short`` flag).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from auditapp.domain.scoring import display
from tests.e2e.conftest import ARTEFACTS, Browser, Server
from tests.e2e.helpers import month_start, sign_in, visit_at, wait_ready
from tests.support import (
    EXAMPLE_CHECKLIST,
    RATING_CHECKLIST,
    Network,
    Ratings,
    answers,
    audit_at,
    make_user,
)

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 740}
WATCH = """
window.__problems = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__problems.push('csp: ' + e.violatedDirective + ' ' + e.blockedURI));
window.addEventListener('error', (e) => window.__problems.push('error: ' + e.message));
"""
SLUG = "coffee-shop-visit"


@dataclass
class HqData:
    """What the scenario made."""

    network: Network
    period: str
    queued: int
    wave_id: int


@pytest.fixture
def hq_data(app: Flask, network: Network) -> HqData:
    from auditapp.extensions import db
    from auditapp.models import Audit
    from auditapp.services import checklists

    # The server's fieldwork uses version 1 of the example checklist: this is version 2 (no
    # photo rules, every kind of branch), as the ratings tests use it.
    text = RATING_CHECKLIST.replace("\nversion: 1\n", "\nversion: 2\n")
    version = checklists.import_checklist(text, "ratings.yaml")
    ratings = Ratings(network, version.id, [make_user(f"rshopper{i}", "shopper") for i in range(4)])
    for branch in ("N1", "N2"):
        audit_at(ratings, branch, visit_at(2, 10), answers())
    for branch, day, given in (
        ("N1", 10, answers()),
        ("N1", 12, answers(greeted=False)),
        ("N2", 11, answers()),
        ("N2", 13, answers(queue_wait=400)),
        ("S1", 11, answers()),
        ("S2", 11, answers(greeted=False)),
        ("S2", 14, answers(greeted=False, queue_wait=400)),
    ):
        audit_at(ratings, branch, visit_at(1, day), given)
    # A report of S2 submitted (not reviewed) after a 6-minute visit yesterday.
    yesterday = datetime.now(UTC) - timedelta(days=1)
    queued = audit_at(
        ratings, "S2", yesterday, answers(greeted=False), minutes=6, until="submitted"
    )
    audit = db.session.get(Audit, queued)
    assert audit is not None
    return HqData(network, month_start(1).strftime("%Y-%m"), queued, audit.assignment.wave_id)


def _get(api: Any, path: str) -> Any:
    response = api.get(path)
    assert response.status_code == 200, (path, response.get_json())
    return response.get_json()


def _screens(browser: Browser, page: Any, screen: str) -> None:
    """Both sizes of a screen as artefacts; axe-core on it (at the phone's size)."""
    page.set_viewport_size(DESKTOP)
    page.wait_for_timeout(150)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{browser.name}-{screen}-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(150)
    browser.check_screen(page, f"{screen}-360")
    assert page.evaluate("window.__problems") == []


def _text(page: Any, selector: str) -> str:
    return page.locator(selector).first.inner_text().strip()


def _refused(page: Any, hash_route: str) -> None:
    page.goto(f"/#{hash_route}")
    page.wait_for_selector("h1:has-text('Нет доступа')")
    assert "недоступен для вашей роли" in _text(page, "#view [role=alert]")


def _open(browser: Browser, login: str) -> Any:
    context = browser.open()
    context.add_init_script(WATCH)
    page = browser.page()
    page.goto("/")
    page.wait_for_selector("#login-name")
    sign_in(page, login)
    wait_ready(page)
    return page


def _change(value: float | None) -> str:
    if value is None:
        return "—"
    text = display(abs(value))
    if text == "0.0":
        return "0.0"
    return f"+{text}" if value > 0 else f"−{text}"


def test_director_ranking_heatmap_branch_audit(
    browser: Browser, server: Server, hq_data: HqData, as_user: Any
) -> None:
    period = hq_data.period
    n1 = hq_data.network.branches["N1"]
    api = as_user("director_n")
    ranking = _get(api, f"/api/v1/ratings/rankings/branches?period={period}&per_page=500")
    # The scenario's arithmetic: region N's two branches, placed among all four.
    assert (ranking["ranked"], ranking["total"]) == (4, 2)

    page = _open(browser, "director_n")
    # A director's home is the ranking; the menu holds only what a director may open.
    page.wait_for_selector("h1:has-text('Рейтинг филиалов')")
    assert [a.inner_text() for a in page.locator("nav#tabs a").all()] == ["Рейтинги"]
    page.goto(f"/#/ranking?period={period}")
    page.wait_for_selector(f"#ranking-summary:has-text('в вашей зоне: {ranking['total']}')")
    page.wait_for_selector("#ranking tbody tr")
    rows = page.locator("#ranking tbody tr").all()
    assert [int(r.get_attribute("data-branch")) for r in rows] == [
        e["branch"]["id"] for e in ranking["entries"]
    ]
    for row, entry in zip(rows, ranking["entries"], strict=True):
        assert row.locator("[data-test=rank]").inner_text() == str(entry["rank"])
        assert row.locator("[data-test=range]").inner_text() == (
            f"{entry['rank_best']}–{entry['rank_worst']}"
        )
        assert row.locator("[data-test=mean]").inner_text() == display(entry["rating"]["mean"])
        assert row.locator("[data-test=n]").inner_text() == str(entry["rating"]["n"])
        flag = {"above": "значимо выше сети", "below": "значимо ниже сети"}.get(
            entry["significance"] or "", "—"
        )
        assert flag in row.locator("[data-test=flag]").inner_text()
    assert f"среднее по сети: {display(ranking['network_mean'])}" in _text(page, "#ranking-summary")
    _screens(browser, page, "ranking")

    # Sorting by score (highest first) over every row, then by visits.
    page.click("th[data-key=mean] button")
    means = page.locator("#ranking [data-test=mean]").all_inner_texts()
    assert means == [
        display(e["rating"]["mean"])
        for e in sorted(ranking["entries"], key=lambda e: (-e["rating"]["mean"], e["rank"]))
    ]
    assert page.locator("th[data-key=mean]").get_attribute("aria-sort") == "descending"

    # Regions compared.
    regions = _get(api, f"/api/v1/ratings/rankings/regions?period={period}")
    page.click("nav.subnav a:has-text('Регионы')")
    page.wait_for_selector("#regions-table tbody tr")
    shown = page.locator("#regions-table [data-test=mean]").all_inner_texts()
    assert shown == [display(e["mean"]) for e in regions["entries"]]
    _screens(browser, page, "regions")

    # Trends and decline alerts; leaderboards need an attestation period (none here).
    page.click("nav.subnav a:has-text('Динамика')")
    page.wait_for_selector("#declines")
    declines = _get(api, "/api/v1/ratings/declines")
    assert page.locator("#declines tbody tr").count() == len(declines["alerts"])
    _screens(browser, page, "trends")
    page.click("nav.subnav a:has-text('Лидеры')")
    page.wait_for_selector("text=Периодов аттестации нет.")
    _screens(browser, page, "leaders")

    # The heat-map of branches x sections, the numbers of the API.
    matrix = _get(api, f"/api/v1/ratings/matrix?period={period}&by=section")
    page.goto(f"/#/heatmap?period={period}")
    page.wait_for_selector("#heatmap tbody tr")
    columns = [c for c in matrix["columns"] if c.startswith(f"{SLUG}:")]
    assert columns and len(columns) == len(matrix["columns"])
    assert page.locator("#heatmap thead th").count() == len(columns) + 1
    by_code = {r["branch"]["code"]: r for r in matrix["rows"]}
    assert set(by_code) == {"N1", "N2"}
    for tr in page.locator("#heatmap tbody tr").all():
        code = tr.locator("th").inner_text().split(" ·")[0]
        cells = tr.locator("td").all()
        for cell, column in zip(cells, columns, strict=True):
            stats = by_code[code]["cells"].get(column)
            expected = display(stats["mean"]) if stats and stats["n"] else "—"
            assert cell.inner_text().split(" (")[0] == expected
    _screens(browser, page, "heatmap")

    # Drill down: a cell of N1 -> N1's dashboard -> an audit behind its number.
    rating = _get(api, f"/api/v1/ratings/branches/{n1}?period={period}")
    page.locator("#heatmap tbody tr", has_text="N1 ·").locator("td a").first.click()
    page.wait_for_url(re.compile(rf".*#/branch/{n1}\?period={period}.*"))
    page.wait_for_selector(f"[data-test=n]:has-text('{rating['rating']['n']} визитов')")
    assert _text(page, "[data-test=mean]") == display(rating["rating"]["mean"])
    _screens(browser, page, "branch")
    counted = _get(api, f"/api/v1/ratings/branches/{n1}/audits?period={period}")
    first = counted["items"][0]
    page.locator(f"#audits tr[data-audit='{first['audit_id']}'] a").click()
    page.wait_for_selector("[data-test=audit-score]")
    assert _text(page, "[data-test=audit-score]") == display(first["score"])
    assert "rshopper" not in page.locator("#view").inner_text()  # never the shopper
    _screens(browser, page, "audit")

    # HQ's and QA's screens are not a director's.
    _refused(page, "/admin/checklists")
    _refused(page, "/review")
    _screens(browser, page, "not-allowed")


def test_reviewer_queue_approve_release(
    browser: Browser, server: Server, hq_data: HqData, as_user: Any
) -> None:
    api = as_user("reviewer")
    queue = _get(api, "/api/v1/review/queue")
    assert [a["id"] for a in queue["items"]] == [hq_data.queued]
    flags = queue["items"][0]["flags"]
    assert "visit_too_short" in [f["code"] for f in flags]

    page = _open(browser, "reviewer")
    page.wait_for_selector("h1:has-text('Проверка отчётов')")
    assert [a.inner_text() for a in page.locator("nav#tabs a").all()] == [
        "Проверка отчётов",
        "Оспаривания",
        "Рейтинги",
    ]
    page.wait_for_selector("#queue li")
    assert _text(page, "#queue-total") == f"Отчётов в очереди: {queue['total']}"
    card = page.locator(f"#queue li[data-audit='{hq_data.queued}']")
    assert card.locator("[data-test=score]").inner_text() == display(queue["items"][0]["score"])
    assert sorted(
        card.locator("[data-flag]").evaluate_all("(n) => n.map(x => x.dataset.flag)")
    ) == (sorted(f["code"] for f in flags))
    assert "Слишком короткий визит" in card.inner_text()
    _screens(browser, page, "queue")

    card.locator("h2 a").click()
    page.wait_for_selector("#decision")
    detail = _get(api, f"/api/v1/audits/{hq_data.queued}")
    assert _text(page, "#view [data-test=score]") == display(detail["score"])
    assert page.locator("#flags [data-flag]").count() == len(detail["flags"])
    assert page.locator("#answers li[data-item]").count() == len(detail["answers"])
    _screens(browser, page, "report")
    page.click("#approve")
    page.wait_for_selector("#notice:has-text('принят')")
    page.wait_for_selector("#audit-status:has-text('принято')")
    approved = _get(api, f"/api/v1/audits/{hq_data.queued}")
    assert approved["status"] == "approved" and approved["version"] > detail["version"]
    assert page.locator("#release").count() == 1  # it may be released alone or with its wave

    page.click("nav.subnav a:has-text('Публикация волн')")
    row = page.locator(f"#waves tr[data-wave='{hq_data.wave_id}']")
    row.wait_for()
    waiting = _get(api, f"/api/v1/audits?wave_id={hq_data.wave_id}&status=approved")["total"]
    assert waiting == 1 and row.locator("[data-test=approved]").inner_text() == "1"
    _screens(browser, page, "waves")
    row.locator("button").click()
    page.wait_for_selector("#notice:has-text('Опубликовано отчётов: 1')")
    assert _get(api, f"/api/v1/audits/{hq_data.queued}")["status"] == "released"
    assert (
        row.count() == 0
        or page.locator(
            f"#waves tr[data-wave='{hq_data.wave_id}'] [data-test=approved]"
        ).inner_text()
        == "0"
    )

    page.click("nav.subnav a:has-text('Оспаривания')")
    page.wait_for_selector("text=Открытых оспариваний нет.")
    _screens(browser, page, "disputes")
    page.goto("/#/review")
    page.wait_for_selector("text=Очередь пуста.")

    _refused(page, "/admin/users")
    _refused(page, "/admin/checklists")


BROKEN_KEY = "        weight: 2\n        staff_role: barista"


def test_admin_imports_a_checklist_after_fixing_its_error(
    browser: Browser, server: Server, hq_data: HqData, as_user: Any
) -> None:
    api = as_user("admin")
    original = EXAMPLE_CHECKLIST.read_text(encoding="utf-8").replace(
        "checklist: coffee-shop-visit", "checklist: coffee-shop-new"
    )
    broken = original.replace(BROKEN_KEY, BROKEN_KEY.replace("weight: 2", "weight: heavy"))
    checked = api.post("/api/v1/checklists/validate", json={"yaml": broken})
    assert checked.status_code == 422
    (problem,) = checked.get_json()["error"]["fields"]["problems"]
    line = int(problem.split(":")[1])
    assert broken.splitlines()[line - 1] == "        weight: heavy"

    page = _open(browser, "admin")
    page.wait_for_selector("h1:has-text('Чек-листы')")
    assert [a.inner_text() for a in page.locator("nav#tabs a").all()] == [
        "Управление",
        "Проверка отчётов",
        "Оспаривания",
        "Рейтинги",
    ]
    page.wait_for_selector("#versions tbody tr")
    _screens(browser, page, "checklists")
    page.fill("#yaml-text", broken)
    page.click("#validate")
    page.wait_for_selector("#yaml-problems")
    item = page.locator("#yaml-problems li").first
    assert item.locator("[data-test=line]").inner_text() == f"Строка {line}"
    assert "weight: heavy" in item.locator("pre").inner_text()
    assert page.locator("#yaml-problems li").count() == 1
    _screens(browser, page, "checklist-error")
    # The button puts the cursor on the broken line.
    item.locator("button").click()
    selected = page.evaluate(
        "() => { const t = document.getElementById('yaml-text');"
        " return t.value.slice(t.selectionStart, t.selectionEnd); }"
    )
    assert selected == "        weight: heavy"
    page.click("#import")  # importing the broken file is refused the same way
    page.wait_for_selector(f"#yaml-problems [data-test=line]:has-text('Строка {line}')")

    page.fill("#yaml-text", original)
    page.click("#validate")
    page.wait_for_selector("#yaml-ok")
    assert "coffee-shop-new, версия 1: разделов 3, пунктов 7" in _text(page, "#yaml-ok")
    assert "создаст новую версию" in _text(page, "#yaml-ok")
    page.click("#import")
    page.wait_for_selector("#notice:has-text('coffee-shop-new')")
    stored = _get(api, "/api/v1/checklists?slug=coffee-shop-new")["items"]
    assert [(c["slug"], c["version"]) for c in stored] == [("coffee-shop-new", 1)]
    page.wait_for_selector(f"#versions tr[data-version='{stored[0]['id']}']")
    _screens(browser, page, "checklist-imported")

    # A branch CSV with a bad row: nothing imported, the row and column shown.
    csv = (
        "code,name,kind,region_code,city\n"
        "N9,Филиал N9,store,N,Мурманск\n"
        "N10,Филиал N10,castle,N,Мурманск\n"
    )
    refused = api.post(
        "/api/v1/branches/import", data=csv.encode(), content_type="text/csv"
    ).get_json()["error"]["fields"]["rows"]
    page.click("nav.subnav a:has-text('Сеть')")
    page.wait_for_selector("#branches tbody tr")
    page.set_input_files(
        "#branches-csv", files=[{"name": "b.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.click("#branches-csv ~ button[type=submit]")
    page.wait_for_selector("#branches-problems tbody tr")
    assert page.locator("#branches-problems [data-test=row]").all_inner_texts() == [
        str(p["row"]) for p in refused
    ]
    assert page.locator("#branches tbody tr").count() == 4  # nothing imported
    _screens(browser, page, "network")

    # Waves with their progress, one wave, attestation, users: each screen drawn and checked.
    waves = _get(api, "/api/v1/waves?per_page=20")["items"]
    page.click("nav.subnav a:has-text('Волны')")
    page.wait_for_selector("#waves tbody tr")
    assert page.locator("#waves tbody tr").count() == len(waves)
    _screens(browser, page, "waves")
    wave = hq_data.wave_id
    assignments = _get(api, f"/api/v1/assignments?wave_id={wave}&per_page=500")["items"]
    page.click(f"#waves tr[data-wave='{wave}'] a")
    page.wait_for_selector("#wave-progress")
    for status in {a["audit_status"] for a in assignments}:
        count = sum(a["audit_status"] == status for a in assignments)
        assert page.locator(f"#wave-progress tr[data-status={status}] td").inner_text() == str(
            count
        )
    _screens(browser, page, "wave")
    page.click("nav.subnav a:has-text('Аттестация')")
    page.wait_for_selector("#period-form")
    _screens(browser, page, "attestation")
    users = _get(api, "/api/v1/users?per_page=100")
    page.click("nav.subnav a:has-text('Пользователи')")
    page.wait_for_selector("#users tbody tr")
    assert page.locator("#users tbody tr").count() == users["total"]
    _screens(browser, page, "users")
