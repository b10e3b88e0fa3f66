"""The shopper's PWA in Debian's Chromium against a real server: the five scenarios of the
offline visit (issue 11), with a screenshot and an axe-core check of every screen."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.conftest import Fieldwork, Network
from tests.e2e.conftest import Browser, Server
from tests.e2e.helpers import (
    CAPTURED_UTC,
    EXPECTED_ANSWERS,
    GPS,
    camera_jpeg,
    fill_example_checklist,
    image_of,
    open_assignment,
    pick,
    server_audits,
    sign_in,
    wait_ready,
)


def _shots(browser: Browser, page: Any) -> Any:
    return lambda name: browser.check_screen(page, name)


def _outbox_drained(page: Any) -> None:
    page.goto("/#/outbox")
    try:
        page.wait_for_selector("#outbox-status:has-text('Всё отправлено')", timeout=60_000)
    except Exception:
        entries = page.evaluate(
            "() => new Promise(r => { const q = indexedDB.open('auditapp'); q.onsuccess = () => {"
            " const g = q.result.transaction('outbox').objectStore('outbox').getAll();"
            " g.onsuccess = () => r(JSON.stringify(g.result)); }; })"
        )
        probe = page.evaluate("fetch('/healthz').then(r=>r.status).catch(e=>String(e))")
        probe2 = page.evaluate("fetch('/api/v1/auth/me').then(r=>r.status).catch(e=>String(e))")
        probe3 = page.evaluate("fetch('/api/v1/audits/x/photos', {method: 'POST', body: new FormData()}).then(r=>r.status).catch(e=>String(e))")
        raise AssertionError(f"{probe} {probe2} {probe3} {page.evaluate('navigator.onLine')}" + page.locator("main").inner_text() + entries) from None


def _submit_from_review(page: Any) -> None:
    page.click("button.primary:has-text('Проверить и отправить')")
    page.wait_for_selector("#missing:has-text('Всё заполнено')")
    page.click("#submit")
    page.wait_for_selector("h1:has-text('Исходящие')")


def test_offline_visit_survives_reload_and_restart_then_drains_once(
    browser: Browser,
    server: Server,
    fieldwork: Fieldwork,
    network: Network,
    tmp_path: Path,
    as_user: Any,
) -> None:
    photo = camera_jpeg(tmp_path / "IMG_0001.jpg")
    assert photo.stat().st_size > 500_000
    context = browser.open()
    page = browser.page()
    page.goto("/")
    page.wait_for_selector("#login-name")
    browser.check_screen(page, "login")
    sign_in(page)
    page.wait_for_selector("ul.list li")
    wait_ready(page)
    browser.check_screen(page, "assignments")
    page.locator("ul.list a", has_text="(N1)").click()
    page.wait_for_selector("#start-visit")
    browser.check_screen(page, "assignment")
    page.evaluate("navigator.serviceWorker.ready")

    context.set_offline(True)
    page.click("#start-visit")
    fill_example_checklist(page, photo, _shots(browser, page))
    # Before submit: the missing list names the unanswered item and jumps to it.
    pick(page, "table_clean", "Не применимо")
    page.click("button.primary:has-text('Проверить и отправить')")
    page.wait_for_selector("#missing")
    browser.check_screen(page, "review")
    assert page.locator("#missing").inner_text().strip() == "✓ Всё заполнено."

    page.click("#submit")
    page.wait_for_selector("#outbox-list li")
    assert page.locator("#outbox-list li").count() == 2  # the photo, then the report
    browser.check_screen(page, "outbox")

    page.reload()
    page.wait_for_selector("#outbox-list li")
    assert page.locator("#outbox-list li").count() == 2
    browser.close()

    context = browser.open(offline=True)
    page = browser.page()
    page.goto("/#/outbox")
    page.wait_for_selector("#outbox-list li")
    assert page.locator("#outbox-list li").count() == 2
    assert server_audits(fieldwork.assignments["shopper_n1"]) == []

    context.set_offline(False)
    _outbox_drained(page)
    audits = server_audits(fieldwork.assignments["shopper_n1"])
    assert len(audits) == 1
    audit = audits[0]
    assert audit.status == "submitted"
    assert audit.answers == EXPECTED_ANSWERS
    assert audit.geo_lat is not None  # the device location, allowed by the shopper
    served = sorted((s.staff_role, s.staff_member_id, s.description) for s in audit.staff_served)
    assert served == [
        ("barista", network.staff["E-N1-a"], ""),
        ("cashier", None, "Высокий, бейдж без имени"),
    ]

    reviewer = as_user("reviewer")
    detail = reviewer.get(f"/api/v1/audits/{audit.id}").get_json()
    photos = [p for p in detail["photos"] if p["status"] != "withdrawn"]
    assert len(photos) == 1 and photos[0]["item_id"] == "receipt"
    # The capture time and GPS of the camera file reached the server through the resized copy.
    assert photos[0]["captured_at"].startswith(CAPTURED_UTC.strftime("%Y-%m-%dT%H:%M:%S"))
    assert abs(photos[0]["gps_lat"] - GPS[0]) < 1e-4 and abs(photos[0]["gps_lon"] - GPS[1]) < 1e-4
    original = reviewer.get(f"/api/v1/photos/{photos[0]['id']}/original")
    assert original.status_code == 200
    stored = image_of(original.data)
    # Resized on the phone: 12 MP -> long side 2000; turned upright (portrait), orientation 1.
    assert stored.format == "JPEG"
    assert max(stored.size) <= 2000 and stored.size == (1500, 2000)
    assert stored.getexif().get(0x0112) == 1
    assert len(original.data) < photo.stat().st_size

    # The same camera file reused at another branch is still caught after the resize.
    page.goto("/#/")
    open_assignment(page, "S2")
    page.wait_for_selector("#item-greeted, h1:has-text('Кто обслуживал')")
    page.goto(page.url.replace("/staff", "/s/1"))
    page.wait_for_selector("#item-receipt")
    page.locator("#item-receipt input[type=file]").set_input_files(str(photo))
    page.wait_for_selector("#item-receipt .thumbs img", timeout=60_000)
    _outbox_drained(page)
    (second,) = server_audits(fieldwork.assignments["shopper_s2"])
    reused = reviewer.get(f"/api/v1/audits/{second.id}").get_json()["photos"]
    assert reused[0]["reuse_kind"] in ("identical", "near")
    assert reused[0]["reused_from_photo_id"] == photos[0]["id"]
