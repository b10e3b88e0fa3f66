"""What the end-to-end scenarios share: a 12-megapixel camera JPEG with EXIF, driving the PWA
through its screens, and reading what the server stored."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from tests.support import PASSWORD

# When the camera "took" the photo (local time of the branch, Europe/Moscow) and where.
CAPTURED_LOCAL = "2026:11:29 12:30:00"
CAPTURED_UTC = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
GPS = (55.0005, 37.0004)


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes_full = (value - degrees) * 60
    minutes = int(minutes_full)
    return (float(degrees), float(minutes), round((minutes_full - minutes) * 60, 4))


def camera_jpeg(path: Path, seed: int = 1) -> Path:
    """A 4000 x 3000 (12 MP) JPEG as a phone writes it: stored sideways with Orientation 6
    (the viewer turns it upright: 3000 x 4000), with DateTimeOriginal and GPS in EXIF."""
    image = Image.new("RGB", (4000, 3000), (40 + seed * 10, 90, 160))
    draw = ImageDraw.Draw(image)
    for index in range(14):
        x0 = (index * 613 + seed * 97) % 3600
        y0 = (index * 389 + seed * 53) % 2600
        colour = ((index * 53) % 256, (index * 97 + seed * 31) % 256, (index * 29) % 256)
        draw.rectangle((x0, y0, x0 + 400 + index * 10, y0 + 300), fill=colour)
    draw.ellipse((200, 200, 1400, 1400), fill=(250, 220, 30))  # a mark in the top-left corner
    # Sensor noise, so the file weighs what a camera's does (a few MB).
    image = Image.blend(image, Image.effect_noise(image.size, 40).convert("RGB"), 0.2)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "TestPhone"
    exif.get_ifd(0x8769)[0x9003] = CAPTURED_LOCAL
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", _dms(GPS[0])
    gps[3], gps[4] = "E", _dms(GPS[1])
    image.save(path, "JPEG", quality=88, exif=exif)
    return path


def wait_ready(page: Any) -> None:
    """Wait until the app has started (and finished its first sync when online)."""
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)


def sign_in(page: Any, login: str = "shopper") -> None:
    """Fill the sign-in form."""
    page.fill("#login-name", login)
    page.fill("#login-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("nav#tabs:not([hidden])")


def pick(page: Any, item_id: str, label: str) -> None:
    """Click a radio answer of an item by its visible label."""
    page.locator(f"#item-{item_id} .choice label").get_by_text(label, exact=True).click()


def open_assignment(page: Any, branch_code: str) -> None:
    """From the assignment list, open the assignment at the branch and start/continue."""
    page.goto("/#/")
    page.locator("ul.list a", has_text=f"({branch_code})").click()
    page.click("#start-visit")


def fill_example_checklist(
    page: Any, photo: Path, shots: Any = None, *, last_section: bool = True
) -> None:
    """Fill the example checklist through the screens, as a shopper would (staff, then each
    section), with one photo on the receipt item; without `last_section`, the last section is
    opened but left empty."""
    page.wait_for_selector("h1:has-text('Кто обслуживал')")
    page.select_option("select[name='staff-barista']", label="Сотрудник E-N1-a — consultant")
    page.select_option("select[name='staff-cashier']", value="describe")
    page.fill("textarea[name='desc-cashier']", "Высокий, бейдж без имени")
    if shots:
        shots("staff")
    page.click("button.primary")  # to the checklist
    page.wait_for_selector("#item-greeted")
    pick(page, "greeted", "Да")
    page.fill("#item-queue_wait input[type=number]", "45")
    page.locator("#item-greeted summary").click()  # the guidance on demand
    if shots:
        shots("section-1")
    page.click("button.primary")
    page.wait_for_selector("#item-receipt")
    pick(page, "receipt", "Да")
    page.locator("#item-receipt input[type=file]").set_input_files(str(photo))
    page.wait_for_selector("#item-receipt .thumbs img", timeout=60_000)
    pick(page, "drink_quality", "4")
    pick(page, "dessert_offer", "Да, без пояснений")
    if shots:
        shots("section-2")
    page.click("button.primary")
    page.wait_for_selector("#item-table_clean")
    if not last_section:
        return
    pick(page, "table_clean", "Не применимо")
    page.fill("#item-comment textarea", "Всё хорошо")
    if shots:
        shots("section-3")


EXPECTED_ANSWERS = {
    "greeted": True,
    "queue_wait": 45,
    "receipt": True,
    "drink_quality": 4,
    "dessert_offer": "generic",
    "table_clean": None,
    "comment": "Всё хорошо",
}


def server_audits(assignment_id: int) -> list[Any]:
    """The audits the server holds for an assignment (read fresh from the database)."""
    import sqlalchemy as sa

    from auditapp.extensions import db
    from auditapp.models import Audit

    db.session.rollback()
    return list(
        db.session.execute(sa.select(Audit).where(Audit.assignment_id == assignment_id)).scalars()
    )


def image_of(data: bytes) -> Image.Image:
    """Open image bytes."""
    return Image.open(io.BytesIO(data))


def month_start(months_back: int) -> date:
    """The first day of the month ``months_back`` before this one (UTC): scenario data is
    dated relative to today, so the tests pass on any day."""
    today = datetime.now(UTC).date()
    index = today.year * 12 + today.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def visit_at(months_back: int, day: int) -> datetime:
    """09:00 UTC on ``day`` of the month ``months_back`` before this one."""
    first = month_start(months_back)
    return datetime(first.year, first.month, day, 9, 0, tzinfo=UTC)
