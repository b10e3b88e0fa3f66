"""The shopper's PWA in Debian's Chromium against a real server: the five scenarios of the
offline visit (issue 11), with a screenshot and an axe-core check of every screen."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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
from tests.support import Fieldwork, Network


def _shots(browser: Browser, page: Any) -> Any:
    return lambda name: browser.check_screen(page, name)


def _outbox_drained(page: Any) -> None:
    page.goto("/#/outbox")
    page.wait_for_selector("#outbox-status:has-text('Всё отправлено')", timeout=60_000)


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


def _release_version(pwa_dir: Path) -> str:
    """The version string of the shell being served: ``VERSION`` in the service worker, the
    same as ``APP_VERSION`` in main.js (docs/pwa.md: a release changes both)."""
    found = re.search(r'^const VERSION = "([^"]+)";$', (pwa_dir / "sw.js").read_text(), re.M)
    assert found, "no VERSION in sw.js"
    assert f'export const APP_VERSION = "{found[1]}";' in (pwa_dir / "js" / "main.js").read_text()
    return found[1]


def _fill_and_submit(page: Any, browser: Browser, photo: Path, shots: bool = False) -> None:
    fill_example_checklist(page, photo, _shots(browser, page) if shots else None)
    pick(page, "table_clean", "Не применимо")
    _submit_from_review(page)


def test_503_on_first_submits_is_retried_and_stored_once(
    browser: Browser, server: Server, fieldwork: Fieldwork, tmp_path: Path
) -> None:
    photo = camera_jpeg(tmp_path / "IMG_0002.jpg", seed=2)
    # Route interception sees the page's requests only when no service worker stands between.
    context = browser.open(service_workers="block")
    calls: list[int] = []

    def flaky_submit(route: Any) -> None:
        calls.append(len(calls) + 1)
        if len(calls) == 1:  # the server is down
            route.fulfill(status=503, content_type="application/json", body='{"error": {}}')
        elif len(calls) == 2:  # the server commits, but the answer is lost on the way back
            stored = route.fetch()
            assert stored.status == 201
            route.fulfill(status=503, content_type="application/json", body='{"error": {}}')
        else:
            route.continue_()

    context.route(re.compile(r".*/api/v1/audits/[^/]+/submit$"), flaky_submit)
    page = browser.page()
    page.goto("/")
    sign_in(page)
    wait_ready(page)
    open_assignment(page, "N1")
    _fill_and_submit(page, browser, photo)
    _outbox_drained(page)
    assert len(calls) >= 3
    audits = server_audits(fieldwork.assignments["shopper_n1"])
    assert len(audits) == 1 and audits[0].answers == EXPECTED_ANSWERS
    # Nothing is left on the phone once the server confirmed (the 200 replay).
    left = page.evaluate(
        "() => new Promise(r => { const q = indexedDB.open('auditapp'); q.onsuccess = () => {"
        " const g = q.result.transaction('drafts').objectStore('drafts').count();"
        " g.onsuccess = () => r(g.result); }; })"
    )
    assert left == 0
    page.goto("/#/audits")
    page.wait_for_selector("ul.list li")
    assert "отправлено" in page.locator("ul.list").inner_text()
    browser.check_screen(page, "past-audits")


def test_session_expiry_while_offline_keeps_the_outbox_until_signed_in_again(
    browser: Browser, server: Server, fieldwork: Fieldwork, tmp_path: Path
) -> None:
    photo = camera_jpeg(tmp_path / "IMG_0003.jpg", seed=3)
    context = browser.open()
    page = browser.page()
    page.goto("/")
    sign_in(page)
    wait_ready(page)
    page.evaluate("navigator.serviceWorker.ready")
    context.set_offline(True)
    open_assignment(page, "N1")
    _fill_and_submit(page, browser, photo)
    page.wait_for_selector("#outbox-list li")
    context.clear_cookies()  # the session (and the remember-me cookie) expired meanwhile
    context.set_offline(False)
    # Back online, the outbox syncs by itself, finds the session gone and asks for a sign-in.
    page.wait_for_selector("#login-name", timeout=60_000)
    assert "Сессия истекла" in page.locator("#banners").inner_text()
    browser.check_screen(page, "login-session-expired")
    assert server_audits(fieldwork.assignments["shopper_n1"]) == []
    sign_in(page)
    _outbox_drained(page)
    audits = server_audits(fieldwork.assignments["shopper_n1"])
    assert len(audits) == 1 and audits[0].answers == EXPECTED_ANSWERS
    assert [p.item_id for p in audits[0].photos if p.status != "withdrawn"] == ["receipt"]


def test_returned_audit_is_fixed_and_resubmitted(
    browser: Browser, server: Server, fieldwork: Fieldwork, as_user: Any, tmp_path: Path
) -> None:
    from tests.support import submission, upload_photo

    shopper = as_user("shopper")
    audit_uuid = "5b0f3c3e-8a55-4f41-9a57-3c1f9f0f6a11"
    assignment_id = fieldwork.assignments["shopper_n1"]
    assert upload_photo(shopper, audit_uuid, assignment_id, "receipt").status_code == 201
    body = submission(assignment_id)
    assert shopper.post(f"/api/v1/audits/{audit_uuid}/submit", json=body).status_code == 201
    (audit,) = server_audits(assignment_id)
    reviewer = as_user("reviewer")
    returned = reviewer.post(
        f"/api/v1/audits/{audit.id}/return",
        json={"version": audit.version, "comment": "Вкус напитка: проверьте оценку"},
    )
    assert returned.status_code == 200, returned.get_json()

    browser.open()
    page = browser.page()
    page.goto("/")
    sign_in(page)
    wait_ready(page)
    card = page.locator("ul.list li", has_text="(N1)")
    assert "возвращено на доработку" in card.inner_text()
    assert "Вкус напитка: проверьте оценку" in card.inner_text()
    open_assignment(page, "N1")
    page.wait_for_selector("h1:has-text('Кто обслуживал')")
    page.click("button.primary")
    page.wait_for_selector("#item-greeted")
    assert page.locator("#item-greeted input[value='true']").is_checked()  # the answers came back
    page.click("button.primary")
    page.wait_for_selector("#item-drink_quality")
    assert page.locator("#item-receipt .thumbs img").count() == 1  # the photo on the server
    pick(page, "drink_quality", "5")
    browser.check_screen(page, "returned-section")
    page.click("button.primary")
    _submit_from_review(page)
    _outbox_drained(page)
    (fixed,) = server_audits(assignment_id)
    assert fixed.status == "submitted"
    assert fixed.answers == {**body["answers"], "drink_quality": 5}


def test_new_service_worker_version_mid_visit_keeps_the_draft(
    browser: Browser, server: Server, fieldwork: Fieldwork
) -> None:
    browser.open()
    page = browser.page()
    page.goto("/")
    sign_in(page)
    wait_ready(page)
    page.evaluate("navigator.serviceWorker.ready")
    open_assignment(page, "N1")
    page.wait_for_selector("h1:has-text('Кто обслуживал')")
    page.click("button.primary")
    pick(page, "greeted", "Нет")
    # The built-in stopwatch fills the waiting time; then the shopper corrects it by hand.
    page.click("#item-queue_wait button:has-text('Запустить секундомер')")
    page.wait_for_timeout(1600)
    page.click("#item-queue_wait button:has-text('Остановить секундомер')")
    page.wait_for_selector("#item-queue_wait button:has-text('Запустить секундомер')")
    page.wait_for_function("document.querySelector('#item-queue_wait input').value !== ''")
    assert int(page.locator("#item-queue_wait input[type=number]").input_value()) >= 1
    page.fill("#item-queue_wait input[type=number]", "130")
    old = page.locator("#version").inner_text()

    # Deploy a new version of the shell while the shopper is mid-visit.
    release = _release_version(server.pwa_dir)
    for name in ("sw.js", "js/main.js"):
        path = server.pwa_dir / name
        path.write_text(path.read_text().replace(release, "2099.01.01-2"))
    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    page.wait_for_selector("#banners button", timeout=30_000)
    browser.check_screen(page, "update-ready")
    page.click("#banners button")
    page.wait_for_selector("#item-greeted")
    assert page.locator("#version").inner_text() != old
    assert "2099.01.01-2" in page.locator("#version").inner_text()
    assert page.locator("#item-greeted input[value='false']").is_checked()
    assert page.locator("#item-queue_wait input[type=number]").input_value() == "130"

    # English, chosen once, stays after a restart of the app.
    page.click("#lang")
    page.wait_for_selector("h1:has-text('Section 1 of 3')")
    browser.check_screen(page, "section-english")
    page.reload()
    page.wait_for_selector("h1:has-text('Section 1 of 3')")
    assert page.locator("#item-greeted label", has_text="No").count() == 1


def test_refusals_are_shown_with_what_to_fix(
    browser: Browser, server: Server, fieldwork: Fieldwork, as_user: Any, tmp_path: Path
) -> None:
    photo = camera_jpeg(tmp_path / "IMG_0004.jpg", seed=4)
    context = browser.open(service_workers="block")
    refusal = {
        "error": {
            "code": "invalid",
            "message": "The report is not complete or has invalid values.",
            "fields": {"answers": {"drink_quality": ["4 is not what the receipt shows"]}},
        }
    }
    refuse = re.compile(r".*/api/v1/audits/[^/]+/submit$")
    context.route(refuse, lambda route: route.fulfill(status=422, json=refusal))
    page = browser.page()
    page.goto("/")
    sign_in(page)
    wait_ready(page)
    open_assignment(page, "N1")
    fill_example_checklist(page, photo, last_section=False)
    page.click("button.primary:has-text('Проверить и отправить')")
    page.wait_for_selector("#missing li")
    # The missing list names the unanswered item and jumps to it.
    assert "Стол был чистым?: нет ответа" in page.locator("#missing").inner_text()
    browser.check_screen(page, "review-missing")
    page.locator("#missing a", has_text="Стол был чистым?").click()
    page.wait_for_selector("#item-table_clean")
    assert page.evaluate("document.activeElement.closest('fieldset').id") == "item-table_clean"
    pick(page, "table_clean", "Не применимо")
    _submit_from_review(page)
    # 422: the report comes back to the shopper with the item to fix, as a link.
    page.wait_for_selector("ul.list a:has-text('Что исправить')", timeout=30_000)
    browser.check_screen(page, "outbox-refused")
    page.click("ul.list a:has-text('Что исправить')")
    page.wait_for_selector("[role=alert] a:has-text('4 is not what the receipt shows')")
    browser.check_screen(page, "review-refused")
    page.click("[role=alert] a:has-text('4 is not what the receipt shows')")
    page.wait_for_selector("#item-drink_quality")
    pick(page, "drink_quality", "3")
    context.unroute(refuse)
    page.click("button.primary")  # section 3
    _submit_from_review(page)
    _outbox_drained(page)
    (audit,) = server_audits(fieldwork.assignments["shopper_n1"])
    assert audit.answers["drink_quality"] == 3

    # 409: the same assignment was submitted from another phone meanwhile; nothing is dropped
    # silently: the report shows the conflict and the shopper may delete the local copy.
    from tests.support import submission, upload_photo

    s2 = fieldwork.assignments["shopper_s2"]
    open_assignment(page, "S2")
    page.wait_for_selector("h1:has-text('Кто обслуживал')")
    context.set_offline(True)
    page.click("button.primary")
    pick(page, "greeted", "Да")
    other = as_user("shopper")
    other_uuid = "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"
    assert upload_photo(other, other_uuid, s2, "receipt").status_code == 201
    assert other.post(f"/api/v1/audits/{other_uuid}/submit", json=submission(s2)).status_code == 201
    page.goto(page.url.replace("/s/0", "/s/1"))
    page.wait_for_selector("#item-receipt")
    page.locator("#item-receipt input[type=file]").set_input_files(str(photo))
    page.wait_for_selector("#item-receipt .thumbs img", timeout=60_000)
    context.set_offline(False)
    page.goto("/#/outbox")
    page.wait_for_selector("ul.list a:has-text('Что исправить')", timeout=60_000)
    page.click("ul.list a:has-text('Что исправить')")
    page.wait_for_selector("[role=alert]:has-text('конфликт')")
    browser.check_screen(page, "review-conflict")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Удалить локальную копию')")
    page.wait_for_selector("h1:has-text('Задания')")
    assert [a.client_uuid for a in server_audits(s2)] == [__import__("uuid").UUID(other_uuid)]


def test_skip_link_moves_focus_to_the_screen_and_keeps_the_address(
    browser: Browser, server: Server, fieldwork: Fieldwork
) -> None:
    """Following "skip to content" focuses the screen's heading and leaves the route alone (the
    address names the screen: "#view" would read as an unknown one)."""
    browser.open()
    page = browser.page()
    page.goto("/")
    page.wait_for_selector("#login-name")
    sign_in(page)
    page.wait_for_selector("ul.list li")
    wait_ready(page)
    address = page.evaluate("location.hash")
    page.evaluate("document.activeElement.blur()")
    page.focus("a.skip")
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == address
    assert page.evaluate("document.getElementById('view').contains(document.activeElement)")
    assert page.evaluate("document.activeElement.tagName") == "H1"
    page.locator("ul.list a", has_text="(N1)").wait_for()
    assert page.locator("text=/не найден|not found/i").count() == 0
