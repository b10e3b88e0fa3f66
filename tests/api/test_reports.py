"""Audit report and branch scorecard PDFs: rendered, read back (pypdf), rasterised (pypdfium2,
first page kept under test-artefacts/), scoped per role, and free of the shopper's identity and
of photo metadata for the branch side."""

from __future__ import annotations

import io
import re
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pypdf
import pypdfium2
import pytest

from auditapp.adapters import pdf
from auditapp.extensions import db
from auditapp.models import User
from auditapp.services import users as user_service
from tests.api.test_photos import audit_detail, exif_block, jpeg_with_exif, submit, visit_start
from tests.support import Fieldwork, Network, submission, upload_photo

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts"
SHOPPER_NAME = "Агата Шпионова"
SHOPPER_EMAIL = "agata.spy@example.org"
SHOPPER_LOGIN = "shopper"
GPS = (55.751244, 37.618423)
BRANCH_SIDE = ("manager_n1", "director_n")


def pdf_text(content: bytes) -> str:
    """All the text of a PDF, pages joined, runs of white space (line breaks of wrapped
    paragraphs) made one space."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def keep_first_page(content: bytes, name: str) -> Path:
    """Rasterise the first page to PNG under test-artefacts/, so a layout break is visible."""
    ARTEFACTS.mkdir(exist_ok=True)
    document = pypdfium2.PdfDocument(content)
    try:
        image = document[0].render(scale=1.5).to_pil()
    finally:
        document.close()
    target = ARTEFACTS / f"{name}.png"
    image.save(target)
    assert image.size[0] > 800 and image.getextrema() != ((255, 255),) * 3
    return target


def assert_no_identity_or_metadata(content: bytes, text: str) -> None:
    """Neither the shopper's name, login nor e-mail, nor any EXIF block or GPS, in the bytes
    or in the text."""
    for secret in (SHOPPER_NAME, SHOPPER_EMAIL):
        assert secret not in text
        assert secret.encode() not in content
    assert not re.search(rf"\b{SHOPPER_LOGIN}\b", text.replace("Mystery shopper", ""))
    assert b"Exif\x00\x00" not in content
    assert b"GPS" not in content
    assert str(GPS[0]) not in text


def released_audit(as_user: Any, fieldwork: Fieldwork) -> int:
    """An audit of N1 by the fixture shopper (renamed, with an e-mail): greeting and receipt
    failed (the receipt is critical: cap 50), a receipt photo carrying EXIF with GPS, released,
    then disputed by the manager."""
    shopper_id = db.session.execute(
        db.select(User.id).where(User.login == SHOPPER_LOGIN)
    ).scalar_one()
    user_service.update_user(
        shopper_id,
        {"display_name": SHOPPER_NAME, "email": SHOPPER_EMAIL},
    )
    shopper, reviewer, manager = as_user("shopper"), as_user("reviewer"), as_user("manager_n1")
    assignment = fieldwork.assignments["shopper_n1"]
    audit_uuid = str(uuid.uuid4())
    body = submission(assignment)
    body["answers"].update({"greeted": False, "receipt": False})
    taken = (visit_start(body) + timedelta(minutes=5)).replace(microsecond=0)
    photo = jpeg_with_exif(7, exif_block(taken=taken, offset="+00:00", gps=GPS))
    uploaded = upload_photo(shopper, audit_uuid, assignment, "receipt", photo)
    assert uploaded.status_code == 201, uploaded.get_json()
    submitted = submit(shopper, audit_uuid, body)
    assert submitted.status_code == 201, submitted.get_json()
    audit_id = int(submitted.get_json()["id"])
    version = audit_detail(reviewer, audit_id)["version"]
    approved = reviewer.post(f"/api/v1/audits/{audit_id}/approve", json={"version": version})
    assert approved.status_code == 200, approved.get_json()
    released = reviewer.post(
        f"/api/v1/audits/{audit_id}/release", json={"version": approved.get_json()["version"]}
    )
    assert released.status_code == 200, released.get_json()
    disputed = manager.post(
        f"/api/v1/audits/{audit_id}/disputes",
        json={
            "item_id": "table_clean",
            "reason": "Стол протёрли сразу после ухода гостя",
            "requested_value": True,
            "version": released.get_json()["version"],
        },
    )
    assert disputed.status_code == 201, disputed.get_json()
    return audit_id


def fetch(api: Any, path: str, **kwargs: Any) -> Any:
    response = api.get(path, **kwargs)
    assert response.status_code == 200, (path, response.status_code, response.data[:300])
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    return response


@pytest.mark.parametrize("login", ["manager_n1", "director_n", "admin", "reviewer", "shopper"])
def test_audit_report_shows_the_audit_in_russian(
    as_user: Any, fieldwork: Fieldwork, login: str
) -> None:
    audit_id = released_audit(as_user, fieldwork)
    api = as_user(login)
    response = fetch(api, f"/api/v1/audits/{audit_id}/report.pdf?lang=ru")
    text = pdf_text(response.data)

    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="audit-{audit_id}-N1-ru.pdf"'
    # The critical rule applied: 5.75 of 10 points is 57.5, capped at 50 by the failed receipt.
    assert "Итоговая оценка: 50.0 (5.75 / 10 баллы)" in text
    assert "Провалены критические пункты: receipt (3.4)" in text
    assert "КРИТИЧЕСКИЙ" in text
    assert "Вам выдали чек?" in text and "Сотрудник поздоровался с вами?" in text
    # Guidance for the failed greeting, the clause, the points of each item.
    assert "Гостя приветствуют в течение 10 секунд" in text
    assert "2.1" in text and "0 / 2" in text and "2.25 / 3" in text and "45 сек" in text
    assert "Да, без пояснений" in text  # the choice's label, not its id
    assert "Филиал N1" in text and "coffee-shop-visit" in text and "версия 1" in text
    # Stage and section scores; the dispute history.
    assert "До покупки" in text and "Встреча гостя" in text
    assert "Стол протёрли сразу после ухода гостя" in text
    assert "стр. 1 из" in text and "Сформирован" in text and "MSK" in text
    # The receipt photo's thumbnail, embedded as a JPEG stream with no ASCII85.
    assert b"/DCTDecode" in response.data and b"ASCII85Decode" not in response.data
    keep_first_page(response.data, f"audit-report-{login}")
    if login in BRANCH_SIDE:
        assert_no_identity_or_metadata(response.data, text)
    elif login in ("admin", "reviewer"):
        assert SHOPPER_NAME in text


def test_audit_report_in_english_by_accept_language(as_user: Any, fieldwork: Fieldwork) -> None:
    audit_id = released_audit(as_user, fieldwork)
    manager = as_user("manager_n1")
    response = fetch(
        manager,
        f"/api/v1/audits/{audit_id}/report.pdf",
        headers={"Accept-Language": "de;q=0.9, en-GB;q=0.8, ru;q=0.3"},
    )
    text = pdf_text(response.data)
    assert response.headers["Content-Disposition"].endswith('-en.pdf"')
    assert "Overall score: 50.0 (5.75 / 10 points)" in text
    assert "Did a member of staff greet you?" in text
    assert "Greet a guest within 10 seconds" in text
    assert "page 1 of" in text
    keep_first_page(response.data, "audit-report-en")
    assert_no_identity_or_metadata(response.data, text)
    # ?lang= wins over the header.
    russian = fetch(
        manager, f"/api/v1/audits/{audit_id}/report.pdf?lang=ru", headers={"Accept-Language": "en"}
    )
    assert "Итоговая оценка" in pdf_text(russian.data)


@pytest.mark.parametrize(("login", "status"), [("manager_s1", 404), ("employee_n1", 404)])
def test_audit_report_out_of_scope_is_not_found(
    as_user: Any, fieldwork: Fieldwork, login: str, status: int
) -> None:
    audit_id = released_audit(as_user, fieldwork)
    response = as_user(login).get(f"/api/v1/audits/{audit_id}/report.pdf")
    assert response.status_code == status
    assert as_user(login).get(f"/api/v1/audits/{audit_id}").status_code == status


def test_report_of_an_unreleased_audit_is_not_found_for_the_branch(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    shopper = as_user("shopper")
    audit_uuid = str(uuid.uuid4())
    assignment = fieldwork.assignments["shopper_n1"]
    assert upload_photo(shopper, audit_uuid, assignment, "receipt").status_code == 201
    audit_id = submit(shopper, audit_uuid, submission(assignment)).get_json()["id"]
    assert as_user("manager_n1").get(f"/api/v1/audits/{audit_id}/report.pdf").status_code == 404
    assert as_user("reviewer").get(f"/api/v1/audits/{audit_id}/report.pdf").status_code == 200


def test_bad_language_names_the_field(as_user: Any, fieldwork: Fieldwork) -> None:
    audit_id = released_audit(as_user, fieldwork)
    response = as_user("manager_n1").get(f"/api/v1/audits/{audit_id}/report.pdf?lang=de")
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"query.lang": ["Must be one of: ru, en."]}


def test_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pdf, "FONT_DIRS", (tmp_path,))
    with pytest.raises(pdf.FontMissing, match="DejaVuSans.ttf.*fonts-dejavu-core"):
        pdf._font_path("DejaVuSans.ttf")


def test_the_font_ships_inside_the_package() -> None:
    folder = Path(pdf.__file__).resolve().parent.parent / "fonts"
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE-DejaVu.txt"):
        assert (folder / name).is_file(), name
    assert pdf.FONT_DIRS[0] == folder


# The branch scorecard ----------------------------------------------------------------------


def test_branch_scorecard_for_managers_and_directors(
    as_user: Any, fieldwork: Fieldwork, network: Network
) -> None:
    audit_id = released_audit(as_user, fieldwork)
    month = audit_detail(as_user("reviewer"), audit_id)["visit_started_at"][:7]
    branch = network.branches["N1"]
    for login in ("manager_n1", "director_n", "admin"):
        response = fetch(
            as_user(login),
            f"/api/v1/ratings/branches/{branch}/scorecard.pdf?period={month}&lang=ru",
        )
        text = pdf_text(response.data)
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="scorecard-N1-{month}-ru.pdf"'
        )
        assert "Карта показателей филиала: N1" in text
        assert "Рейтинг: 50.0" in text and "n = 1 визитов" in text
        assert "мало визитов для надёжной оценки" in text
        # One rated branch: first of one in its region and in the network.
        assert "Место в регионе: 1 / 1" in text and "Место в сети: 1 / 1" in text
        assert "Динамика по месяцам" in text and "Самые слабые стандарты" in text
        # The receipt and the greeting were failed: both pass rates are 0%.
        assert "Вам выдали чек?" in text and "0.0%" in text
        assert "До покупки" in text and "Встреча гостя" in text
        assert "стр. 1 из" in text
        keep_first_page(response.data, f"scorecard-{login}")
        assert_no_identity_or_metadata(response.data, text)
    english = fetch(
        as_user("manager_n1"),
        f"/api/v1/ratings/branches/{branch}/scorecard.pdf?period={month}&lang=en",
    )
    assert "Branch scorecard: N1" in pdf_text(english.data)


def test_a_scorecard_for_a_range_of_days_names_the_days(
    as_user: Any, fieldwork: Fieldwork, network: Network
) -> None:
    """A period of days (``YYYY-MM-DD..YYYY-MM-DD``) is printed and named as those days, not
    as the months they fall in."""
    audit_id = released_audit(as_user, fieldwork)
    started = audit_detail(as_user("reviewer"), audit_id)["visit_started_at"]
    day = date.fromisoformat(started[:10])  # ±3 days covers the branch's time zone
    first, last = day - timedelta(days=3), day + timedelta(days=3)
    period = f"{first:%Y-%m-%d}..{last:%Y-%m-%d}"
    response = fetch(
        as_user("manager_n1"),
        f"/api/v1/ratings/branches/{network.branches['N1']}/scorecard.pdf?period={period}&lang=ru",
    )
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="scorecard-N1-{first:%Y-%m-%d}_{last:%Y-%m-%d}-ru.pdf"'
    )
    text = pdf_text(response.data)
    assert f"Период: {period}" in text
    assert "Рейтинг: 50.0" in text and "n = 1 визитов" in text


@pytest.mark.parametrize(
    ("login", "status"),
    [("manager_s1", 404), ("employee_n1", 403), ("shopper", 403), ("director_n", 200)],
)
def test_scorecard_scope(as_user: Any, network: Network, login: str, status: int) -> None:
    response = as_user(login).get(
        f"/api/v1/ratings/branches/{network.branches['N2']}/scorecard.pdf"
    )
    assert response.status_code == status


def test_scorecard_of_a_branch_without_audits_renders(as_user: Any, network: Network) -> None:
    response = fetch(
        as_user("admin"),
        f"/api/v1/ratings/branches/{network.branches['S2']}/scorecard.pdf?lang=en",
    )
    text = pdf_text(response.data)
    assert "not rated" in text and "No decline detected" in text
