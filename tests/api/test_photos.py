"""Photo evidence through the API: upload, processing, the photo rules at submit, and what QA
and the branch side each get to see of a photo."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from PIL import Image, ImageCms, ImageDraw
from PIL.TiffImagePlugin import IFDRational

from auditapp.extensions import db
from auditapp.models import AuditPhoto
from tests.support import (
    ApiClient,
    Fieldwork,
    encode,
    jpeg_bytes,
    make_photo,
    submission,
    upload_photo,
)
from tests.unit.test_images import LEAKS, METADATA_CARRIERS
from tests.unit.test_images import _jpeg_segments as jpeg_segments

MOSCOW = ZoneInfo("Europe/Moscow")
# Keys of a photo that only QA may see (EXIF-derived data, the original's identity).
QA_ONLY_KEYS = {"sha256", "gps_lat", "gps_lon", "captured_at", "client_uuid"}


# Building photos ----------------------------------------------------------------------------


def exif_block(
    *,
    orientation: int | None = None,
    taken: datetime | None = None,
    offset: str | None = None,
    gps: tuple[float, float] | None = None,
) -> Image.Exif:
    """An EXIF block: orientation, DateTimeOriginal (+ OffsetTimeOriginal), GPS (N/E)."""
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if taken is not None:
        sub = exif.get_ifd(0x8769)
        sub[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
        if offset is not None:
            sub[0x9011] = offset
    if gps is not None:
        lat, lon = gps

        def dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
            degrees = int(value)
            minutes = int((value - degrees) * 60)
            seconds = (value - degrees - minutes / 60) * 3600
            return (IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds))

        block = exif.get_ifd(0x8825)
        block[1], block[2] = "N", dms(lat)
        block[3], block[4] = "E", dms(lon)
    return exif


def jpeg_with_exif(seed: int, exif: Image.Exif, size: tuple[int, int] = (640, 480)) -> bytes:
    """The test picture for ``seed`` as a JPEG carrying ``exif``."""
    return jpeg_bytes(seed, size, exif=exif)


def marked_photo_with_metadata(taken: datetime) -> bytes:
    """A 2400x1800 JPEG stored sideways (orientation 6), blue with a red top-left corner in the
    stored pixels, carrying EXIF (time with offset, GPS), an ICC profile and XMP."""
    image = Image.new("RGB", (2400, 1800), (0, 0, 255))
    ImageDraw.Draw(image).rectangle((0, 0, 399, 399), fill=(255, 0, 0))
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF/></x:xmpmeta>"
    exif = exif_block(orientation=6, taken=taken, offset="+00:00", gps=(55.76, 37.62))
    return encode(image, quality=90, exif=exif, icc_profile=icc, xmp=xmp)


def jpeg_that_fails_to_decode() -> bytes:
    """A JPEG whose headers are fine (it passes the upload check) but whose Huffman table
    claims more codes than it holds, so libjpeg refuses to decode the pixels."""
    data = bytearray(jpeg_bytes(7))
    dht = data.index(b"\xff\xc4")
    data[dht + 5 + 15] = 0xFF  # number of 16-bit codes: far more than the segment holds
    return bytes(data)


def colour_at(image: Image.Image, xy: tuple[int, int]) -> tuple[int, int, int]:
    pixel = image.convert("RGB").getpixel(xy)
    assert isinstance(pixel, tuple)
    return pixel[0], pixel[1], pixel[2]


def is_red(rgb: tuple[int, int, int]) -> bool:
    return rgb[0] > 200 and rgb[1] < 60 and rgb[2] < 60


def is_blue(rgb: tuple[int, int, int]) -> bool:
    return rgb[2] > 200 and rgb[0] < 60 and rgb[1] < 60


def assert_clean_jpeg(response: Any, max_side: int) -> Image.Image:
    """The response is a JPEG within ``max_side`` with no metadata at all."""
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(response.data))
    image.load()
    assert image.format == "JPEG"
    assert max(image.size) <= max_side
    assert not image.getexif()
    assert not {"exif", "icc_profile", "xmp"} & set(image.info)
    assert b"Exif\x00" not in response.data
    return image


# Talking to the API ---------------------------------------------------------------------------


def new_uuid() -> str:
    return str(uuid.uuid4())


def audit_id_of(reviewer: ApiClient, client_uuid: str) -> int | None:
    response = reviewer.get("/api/v1/audits?per_page=500")
    assert response.status_code == 200, response.get_json()
    ids = [a["id"] for a in response.get_json()["items"] if a["client_uuid"] == client_uuid]
    assert len(ids) <= 1
    return ids[0] if ids else None


def audit_detail(api: ApiClient, audit_id: int) -> dict[str, Any]:
    response = api.get(f"/api/v1/audits/{audit_id}")
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def qa_photos(reviewer: ApiClient, audit_id: int) -> list[dict[str, Any]]:
    return list(audit_detail(reviewer, audit_id)["photos"])


def photo_rows() -> int:
    """Photo rows in the database, read afresh."""
    db.session.rollback()
    count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditPhoto))
    db.session.rollback()
    return int(count or 0)


def stored_originals(tmp_path: Path) -> list[Path]:
    root = tmp_path / "media" / "originals"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def submit(api: ApiClient, client_uuid: str, body: dict[str, Any]) -> Any:
    return api.post(f"/api/v1/audits/{client_uuid}/submit", json=body)


def queue_flags(reviewer: ApiClient, audit_id: int) -> set[str]:
    response = reviewer.get("/api/v1/review/queue?per_page=500")
    assert response.status_code == 200, response.get_json()
    entries = [a for a in response.get_json()["items"] if a["id"] == audit_id]
    assert len(entries) == 1, f"audit {audit_id} not in the review queue"
    return {flag["code"] for flag in entries[0]["flags"]}


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.get_json())
    return dict(response.get_json()["error"])


def visit_start(body: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(body["visit_started_at"])


# Upload and processing ------------------------------------------------------------------------


def test_upload_creates_the_draft_and_serves_clean_upright_copies(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    shopper, reviewer = as_user("shopper"), as_user("reviewer")
    assignment = fieldwork.assignments["shopper_n1"]
    audit_uuid = new_uuid()
    data = marked_photo_with_metadata(datetime.now(UTC).replace(microsecond=0))
    assert audit_id_of(reviewer, audit_uuid) is None

    response = upload_photo(shopper, audit_uuid, assignment, "receipt", data)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] in ("processing", "ready")
    assert body["item_id"] == "receipt"
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    audit_id = audit_id_of(reviewer, audit_uuid)
    assert audit_id is not None, "the upload did not create the draft audit"
    detail = audit_detail(reviewer, audit_id)
    assert detail["status"] == "in_progress"
    assert [p["id"] for p in detail["photos"]] == [body["id"]]
    assert detail["photos"][0]["status"] == "ready"
    # QA's dimensions are those of the upright picture.
    assert detail["photos"][0]["height"] > detail["photos"][0]["width"]

    display = assert_clean_jpeg(reviewer.get(f"/api/v1/photos/{body['id']}/display"), 1600)
    # Stored 2400x1800 sideways; upright it is portrait 3:4 (orientation 6 swaps the axes).
    width, height = display.size
    assert height > width
    assert abs(width / height - 0.75) < 0.01
    # Orientation 6 = rotate 90 degrees clockwise: the stored top-left corner ends up top-right.
    assert is_red(colour_at(display, (width - 10, 10)))
    assert is_blue(colour_at(display, (10, 10)))
    assert is_blue(colour_at(display, (width - 10, height - 10)))

    thumb = assert_clean_jpeg(reviewer.get(f"/api/v1/photos/{body['id']}/thumb"), 320)
    assert thumb.size[1] > thumb.size[0]
    assert is_red(colour_at(thumb, (thumb.size[0] - 3, 3)))
    # The shopper who took it may look at it too.
    assert_clean_jpeg(shopper.get(f"/api/v1/photos/{body['id']}/display"), 1600)


def test_retried_upload_is_recognised_and_a_reused_photo_id_is_refused(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    shopper, reviewer = as_user("shopper"), as_user("reviewer")
    assignment = fieldwork.assignments["shopper_n1"]
    audit_uuid, photo_uuid = new_uuid(), new_uuid()
    data = jpeg_bytes(3)

    first = upload_photo(shopper, audit_uuid, assignment, "receipt", data, photo_uuid)
    again = upload_photo(shopper, audit_uuid, assignment, "receipt", data, photo_uuid)

    assert first.status_code == 201, first.get_json()
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["id"] == first.get_json()["id"]
    audit_id = audit_id_of(reviewer, audit_uuid)
    assert audit_id is not None
    assert len(qa_photos(reviewer, audit_id)) == 1
    assert photo_rows() == 1

    other = upload_photo(shopper, audit_uuid, assignment, "receipt", jpeg_bytes(4), photo_uuid)

    error_of(other, 409)
    assert [p["sha256"] for p in qa_photos(reviewer, audit_id)] == [
        hashlib.sha256(data).hexdigest()
    ]
    assert photo_rows() == 1


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (32, 32)).save(buffer, "GIF")
    return buffer.getvalue()


def _png_bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, "PNG")  # 400 megapixels in ~50 kB
    return buffer.getvalue()


HOSTILE = {
    "gif": _gif,
    "text named .jpg": lambda: b"just some text, not a photo at all\n" * 20,
    "svg": lambda: (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
        b'height="10"><script>alert(1)</script></svg>'
    ),
    "empty": lambda: b"",
    "truncated jpeg": lambda: jpeg_bytes(5)[: len(jpeg_bytes(5)) // 2],
    "png decompression bomb": _png_bomb,
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_uploads_are_refused_and_nothing_is_stored(
    as_user: Any, fieldwork: Fieldwork, tmp_path: Path, kind: str
) -> None:
    shopper, reviewer = as_user("shopper"), as_user("reviewer")
    audit_uuid = new_uuid()

    response = upload_photo(
        shopper, audit_uuid, fieldwork.assignments["shopper_n1"], "receipt", HOSTILE[kind]()
    )

    error = error_of(response, 422)
    assert "file" in error["fields"], error
    assert photo_rows() == 0
    assert stored_originals(tmp_path) == []
    audit_id = audit_id_of(reviewer, audit_uuid)
    if audit_id is not None:  # the draft may exist, but without photos
        assert qa_photos(reviewer, audit_id) == []


@pytest.mark.parametrize("kind", sorted(METADATA_CARRIERS))
def test_served_copies_of_a_photo_full_of_metadata_carry_none_of_it(
    as_user: Any, fieldwork: Fieldwork, kind: str
) -> None:
    shopper, reviewer = as_user("shopper"), as_user("reviewer")
    data = METADATA_CARRIERS[kind]()

    uploaded = upload_photo(
        shopper, new_uuid(), fieldwork.assignments["shopper_n1"], "receipt", data
    )

    assert uploaded.status_code == 201, uploaded.get_json()
    photo_id = uploaded.get_json()["id"]
    for api in (shopper, reviewer):
        for variant, side in (("display", 1600), ("thumb", 320)):
            response = api.get(f"/api/v1/photos/{photo_id}/{variant}")
            assert_clean_jpeg(response, side)
            for marker in LEAKS:
                assert marker not in response.data, (kind, variant, marker)
            assert {m for m, _ in jpeg_segments(response.data)} <= {
                0xE0,
                0xDB,
                0xC0,
                0xC4,
                0xDD,
                0xDA,
            }
    # The original keeps it all, for QA only.
    original = reviewer.get(f"/api/v1/photos/{photo_id}/original")
    assert original.status_code == 200
    assert original.data == data


def test_unknown_item_is_refused(as_user: Any, fieldwork: Fieldwork, tmp_path: Path) -> None:
    shopper = as_user("shopper")

    response = upload_photo(
        shopper, new_uuid(), fieldwork.assignments["shopper_n1"], "no_such_item", jpeg_bytes(1)
    )

    error = error_of(response, 422)
    assert "item_id" in error["fields"], error
    assert photo_rows() == 0
    assert stored_originals(tmp_path) == []


def test_another_shoppers_audit_cannot_receive_photos(as_user: Any, fieldwork: Fieldwork) -> None:
    shopper, shopper2, reviewer = as_user("shopper"), as_user("shopper2"), as_user("reviewer")
    audit_uuid = new_uuid()
    own = upload_photo(
        shopper, audit_uuid, fieldwork.assignments["shopper_n1"], "receipt", jpeg_bytes(1)
    )
    assert own.status_code == 201, own.get_json()

    # shopper2 aims at shopper's audit UUID, with their own assignment and with shopper's.
    with_own_assignment = upload_photo(
        shopper2, audit_uuid, fieldwork.assignments["shopper2_n1"], "receipt", jpeg_bytes(2)
    )
    with_their_assignment = upload_photo(
        shopper2, audit_uuid, fieldwork.assignments["shopper_n1"], "receipt", jpeg_bytes(3)
    )
    # ... and at shopper's assignment under a fresh UUID.
    fresh_uuid = new_uuid()
    with_fresh_uuid = upload_photo(
        shopper2, fresh_uuid, fieldwork.assignments["shopper_n1"], "receipt", jpeg_bytes(4)
    )

    for response in (with_own_assignment, with_their_assignment, with_fresh_uuid):
        assert response.status_code in (404, 409), (response.status_code, response.get_json())
    audit_id = audit_id_of(reviewer, audit_uuid)
    assert audit_id is not None
    assert [p["id"] for p in qa_photos(reviewer, audit_id)] == [own.get_json()["id"]]
    assert audit_id_of(reviewer, fresh_uuid) is None
    assert photo_rows() == 1


@pytest.mark.parametrize("login", ["manager_n1", "director_n", "employee_n1", "reviewer"])
def test_other_roles_cannot_upload_evidence(
    as_user: Any, fieldwork: Fieldwork, tmp_path: Path, login: str
) -> None:
    api = as_user(login)
    audit_uuid = new_uuid()

    response = upload_photo(
        api, audit_uuid, fieldwork.assignments["shopper_n1"], "receipt", jpeg_bytes(1)
    )

    error_of(response, 403)
    assert photo_rows() == 0
    assert stored_originals(tmp_path) == []
    assert audit_id_of(as_user("reviewer"), audit_uuid) is None


# Photo rules at submit ------------------------------------------------------------------------


def test_submit_without_the_required_receipt_photo_is_refused(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    shopper = as_user("shopper")
    assignment = fieldwork.assignments["shopper_n1"]

    response = submit(shopper, new_uuid(), submission(assignment))

    error = error_of(response, 422)
    assert "receipt" in error["fields"]["photos"], error
    assert "table_clean" not in error["fields"]["photos"]  # table_clean is True: no photo due


def test_failed_item_with_photo_on_fail_needs_a_photo(as_user: Any, fieldwork: Fieldwork) -> None:
    shopper = as_user("shopper")
    assignment = fieldwork.assignments["shopper_n1"]
    audit_uuid = new_uuid()
    assert upload_photo(shopper, audit_uuid, assignment, "receipt").status_code == 201
    body = submission(assignment)
    body["answers"]["table_clean"] = False

    refused = submit(shopper, audit_uuid, body)

    error = error_of(refused, 422)
    assert set(error["fields"]) == {"photos"}, error
    assert set(error["fields"]["photos"]) == {"table_clean"}

    table = upload_photo(shopper, audit_uuid, assignment, "table_clean", jpeg_bytes(8))
    assert table.status_code == 201, table.get_json()
    accepted = submit(shopper, audit_uuid, body)
    assert accepted.status_code == 201, accepted.get_json()
    assert accepted.get_json()["status"] == "submitted"


def test_item_answered_not_applicable_needs_no_photo(as_user: Any, fieldwork: Fieldwork) -> None:
    shopper = as_user("shopper")
    assignment = fieldwork.assignments["shopper_n1"]
    audit_uuid = new_uuid()
    assert upload_photo(shopper, audit_uuid, assignment, "receipt").status_code == 201
    body = submission(assignment)
    body["answers"]["table_clean"] = None

    response = submit(shopper, audit_uuid, body)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "submitted"
    # The submit completed the draft the upload created (one audit, with the photo).
    assert response.get_json()["id"] == audit_id_of(as_user("reviewer"), audit_uuid)


def test_no_new_photos_after_submit_but_a_retry_is_still_answered(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    shopper = as_user("shopper")
    assignment = fieldwork.assignments["shopper_n1"]
    audit_uuid, photo_uuid = new_uuid(), new_uuid()
    data = jpeg_bytes(11)
    first = upload_photo(shopper, audit_uuid, assignment, "receipt", data, photo_uuid)
    assert first.status_code == 201, first.get_json()
    assert submit(shopper, audit_uuid, submission(assignment)).status_code == 201

    retry = upload_photo(shopper, audit_uuid, assignment, "receipt", data, photo_uuid)
    late = upload_photo(shopper, audit_uuid, assignment, "table_clean", jpeg_bytes(12))

    assert retry.status_code == 200, retry.get_json()
    assert retry.get_json()["id"] == first.get_json()["id"]
    error_of(late, 409)
    assert photo_rows() == 1


def test_all_problems_are_reported_at_once(as_user: Any, fieldwork: Fieldwork) -> None:
    shopper = as_user("shopper")
    body = submission(fieldwork.assignments["shopper_n1"])
    body["answers"]["drink_quality"] = 9  # the scale is 1..5
    body["answers"]["table_clean"] = False

    response = submit(shopper, new_uuid(), body)

    fields = error_of(response, 422)["fields"]
    assert "drink_quality" in fields["answers"], fields
    assert {"receipt", "table_clean"} <= set(fields["photos"]), fields


# What QA sees and what the branch sees --------------------------------------------------------


def _approve_and_release(reviewer: ApiClient, audit_id: int) -> None:
    version = audit_detail(reviewer, audit_id)["version"]
    approved = reviewer.post(
        f"/api/v1/audits/{audit_id}/approve", json={"comment": "", "version": version}
    )
    assert approved.status_code == 200, approved.get_json()
    released = reviewer.post(
        f"/api/v1/audits/{audit_id}/release", json={"version": approved.get_json()["version"]}
    )
    assert released.status_code == 200, released.get_json()
    assert released.get_json()["status"] == "released"


def test_qa_sees_the_metadata_and_the_original_the_branch_only_clean_copies(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    shopper, reviewer, manager = as_user("shopper"), as_user("reviewer"), as_user("manager_n1")
    assignment = fieldwork.assignments["shopper_n1"]
    audit_uuid = new_uuid()
    body = submission(assignment)
    taken = (visit_start(body) + timedelta(minutes=7)).replace(microsecond=0)
    data = jpeg_with_exif(
        12, exif_block(taken=taken, offset="+00:00", gps=(55.0004, 37.0006), orientation=1)
    )
    photo_id = upload_photo(shopper, audit_uuid, assignment, "receipt", data).get_json()["id"]
    submitted = submit(shopper, audit_uuid, body)
    assert submitted.status_code == 201, submitted.get_json()
    audit_id = submitted.get_json()["id"]

    [photo] = qa_photos(reviewer, audit_id)
    assert photo["sha256"] == hashlib.sha256(data).hexdigest()
    assert datetime.fromisoformat(photo["captured_at"]) == taken
    assert photo["gps_lat"] == pytest.approx(55.0004, abs=1e-4)
    assert photo["gps_lon"] == pytest.approx(37.0006, abs=1e-4)
    assert "photo_time_outside_visit" not in queue_flags(reviewer, audit_id)

    # Before release the branch sees neither the audit nor its photo.
    assert manager.get(f"/api/v1/audits/{audit_id}").status_code == 404
    for variant in ("display", "thumb", "original"):
        assert manager.get(f"/api/v1/photos/{photo_id}/{variant}").status_code == 404

    _approve_and_release(reviewer, audit_id)

    branch_photos = audit_detail(manager, audit_id)["photos"]
    assert [p["id"] for p in branch_photos] == [photo_id]
    assert not QA_ONLY_KEYS & set(branch_photos[0]), branch_photos[0]
    assert manager.get(f"/api/v1/photos/{photo_id}/original").status_code == 404
    assert_clean_jpeg(manager.get(f"/api/v1/photos/{photo_id}/display"), 1600)
    assert_clean_jpeg(manager.get(f"/api/v1/photos/{photo_id}/thumb"), 320)
    # Another branch's manager still sees nothing.
    assert as_user("manager_s1").get(f"/api/v1/photos/{photo_id}/display").status_code == 404

    original = reviewer.get(f"/api/v1/photos/{photo_id}/original")
    assert original.status_code == 200
    assert original.data == data
    assert original.mimetype == "image/jpeg"


# Reuse and capture-time flags ----------------------------------------------------------------


def _first_and_second(
    as_user: Any, fieldwork: Fieldwork, first: bytes, second: bytes
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """shopper uploads ``first`` for N1, shopper2 uploads ``second`` for N1 and submits.
    Returns both photos as QA sees them and shopper2's audit id."""
    shopper, shopper2, reviewer = as_user("shopper"), as_user("shopper2"), as_user("reviewer")
    first_uuid, second_uuid = new_uuid(), new_uuid()
    earlier = upload_photo(
        shopper, first_uuid, fieldwork.assignments["shopper_n1"], "receipt", first
    )
    assert earlier.status_code == 201, earlier.get_json()
    later = upload_photo(
        shopper2, second_uuid, fieldwork.assignments["shopper2_n1"], "receipt", second
    )
    assert later.status_code == 201, later.get_json()
    submitted = submit(shopper2, second_uuid, submission(fieldwork.assignments["shopper2_n1"]))
    assert submitted.status_code == 201, submitted.get_json()
    audit_id = submitted.get_json()["id"]
    first_audit = audit_id_of(reviewer, first_uuid)
    assert first_audit is not None
    [first_photo] = qa_photos(reviewer, first_audit)
    [second_photo] = qa_photos(reviewer, audit_id)
    return first_photo, second_photo, audit_id


def test_identical_photo_in_another_audit_is_flagged(as_user: Any, fieldwork: Fieldwork) -> None:
    data = jpeg_bytes(20, (1024, 768))

    first, second, audit_id = _first_and_second(as_user, fieldwork, data, data)

    assert first["reuse_kind"] is None
    assert second["reuse_kind"] == "identical"
    assert second["reused_from_photo_id"] == first["id"]
    assert "photo_reused" in queue_flags(as_user("reviewer"), audit_id)


def test_near_identical_photo_in_another_audit_is_flagged(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    original = make_photo(21, (1200, 900))
    data = encode(original, quality=90)
    resized = original.resize((1080, 810), Image.Resampling.LANCZOS)
    near = encode(resized, quality=60)
    assert near != data

    first, second, audit_id = _first_and_second(as_user, fieldwork, data, near)

    assert second["reuse_kind"] == "near"
    assert second["reused_from_photo_id"] == first["id"]
    assert "photo_reused" in queue_flags(as_user("reviewer"), audit_id)


def test_a_different_photo_is_not_flagged(as_user: Any, fieldwork: Fieldwork) -> None:
    first, second, audit_id = _first_and_second(
        as_user, fieldwork, jpeg_bytes(30, (1200, 900)), jpeg_bytes(31, (1200, 900))
    )

    assert first["reuse_kind"] is None
    assert second["reuse_kind"] is None
    assert second["reused_from_photo_id"] is None
    assert "photo_reused" not in queue_flags(as_user("reviewer"), audit_id)


@pytest.mark.parametrize(
    ("case", "flagged"),
    [
        ("utc offset, three days before the visit", True),
        ("moscow wall clock during the visit, no offset", False),
        ("utc wall clock during the visit, no offset (= 3 h early in Moscow)", True),
        ("utc offset, during the visit", False),
    ],
)
def test_photo_taken_outside_the_visit_is_flagged(
    as_user: Any, fieldwork: Fieldwork, case: str, flagged: bool
) -> None:
    shopper, reviewer = as_user("shopper"), as_user("reviewer")
    assignment = fieldwork.assignments["shopper_n1"]
    body = submission(assignment)
    during = (visit_start(body) + timedelta(minutes=10)).replace(microsecond=0)
    exif = {
        "utc offset, three days before the visit": exif_block(
            taken=during - timedelta(days=3), offset="+00:00"
        ),
        "moscow wall clock during the visit, no offset": exif_block(
            taken=during.astimezone(MOSCOW)
        ),
        "utc wall clock during the visit, no offset (= 3 h early in Moscow)": exif_block(
            taken=during
        ),
        "utc offset, during the visit": exif_block(taken=during, offset="+00:00"),
    }[case]
    audit_uuid = new_uuid()
    uploaded = upload_photo(shopper, audit_uuid, assignment, "receipt", jpeg_with_exif(40, exif))
    assert uploaded.status_code == 201, uploaded.get_json()
    submitted = submit(shopper, audit_uuid, body)
    assert submitted.status_code == 201, submitted.get_json()
    audit_id = submitted.get_json()["id"]

    assert ("photo_time_outside_visit" in queue_flags(reviewer, audit_id)) is flagged
    if case.startswith("moscow"):
        [photo] = qa_photos(reviewer, audit_id)
        assert datetime.fromisoformat(photo["captured_at"]) == during


# Failed and unfinished processing -------------------------------------------------------------


def test_photo_that_fails_processing_is_marked_and_does_not_count(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    shopper, reviewer = as_user("shopper"), as_user("reviewer")
    assignment = fieldwork.assignments["shopper_n1"]
    audit_uuid = new_uuid()

    uploaded = upload_photo(shopper, audit_uuid, assignment, "receipt", jpeg_that_fails_to_decode())

    assert uploaded.status_code == 201, uploaded.get_json()
    photo_id = uploaded.get_json()["id"]
    audit_id = audit_id_of(reviewer, audit_uuid)
    assert audit_id is not None
    [photo] = qa_photos(reviewer, audit_id)
    assert photo["status"] == "failed"
    assert photo["error"]
    for variant in ("display", "thumb"):
        assert error_of(reviewer.get(f"/api/v1/photos/{photo_id}/{variant}"), 409)["code"] == (
            "photo_failed"
        )

    refused = submit(shopper, audit_uuid, submission(assignment))

    assert "receipt" in error_of(refused, 422)["fields"]["photos"]


def test_photo_still_processing_is_not_served_yet(
    as_user: Any, fieldwork: Fieldwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditapp.services import photos

    monkeypatch.setattr(photos, "schedule_processing", lambda photo_id: None)
    shopper, reviewer = as_user("shopper"), as_user("reviewer")
    audit_uuid = new_uuid()

    uploaded = upload_photo(
        shopper, audit_uuid, fieldwork.assignments["shopper_n1"], "receipt", jpeg_bytes(9)
    )

    assert uploaded.status_code == 201, uploaded.get_json()
    assert uploaded.get_json()["status"] == "processing"
    photo_id = uploaded.get_json()["id"]
    for variant in ("display", "thumb"):
        assert error_of(reviewer.get(f"/api/v1/photos/{photo_id}/{variant}"), 409)["code"] == (
            "photo_processing"
        )

    photos.process(photo_id)  # the background job catches up

    assert_clean_jpeg(reviewer.get(f"/api/v1/photos/{photo_id}/display"), 1600)


def test_same_photo_id_for_another_item_is_a_conflict(as_user: Any, fieldwork: Fieldwork) -> None:
    shopper = as_user("shopper")
    audit_uuid, photo_uuid = str(uuid.uuid4()), str(uuid.uuid4())
    assignment = fieldwork.assignments["shopper_n1"]
    data = jpeg_bytes(11)
    first = upload_photo(shopper, audit_uuid, assignment, "receipt", data, photo_uuid)
    assert first.status_code == 201
    other_item = upload_photo(shopper, audit_uuid, assignment, "table_clean", data, photo_uuid)
    assert other_item.status_code == 409
    assert other_item.get_json()["error"]["code"] == "photo_differs"


def test_rejected_file_creates_no_draft(as_user: Any, fieldwork: Fieldwork) -> None:
    shopper = as_user("shopper")
    response = upload_photo(
        shopper,
        str(uuid.uuid4()),
        fieldwork.assignments["shopper_n1"],
        "receipt",
        b"GIF89a not really",
    )
    assert response.status_code == 422
    assert as_user("reviewer").get("/api/v1/audits").get_json()["total"] == 0


def test_withdrawn_photo_no_longer_counts_and_stays_for_qa(
    as_user: Any, fieldwork: Fieldwork
) -> None:
    shopper = as_user("shopper")
    audit_uuid, photo_uuid = str(uuid.uuid4()), str(uuid.uuid4())
    assignment = fieldwork.assignments["shopper_n1"]
    assert (
        upload_photo(shopper, audit_uuid, assignment, "receipt", None, photo_uuid).status_code
        == 201
    )
    withdrawn = shopper.delete(f"/api/v1/audits/{audit_uuid}/photos/{photo_uuid}")
    assert withdrawn.status_code == 200
    assert withdrawn.get_json()["status"] == "withdrawn"
    again = shopper.delete(f"/api/v1/audits/{audit_uuid}/photos/{photo_uuid}")
    assert again.status_code == 200  # a retried withdrawal
    refused = shopper.post(f"/api/v1/audits/{audit_uuid}/submit", json=submission(assignment))
    assert refused.status_code == 422
    assert "receipt" in refused.get_json()["error"]["fields"]["photos"]
    upload_photo(shopper, audit_uuid, assignment, "receipt", jpeg_bytes(99))
    done = shopper.post(f"/api/v1/audits/{audit_uuid}/submit", json=submission(assignment))
    assert done.status_code == 201
    audit = done.get_json()
    reviewer = as_user("reviewer")
    qa = reviewer.get(f"/api/v1/audits/{audit['id']}").get_json()
    assert sorted(p["status"] for p in qa["photos"]) == ["ready", "withdrawn"]
    # Once submitted, photos can no longer be withdrawn.
    late = shopper.delete(f"/api/v1/audits/{audit_uuid}/photos/{photo_uuid}")
    assert late.status_code == 200  # already withdrawn: same answer
    ready = next(p for p in qa["photos"] if p["status"] == "ready")
    frozen = shopper.delete(f"/api/v1/audits/{audit_uuid}/photos/{ready['client_uuid']}")
    assert frozen.status_code == 409
    approved = reviewer.post(
        f"/api/v1/audits/{audit['id']}/approve", json={"version": qa["version"]}
    ).get_json()
    reviewer.post(f"/api/v1/audits/{audit['id']}/release", json={"version": approved["version"]})
    branch_view = as_user("manager_n1").get(f"/api/v1/audits/{audit['id']}").get_json()
    assert [p["status"] for p in branch_view["photos"]] == ["ready"]
    other = as_user("shopper2").delete(f"/api/v1/audits/{audit_uuid}/photos/{photo_uuid}")
    assert other.status_code == 404


def test_withdrawal_after_return_is_in_the_history(as_user: Any, fieldwork: Fieldwork) -> None:
    shopper, reviewer = as_user("shopper"), as_user("reviewer")
    audit_uuid, photo_uuid = str(uuid.uuid4()), str(uuid.uuid4())
    assignment = fieldwork.assignments["shopper_n1"]
    upload_photo(shopper, audit_uuid, assignment, "receipt", jpeg_bytes(5), photo_uuid)
    audit = shopper.post(
        f"/api/v1/audits/{audit_uuid}/submit", json=submission(assignment)
    ).get_json()
    reviewer.post(
        f"/api/v1/audits/{audit['id']}/return",
        json={"version": audit["version"], "comment": "Чек не читается"},
    )
    assert shopper.delete(f"/api/v1/audits/{audit_uuid}/photos/{photo_uuid}").status_code == 200
    history = reviewer.get(f"/api/v1/audits/{audit['id']}").get_json()["history"]
    assert history[-1]["action"] == "photo_withdrawn"
    assert history[-1]["field"] == "photos.receipt"
