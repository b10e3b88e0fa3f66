"""The store manager's and the employee's screens in Debian's Chromium against a real server:
the manager walks dashboard -> an audit -> disputes an item; the employee reads their sheet and
objects. Every number checked on screen is read from the API in the same test and formatted
the way the server formats scores (``auditapp.domain.scoring.display``). Each screen is
saved at 360 x 740 and 1366 x 768 and checked by axe-core (no serious or critical violation);
no Content-Security-Policy violation and no script error happens on the way.

Data (through the services, relative to today so the test holds on any day): branch N1 is
audited once a month for the five months before last month (87.5 each) and twice last month
(67.5: greeted no; 47.5: greeted no and a 400 s queue), always served by E-N1-a as barista;
last month N2 has 87.5 and S1 87.5 and 67.5. So last month N1 is 57.5, last in region N and in
the network, with a decline alert (57.5 against 87.5). An attestation period over those six
months is closed, so E-N1-a's sheet waits for acknowledgement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from auditapp.domain.scoring import display
from tests.e2e.conftest import ARTEFACTS, Browser, Server
from tests.e2e.helpers import month_start, sign_in, visit_at, wait_ready
from tests.support import (
    RATING_CHECKLIST,
    Network,
    Ratings,
    answers,
    audit_at,
    jpeg_bytes,
    make_user,
)

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 740}
# Collects CSP violations and script errors from the first moment of every page.
WATCH = """
window.__problems = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__problems.push('csp: ' + e.violatedDirective + ' ' + e.blockedURI));
window.addEventListener('error', (e) => window.__problems.push('error: ' + e.message));
"""


@dataclass
class BranchData:
    """What the scenario made: the period shown, the audits, the attestation period."""

    network: Network
    period: str
    low_audit: int
    attestation_period: int


@pytest.fixture
def branch_data(app: Flask, network: Network, as_user: Any) -> BranchData:
    from auditapp.services import checklists

    # The server's fieldwork already uses version 1 of the example checklist: this is version 2
    # (no photo rules, for every kind of branch), as the ratings tests use it.
    text = RATING_CHECKLIST.replace("\nversion: 1\n", "\nversion: 2\n")
    version = checklists.import_checklist(text, "ratings.yaml")
    ratings = Ratings(network, version.id, [make_user(f"rshopper{i}", "shopper") for i in range(4)])
    barista = [{"staff_role": "barista", "staff_member_id": network.staff["E-N1-a"]}]
    for back in range(6, 1, -1):
        audit_at(ratings, "N1", visit_at(back, 10), answers(), staff=barista)
    low = audit_at(
        ratings, "N1", visit_at(1, 10), answers(greeted=False), staff=barista, photo_item="receipt"
    )
    audit_at(ratings, "N1", visit_at(1, 12), answers(greeted=False, queue_wait=400), staff=barista)
    audit_at(ratings, "N2", visit_at(1, 11), answers())
    audit_at(ratings, "S1", visit_at(1, 11), answers())
    audit_at(ratings, "S1", visit_at(1, 13), answers(greeted=False))
    admin = as_user("admin")
    rules = {
        "weights": {"individual": 50, "collective": 30, "internal": 20},
        "min_external_share": 60,
        "min_audits": 3,
    }
    rule_set = admin.post(
        "/api/v1/attestation/rule-sets",
        json={"code": "staff", "name": "Аттестация персонала", "rules": rules},
    ).get_json()
    last = month_start(1)
    ends = date(last.year + (last.month == 12), last.month % 12 + 1, 1).toordinal() - 1
    created = admin.post(
        "/api/v1/attestation/periods",
        json={
            "name": "Полугодие",
            "rule_set_id": rule_set["id"],
            "starts_on": month_start(6).isoformat(),
            "ends_on": date.fromordinal(ends).isoformat(),
        },
    )
    assert created.status_code == 201, created.get_json()
    period = created.get_json()
    closed = admin.post(
        f"/api/v1/attestation/periods/{period['id']}/close", json={"version": period["version"]}
    )
    assert closed.status_code == 200, closed.get_json()
    return BranchData(network, last.strftime("%Y-%m"), low, period["id"])


def _get(api: Any, path: str) -> Any:
    response = api.get(path)
    assert response.status_code == 200, (path, response.get_json())
    return response.get_json()


def _screens(browser: Browser, page: Any, screen: str) -> None:
    """Both sizes of a screen as artefacts; axe-core on it (at the phone's size)."""
    page.set_viewport_size(DESKTOP)
    page.wait_for_timeout(150)  # the trend redraws at the new width
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


def test_manager_dashboard_audit_and_dispute(
    browser: Browser, server: Server, branch_data: BranchData, as_user: Any, tmp_path: Path
) -> None:
    n1 = branch_data.network.branches["N1"]
    period = branch_data.period
    api = as_user("manager_n1")
    rating = _get(api, f"/api/v1/ratings/branches/{n1}?period={period}")
    trend = _get(api, f"/api/v1/ratings/branches/{n1}/trend?months=12&until={period}")
    weakest = _get(api, f"/api/v1/ratings/branches/{n1}/standards?period={period}&limit=5")
    counted = _get(api, f"/api/v1/ratings/branches/{n1}/audits?period={period}&per_page=100")

    context = browser.open()
    context.add_init_script(WATCH)
    page = browser.page()
    page.goto("/")
    page.wait_for_selector("#login-name")
    sign_in(page, "manager_n1")
    wait_ready(page)
    # Home of a manager with one branch: that branch's dashboard.
    page.wait_for_url(re.compile(rf".*#/branch/{n1}$"))
    page.wait_for_selector("[data-test=mean]")
    assert [a.inner_text() for a in page.locator("nav#tabs a").all()] == ["Филиал"]

    page.goto(f"/#/branch/{n1}?period={period}")
    page.wait_for_selector(f"[data-test=n]:has-text('{rating['rating']['n']} визитов')")
    page.wait_for_selector("#trend figure[data-drawn='1']")
    r = rating["rating"]
    assert (r["n"], r["mean"]) == (2, 57.5)  # the scenario's own arithmetic, then the screen
    assert _text(page, "[data-test=mean]") == display(r["mean"])
    assert (
        _text(page, "[data-test=ci]") == f"95% ДИ: {display(r['ci_low'])}–{display(r['ci_high'])}"
    )
    change = rating["mean_change"]
    assert _text(page, "[data-test=change]") == (
        f"+{display(change)}" if change > 0 else f"−{display(-change)}"
    )
    for scope in ("region", "network"):
        place = rating["places"][scope]
        assert _text(page, f"[data-test=rank-{scope}]") == f"{place['rank']} из {place['of']}"
        assert _text(page, f"[data-test=rank-{scope}-range]") == (
            f"возможные места: {place['rank_best']}–{place['rank_worst']}"
        )
    assert (rating["places"]["network"]["rank"], rating["places"]["network"]["of"]) == (3, 3)
    decline = trend["decline"]
    assert decline is not None
    assert f"на {display(decline['drop'])} ниже" in _text(page, "#decline")
    # The trend's numbers, month by month, in the chart's table.
    page.locator("#trend details summary").click()
    cells = page.locator("#trend table tbody tr td:nth-child(2)").all_inner_texts()
    assert cells == [display(p["mean"]) if p["n"] else "нет данных" for p in trend["points"]]
    rates = page.locator("#weakest [data-test=pass-rate]").all_inner_texts()
    assert rates == [f"{display(w['pass_rate'] * 100)}%" for w in weakest["weakest"]]
    assert "10 секунд" in _text(page, "#weakest li[data-item=greeted] .guidance")
    stage_values = page.locator("#stages .bar-value").all_inner_texts()
    stages = rating["breakdowns"]["stage"]
    assert stage_values == [
        display(stages[s]["mean"])
        for s in ("pre_purchase", "purchase", "after_sale")
        if s in stages
    ]
    scores = page.locator("#audits [data-test=score]").all_inner_texts()
    assert scores == [display(a["score"]) for a in counted["items"]]
    assert "Ответы (XLSX)" in _text(page, "#downloads")
    sheets = _text(page, "#sheets")
    assert "Сотрудник E-N1-a" in sheets and "Сотрудник E-N2-a" not in sheets
    _screens(browser, page, "dashboard")

    # An audit behind the number: answers, points, guidance of the failed item.
    page.locator(f"#audits tr[data-audit='{branch_data.low_audit}'] a").click()
    page.wait_for_selector("[data-test=audit-score]")
    audit = _get(api, f"/api/v1/audits/{branch_data.low_audit}")
    assert _text(page, "[data-test=audit-score]") == display(audit["score"])
    greeted = page.locator("#audit-item-greeted")
    result = audit["score_detail"]["items"]["greeted"]
    assert _text(page, "#audit-item-greeted [data-test=points]") == (
        f"({display(result['earned'])} / {display(result['possible'])} баллы)"
    )
    assert "не выполнено" in greeted.inner_text()
    assert "Гостя приветствуют в течение 10 секунд" in greeted.locator(".guidance").inner_text()
    assert "rshopper" not in page.locator("#view").inner_text()  # never the shopper
    (photo_row,) = [p for p in audit["photos"] if p["item_id"] == "receipt"]
    thumb = page.locator(f"#audit-item-receipt img[src$='/photos/{photo_row['id']}/thumb']")
    thumb.wait_for()
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    _screens(browser, page, "audit")

    # Dispute the item with a reason, the right answer and a photo.
    photo = tmp_path / "dispute.jpg"
    photo.write_bytes(jpeg_bytes(seed=7))
    page.click("button[data-dispute=greeted]")
    page.fill("#audit-item-greeted textarea", "Бариста поздоровался, это видно на фото")
    page.select_option("#audit-item-greeted select", label="Да")
    page.locator("#audit-item-greeted input[type=file]").set_input_files(str(photo))
    _screens(browser, page, "dispute-form")
    page.click("#audit-item-greeted button[type=submit]")
    page.wait_for_selector("[role=status]:has-text('Оспаривание отправлено')")
    after = _get(api, f"/api/v1/audits/{branch_data.low_audit}")
    (dispute,) = after["disputes"]
    assert (dispute["item_id"], dispute["status"]) == ("greeted", "open")
    assert dispute["reason"] == "Бариста поздоровался, это видно на фото"
    assert dispute["photo_id"] is not None
    assert dispute["requested_value"] is True
    assert "на рассмотрении" in greeted.inner_text()
    assert page.locator("button[data-dispute=greeted]").count() == 0  # already disputed

    # Followed on the dashboard.
    page.goto(f"/#/branch/{n1}?period={period}")
    page.wait_for_selector("#disputes table")
    listed = _get(api, f"/api/v1/disputes?branch_id={n1}&status=any")["items"]
    assert [d["id"] for d in listed] == [dispute["id"]]
    row = _text(page, "#disputes tbody tr")
    assert f"#{branch_data.low_audit}" in row and "на рассмотрении" in row

    # Other roles' screens: a clear refusal, not a broken page.
    _refused(page, "/sheets")
    _refused(page, "/outbox")
    _screens(browser, page, "not-allowed")


def test_employee_reads_own_sheet_and_objects(
    browser: Browser, server: Server, branch_data: BranchData, as_user: Any
) -> None:
    staff = branch_data.network.staff["E-N1-a"]
    period = branch_data.attestation_period
    api = as_user("employee_n1")
    sheet = _get(api, f"/api/v1/attestation/periods/{period}/sheets/{staff}")
    assert sheet["state"] == "pending" and sheet["points"] is not None

    context = browser.open()
    context.add_init_script(WATCH)
    page = browser.page()
    page.goto("/")
    page.wait_for_selector("#login-name")
    sign_in(page, "employee_n1")
    wait_ready(page)
    # Home of an employee: their sheets.
    page.wait_for_selector("h1:has-text('Моя аттестация')")
    page.wait_for_selector("[data-test=points]")
    assert [a.inner_text() for a in page.locator("nav#tabs a").all()] == ["Моя аттестация"]
    assert _text(page, "[data-test=points]") == display(sheet["points"])
    _screens(browser, page, "my-sheets")

    page.click(f"a[href='#/sheet/{period}/{staff}']")
    page.wait_for_selector("[data-test=sheet-points]")
    assert _text(page, "[data-test=sheet-points]") == display(sheet["points"])
    assert _text(page, "[data-test=external-share]") == f"{display(sheet['external_share'])}%"
    assert sheet["formula_ru"] in _text(page, "#formula")
    shown = page.locator("#components [data-test=component-score]").all_inner_texts()
    assert shown == [display(c["score"]) for c in sheet["components"]]
    # Every audit and item behind the individual points.
    audit_ids = sorted({e["audit_id"] for e in sheet["evidence"]})
    assert len(audit_ids) == 7
    blocks = page.locator("#evidence .evidence-audit")
    assert sorted(int(b.get_attribute("data-audit")) for b in blocks.all()) == audit_ids
    for block in blocks.all():
        rows = [
            e for e in sheet["evidence"] if e["audit_id"] == int(block.get_attribute("data-audit"))
        ]
        earned = block.locator("[data-test=earned]").all_inner_texts()
        assert earned == [display(e["earned"]) for e in rows]
        earned_sum, possible_sum = (sum(e[key] for e in rows) for key in ("earned", "possible"))
        total = f"{display(earned_sum)} / {display(possible_sum)}"
        assert block.locator("[data-test=audit-points]").inner_text() == total
    _screens(browser, page, "sheet")

    # Object, with a reason.
    page.fill("#object-form textarea", "Во втором визите я был на перерыве")
    page.click("#object-form button[type=submit]")
    page.wait_for_selector("[role=status]:has-text('Сохранено')")
    after = _get(api, f"/api/v1/attestation/periods/{period}/sheets/{staff}")
    assert after["state"] == "objected"
    assert after["responses"][-1]["comment"] == "Во втором визите я был на перерыве"
    assert "Во втором визите я был на перерыве" in _text(page, "#responses")
    assert page.locator("#object-form").count() == 0  # waits for an answer now
    _screens(browser, page, "sheet-objected")

    # The manager's screens are not the employee's.
    _refused(page, f"/branch/{branch_data.network.branches['N1']}")
    _refused(page, f"/audit/{branch_data.low_audit}")


def test_branch_choice_director_scope_and_english(
    app: Flask, browser: Browser, server: Server, branch_data: BranchData, as_user: Any
) -> None:
    """A manager of two branches picks one; a director drills into their region's branch but
    not another region's (the API's 404 becomes "not available"); the screens speak English."""
    branches = branch_data.network.branches
    make_user("manager_two", "manager", branch_ids=[branches["N1"], branches["N2"]])
    browser.open().add_init_script(WATCH)
    page = browser.page()
    page.goto("/")
    page.wait_for_selector("#login-name")
    sign_in(page, "manager_two")
    wait_ready(page)
    page.wait_for_selector("h1:has-text('Выберите филиал')")
    links = page.locator("#view ul.list a").all_inner_texts()
    assert sorted(links) == ["Филиал N1 (N1)", "Филиал N2 (N2)"]
    _screens(browser, page, "branch-choice")
    page.click("text=Филиал N2 (N2)")
    page.wait_for_url(re.compile(rf".*#/branch/{branches['N2']}$"))
    page.wait_for_selector("h1:has-text('Филиал N2 (N2)')")
    page.click("nav#tabs button:has-text('Выйти')")

    page.wait_for_selector("#login-name")
    rating = _get(
        as_user("director_n"),
        f"/api/v1/ratings/branches/{branches['N1']}?period={branch_data.period}",
    )
    # Signed in on the address the manager left, the director sees N2 first, then opens N1
    # (N2's render may still be under way: test_render_order.py).
    sign_in(page, "director_n")
    wait_ready(page)
    page.goto(f"/#/branch/{branches['N1']}?period={branch_data.period}")
    page.wait_for_selector("h1:has-text('Филиал N1 (N1)')")
    page.wait_for_selector("[data-test=mean]")
    assert _text(page, "[data-test=mean]") == display(rating["rating"]["mean"])
    page.click("#lang")
    page.wait_for_selector("#trend figcaption:has-text('Monthly trend')")
    assert _text(page, "[data-test=n]") == f"{rating['rating']['n']} visits"
    assert _text(page, "#disputes h2") == "Disputes"
    _screens(browser, page, "dashboard-en")
    page.goto(f"/#/branch/{branches['S1']}")
    page.wait_for_selector("#view [role=alert]:has-text('not available to you')")
    # The screens round as the server does (halves up from the shortest decimal form).
    values = [87.25, 2.25, 0.05, 99.95, 57.5, 12.345, 1e-7, 100.0, 0.0, 2 / 3, 1 / 3 * 100]
    shown = page.evaluate(
        "(values) => import('/pwa/js/office/charts.js').then(m => values.map(m.fmtScore))", values
    )
    assert shown == [display(v) for v in values]
    # The heat-map the HQ screens use: colour band and value as text, cells as drill-down links.
    cells = page.evaluate(
        """() => import('/pwa/js/office/charts.js').then((m) => {
          const table = m.heatMap({caption: 'N x sections', corner: 'Branch',
            columns: [{key: 'a', label: 'A'}, {key: 'b', label: 'B'}, {key: 'c', label: 'C'}],
            rows: [{key: 7, label: 'N1', href: '#/branch/7',
              cells: {a: {mean: 92.25, n: 3}, b: {mean: 55, n: 1}, c: {mean: null, n: 0}}}],
            cellHref: (row, column) => `#/branch/${row.key}?section=${column.key}`});
          return [...table.querySelectorAll('td')].map((td) =>
            [td.className, td.textContent, td.querySelector('a')?.getAttribute('href') ?? null]);
        })"""
    )
    assert cells == [
        ["heat-cell heat-4", "92.3 (3)", "#/branch/7?section=a"],
        ["heat-cell heat-0", "55.0 (1)", "#/branch/7?section=b"],
        ["heat-cell heat-none", "—", None],
    ]
