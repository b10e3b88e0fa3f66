"""Unit tests of photo evidence checks and processing (auditapp.adapters.images); no app, no DB."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from PIL import Image, ImageCms, ImageDraw, ImageEnhance, ImageFile, ImageStat, PngImagePlugin
from PIL.TiffImagePlugin import IFDRational

from auditapp.adapters.images import (
    DISPLAY_MAX_SIDE,
    MAX_PIXELS,
    NEAR_DUPLICATE_DISTANCE,
    THUMBNAIL_MAX_SIDE,
    GeoPoint,
    PhotoInfo,
    PhotoRejected,
    difference_hash,
    hamming,
    inspect_upload,
    process_photo,
)
from tests.support import encode, make_photo

# A 64x48 HEIC (red square top-left on blue; EXIF DateTimeOriginal 2024:05:06 14:30:00 +03:00),
# made with libheif's heif-enc from a JPEG: pi-heif can decode HEIC but has no encoder.
TINY_HEIC = base64.b64decode(
    "AAAAHGZ0eXBoZWljAAAAAG1pZjFoZWljbWlhZgAAAeFtZXRhAAAAAAAAACFoZGxyAAAAAAAAAABw"
    "aWN0AAAAAAAAAAAAAAAAAAAAAA5waXRtAAAAAAACAAAAEGlkYXQAAAAAAEAAMAAAAExpbG9jAQAA"
    "AERAAAMAAQAAAAAAAAIFAAEAAAAAAAAAXQACAAEAAAAAAAAAAQAAAAAAAAAIAAMAAAAAAAACYgAB"
    "AAAAAAAAAFgAAABNaWluZgAAAAAAAwAAABVpbmZlAgAAAQABAABodmMxAAAAABVpbmZlAgAAAAAC"
    "AABncmlkAAAAABVpbmZlAgAAAQADAABFeGlmAAAAANVpcHJwAAAAs2lwY28AAABzaHZjQwEDcAAA"
    "AAAAAAAAAB7wAPz9+PgAAA8DIAABABhAAQwB//8DcAAAAwCQAAADAAADAB66AkAhAAEAJ0IBAQNw"
    "AAADAJAAAAMAAAMAHqAggQWW6uSmubAgAAADACAAAAMAISIAAQAGRAHBc8CJAAAAFGlzcGUAAAAA"
    "AAAAQAAAAEAAAAAUaXNwZQAAAAAAAABAAAAAMAAAABBwaXhpAAAAAAMICAgAAAAaaXBtYQAAAAAA"
    "AAACAAECgQIAAgIDhAAAAChpcmVmAAAAAAAAAA5kaW1nAAIAAQABAAAADmNkc2MAAwABAAIAAAC9"
    "bWRhdAAAAFkoAa8J4HhQcNXl//BL//8M5yHuppjF0qZPA3/+YC5sy/s3VGu45GqWKNScnyH6NUCn"
    "h3Q9Wopko0bsPP09f7rL7TaqopDgmfzZjUHT/zff/qTOXyU8sXPn/AAAAABNTQAqAAAACAABh2kA"
    "BAAAAAEAAAAaAAAAAAACkAMAAgAAABQAAAA4kBEAAgAAAAcAAABMAAAAADIwMjQ6MDU6MDYgMTQ6"
    "MzA6MDAAKzAzOjAwAAA="
)

RED, BLUE = (255, 0, 0), (0, 0, 255)
IFD_EXIF, IFD_GPS = 0x8769, 0x8825


# --- helpers -------------------------------------------------------------------------------


def marked(size: tuple[int, int]) -> Image.Image:
    """A grey picture with a red square top-left and a blue one top-right (fixes orientation)."""
    picture = Image.new("RGB", size, (128, 128, 128))
    side = min(size) // 5
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 0, side, side), fill=RED)
    draw.rectangle((size[0] - 1 - side, 0, size[0] - 1, side), fill=BLUE)
    return picture


def corner_colour(image: Image.Image, corner: str) -> tuple[float, ...]:
    """Mean colour of a small square in a corner: 'tl', 'tr', 'bl' or 'br'."""
    w, h = image.size
    side = max(2, min(w, h) // 20)
    x = 0 if corner[1] == "l" else w - side
    y = 0 if corner[0] == "t" else h - side
    return tuple(ImageStat.Stat(image.convert("RGB").crop((x, y, x + side, y + side))).mean)


def close_to(
    colour: tuple[float, ...], expected: tuple[int, int, int], tolerance: int = 40
) -> bool:
    """Whether two colours are within ``tolerance`` per channel."""
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk with its length and CRC."""
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def bilevel_png(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG of any size, built without holding its pixels in memory.

    Its compressed size is about a thousandth of its pixel count: the shape of a decompression
    bomb.
    """
    compressor = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", body)
        + png_chunk(b"IEND", b"")
    )


def jpeg_claiming_size(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header is patched to claim other dimensions."""
    data = bytearray(encode(Image.new("RGB", (16, 16), (10, 20, 30))))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def exif_with(
    taken: str | None = None,
    offset: str | None = None,
    subsec: str | None = None,
    gps: tuple[tuple[float, float, float], str, tuple[float, float, float], str] | None = None,
    orientation: int | None = None,
) -> Image.Exif:
    """An EXIF block with the given capture time, GPS position and orientation."""
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    sub = exif.get_ifd(IFD_EXIF)
    if taken is not None:
        sub[0x9003] = taken
    if offset is not None:
        sub[0x9011] = offset
    if subsec is not None:
        sub[0x9291] = subsec
    if gps is not None:
        lat, lat_ref, lon, lon_ref = gps
        gps_ifd = exif.get_ifd(IFD_GPS)
        gps_ifd[1] = lat_ref
        gps_ifd[2] = tuple(IFDRational(round(v * 100), 100) for v in lat)
        gps_ifd[3] = lon_ref
        gps_ifd[4] = tuple(IFDRational(round(v * 100), 100) for v in lon)
    return exif


def animated(fmt: str) -> bytes:
    """A two-frame animation in ``fmt``."""
    frames = [Image.new("RGB", (32, 32), RED), Image.new("RGB", (32, 32), BLUE)]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)


# --- accepted formats ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "expected", "options"),
    [
        ("JPEG", "jpeg", {"quality": 90}),
        ("PNG", "png", {}),
        ("WEBP", "webp", {"quality": 90}),
    ],
)
def test_each_allowed_format_is_accepted(fmt: str, expected: str, options: dict[str, object]):
    data = encode(make_photo(1, (640, 480)), fmt, **options)

    info = inspect_upload(data)
    processed = process_photo(data)

    assert info.format == expected
    assert info.mime_type == f"image/{expected}"
    assert (info.width, info.height) == (640, 480)
    assert info.byte_size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert processed.display_size == (640, 480)
    assert Image.open(io.BytesIO(processed.display)).format == "JPEG"


def test_heic_is_accepted_with_its_metadata():
    info = inspect_upload(TINY_HEIC)
    processed = process_photo(TINY_HEIC)

    assert info.format == "heic"
    assert info.mime_type == "image/heic"
    assert (info.width, info.height) == (64, 48)
    assert info.captured_at == datetime(2024, 5, 6, 14, 30, tzinfo=timezone(timedelta(hours=3)))
    display = Image.open(io.BytesIO(processed.display))
    assert display.size == (64, 48)
    assert close_to(corner_colour(display, "tl"), RED)
    assert not display.getexif()


def test_grayscale_cmyk_palette_alpha_and_16_bit_inputs_are_processed():
    rgba = Image.new("RGBA", (100, 80), (255, 0, 0, 0))
    sixteen = Image.new("I;16", (100, 80), 40000)
    inputs = [
        encode(Image.new("L", (100, 80), 77)),
        encode(Image.new("CMYK", (100, 80), (0, 255, 255, 0))),
        encode(make_photo(2, (100, 80)).convert("P"), "PNG"),
        encode(rgba, "PNG"),
        encode(sixteen, "PNG"),
    ]
    for data in inputs:
        processed = process_photo(data)
        assert processed.display_size == (100, 80)
        Image.open(io.BytesIO(processed.display)).load()
    transparent = Image.open(io.BytesIO(process_photo(inputs[3]).display))
    assert close_to(corner_colour(transparent, "tl"), (255, 255, 255))
    grey16 = Image.open(io.BytesIO(process_photo(inputs[4]).display)).convert("L")
    assert abs(grey16.getpixel((50, 40)) - 40000 // 256) <= 2


# --- rejected files ------------------------------------------------------------------------


def _jpeg() -> bytes:
    """A small valid JPEG photo."""
    return encode(make_photo(3, (320, 240)), quality=90)


def _zip() -> bytes:
    """A ZIP archive holding an HTML file (to append to images)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return out.getvalue()


def _png_with_script() -> bytes:
    """A valid PNG whose text chunk carries a script."""
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "<script>alert(document.cookie)</script>")
    return encode(make_photo(4, (64, 64)), "PNG", pnginfo=text)


def _png_with_bad_crc() -> bytes:
    """A PNG with one byte of compressed pixel data changed (its CRC no longer matches)."""
    data = bytearray(encode(make_photo(4, (64, 64)), "PNG"))
    data[data.index(b"IDAT") + 20] ^= 0xFF  # a corrupted byte of pixel data
    return bytes(data)


HOSTILE: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "random bytes": lambda: random.Random(5).randbytes(4096),
    "gif": lambda: encode(Image.new("P", (32, 32)), "GIF"),
    "bmp": lambda: encode(Image.new("RGB", (32, 32)), "BMP"),
    "tiff": lambda: encode(Image.new("RGB", (32, 32)), "TIFF"),
    "ico": lambda: encode(Image.new("RGB", (32, 32)), "ICO"),
    "svg": lambda: (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
        b'height="10"><script>alert(1)</script></svg>'
    ),
    "pdf": lambda: b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n",
    "html": lambda: b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
    "jpeg magic followed by html": lambda: b"\xff\xd8\xff\xe0<html><script>1</script>",
    "truncated jpeg": lambda: _jpeg()[: len(_jpeg()) // 2],
    "jpeg header only": lambda: _jpeg()[:200],
    "jpeg with zip appended": lambda: _jpeg() + _zip(),
    "jpeg with html comment": lambda: encode(
        make_photo(3, (320, 240)), comment=b"<html><script>alert(1)</script></html>"
    ),
    "png with script text": _png_with_script,
    "png with trailing data": lambda: encode(make_photo(4, (64, 64)), "PNG") + b"<?php ?>",
    "png with bad crc": _png_with_bad_crc,
    "truncated webp": lambda: encode(make_photo(4, (64, 64)), "WEBP")[:-40],
    "webp with trailing data": lambda: encode(make_photo(4, (64, 64)), "WEBP") + _zip(),
    "truncated heic": lambda: TINY_HEIC[:-60],
    "heic with trailing data": lambda: TINY_HEIC + _zip(),
    "animated png": lambda: animated("PNG"),
    "animated webp": lambda: animated("WEBP"),
    "jpeg claiming 65000x65000": lambda: jpeg_claiming_size(65000, 65000),
    "png bomb 20000x20000": lambda: bilevel_png(20_000, 20_000),
    "png 10000x10000 (pillow warns)": lambda: bilevel_png(10_000, 10_000),
    "png over our limit, under pillow's": lambda: bilevel_png(8_000, MAX_PIXELS // 8_000 + 1),
}


@pytest.fixture(scope="module")
def hostile_files() -> dict[str, bytes]:
    """The hostile corpus, built once."""
    return {name: make() for name, make in HOSTILE.items()}


@pytest.mark.parametrize("step", [inspect_upload, process_photo], ids=["inspect", "process"])
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_files_are_rejected_with_a_reason(
    name: str, step: Callable[[bytes], object], hostile_files: dict[str, bytes]
):
    with pytest.raises(PhotoRejected) as rejected:
        step(hostile_files[name])

    reason = str(rejected.value)
    assert reason
    assert reason[0].isupper()
    assert reason.endswith(".")
    assert isinstance(rejected.value, ValueError)


def test_the_pixel_limit_is_stated_in_the_reason(hostile_files: dict[str, bytes]):
    with pytest.raises(PhotoRejected, match=f"limit is {MAX_PIXELS // 1_000_000} megapixels"):
        inspect_upload(hostile_files["png bomb 20000x20000"])


def test_a_photo_at_the_pixel_limit_is_accepted():
    side = 5_000
    info = inspect_upload(bilevel_png(side, MAX_PIXELS // side))

    assert info.width * info.height == MAX_PIXELS


def test_inspect_does_not_decode_pixels(monkeypatch: pytest.MonkeyPatch):
    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError("inspect_upload decoded the pixels")

    uploads = [
        encode(make_photo(6, (1200, 900)), exif=exif_with("2024:01:02 03:04:05")),
        encode(make_photo(6, (1200, 900)), "PNG"),
        encode(make_photo(6, (1200, 900)), "WEBP"),
        TINY_HEIC,
    ]
    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    for data in uploads:
        assert isinstance(inspect_upload(data), PhotoInfo)


# --- orientation ---------------------------------------------------------------------------

# The transpose that turns an upright picture into what a camera stores with each orientation
# (the inverse of what a viewer applies).
STORED_AS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", [3, 6, 8, 2, 4, 5, 7])
def test_exif_orientation_is_applied(orientation: int):
    # Large enough for the reduced-scale JPEG decode to kick in.
    upright = marked((2400, 3200))
    stored = upright.transpose(STORED_AS[orientation])
    data = encode(stored, quality=90, exif=exif_with(orientation=orientation))

    info = inspect_upload(data)
    processed = process_photo(data)

    assert (info.width, info.height, info.orientation) == (2400, 3200, orientation)
    assert processed.display_size == (1200, 1600)
    assert processed.thumbnail_size == (240, 320)
    for copy in (processed.display, processed.thumbnail):
        image = Image.open(io.BytesIO(copy))
        assert image.size[1] > image.size[0]
        assert close_to(corner_colour(image, "tl"), RED)
        assert close_to(corner_colour(image, "tr"), BLUE)
        assert close_to(corner_colour(image, "bl"), (128, 128, 128))
        assert not image.getexif()


def test_invalid_orientation_is_ignored():
    data = encode(marked((400, 300)), exif=exif_with(orientation=9))

    display = Image.open(io.BytesIO(process_photo(data).display))

    assert display.size == (400, 300)
    assert close_to(corner_colour(display, "tl"), RED)


# --- metadata stripping, encoding and sizes ------------------------------------------------


def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_copies_carry_no_metadata(fmt: str):
    exif = exif_with(
        "2024:05:06 14:30:00",
        "+03:00",
        gps=((55, 45, 21.5), "N", (37, 37, 4.2), "E"),
        orientation=1,
    )
    options: dict[str, object] = {"exif": exif, "icc_profile": _srgb_icc()}
    if fmt in ("JPEG", "WEBP"):
        options["xmp"] = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret</x:xmpmeta>'
    data = encode(make_photo(7, (900, 700)), fmt, **options)
    assert inspect_upload(data).gps is not None

    processed = process_photo(data)

    for copy in (processed.display, processed.thumbnail):
        image = Image.open(io.BytesIO(copy))
        assert image.format == "JPEG"
        assert not image.getexif()
        assert not {"exif", "icc_profile", "xmp", "comment", "progressive"} & set(image.info)
        for marker in (b"Exif\0", b"ICC_PROFILE", b"xmpmeta", b"http://ns.adobe.com"):
            assert marker not in copy


# Words a shopper's phone or editing app may write into a photo's metadata, one per carrier.
OWNER = "Иван Петров"


def _jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """The (marker, payload) of every JPEG segment before the scan data."""
    assert data[:2] == b"\xff\xd8"
    pos, segments = 2, []
    while True:
        assert data[pos] == 0xFF, pos
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segments.append((marker, data[pos + 4 : pos + 2 + length]))
        if marker == 0xDA:  # start of scan: pixels follow
            return segments
        pos += 2 + length


def _insert_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """``jpeg`` with one more segment right after the start-of-image marker."""
    segment = bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:2] + segment + jpeg[2:]


def _exif_with_gps_and_maker_note() -> bytes:
    exif = exif_with("2024:05:06 14:30:00", "+03:00", gps=((55, 45, 21.5), "N", (37, 37, 4.2), "E"))
    exif[0x013B] = "artist-secret"  # Artist
    exif[0x010F] = "maker-secret"  # Make
    exif.get_ifd(IFD_EXIF)[0x927C] = b"MAKERNOTE-secret\x00\x01\x02"  # MakerNote
    return exif.tobytes()


def _metadata_jpeg() -> bytes:
    """A JPEG carrying COM (twice), XMP, ICC, EXIF with GPS and maker notes, APP12 and APP13."""
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>xmp-secret</dc:creator></x:xmpmeta>'
    data = encode(
        make_photo(9, (900, 700)),
        comment=f"COM-secret {OWNER}".encode(),
        xmp=xmp,
        icc_profile=_srgb_icc(),
        exif=_exif_with_gps_and_maker_note(),
    )
    data = _insert_segment(data, 0xFE, b"second-COM-secret")
    data = _insert_segment(data, 0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00iptc-secret")
    return _insert_segment(data, 0xEC, b"Ducky\x00ducky-secret")


def _metadata_png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "png-comment-secret")
    info.add_text("Author", "tEXt-secret")
    info.add_text("Description", "zTXt-secret " * 20, zip=True)
    info.add_itxt("Copyright", f"iTXt-secret {OWNER}", lang="ru", tkey="Автор")
    return encode(
        make_photo(10, (400, 300)),  # under the test client's 500 kB spool limit
        "PNG",
        pnginfo=info,
        exif=_exif_with_gps_and_maker_note(),
        icc_profile=_srgb_icc(),
    )


def _metadata_webp() -> bytes:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">webp-xmp-secret</x:xmpmeta>'
    return encode(
        make_photo(11, (900, 700)),
        "WEBP",
        exif=_exif_with_gps_and_maker_note(),
        xmp=xmp,
        icc_profile=_srgb_icc(),
    )


METADATA_CARRIERS: dict[str, Callable[[], bytes]] = {
    "jpeg": _metadata_jpeg,
    "png": _metadata_png,
    "webp": _metadata_webp,
    "heic": lambda: TINY_HEIC,  # EXIF: DateTimeOriginal 2024:05:06 14:30:00, +03:00
}
# Anything of these in a copy is metadata that survived.
LEAKS = [
    b"secret",
    OWNER.encode(),
    "Автор".encode(),
    b"2024:05:06",
    b"+03:00",
    b"Exif",
    b"MM\x00*",
    b"II*\x00",
    b"ICC_PROFILE",
    b"acsp",
    b"xmpmeta",
    b"http://ns.adobe.com",
    b"8BIM",
    b"Photoshop",
    b"Ducky",
]


@pytest.mark.parametrize("kind", sorted(METADATA_CARRIERS))
def test_copies_carry_no_metadata_in_their_bytes(kind: str):
    data = METADATA_CARRIERS[kind]()
    info = inspect_upload(data)
    assert info.captured_at is not None  # the carriers really carry metadata

    processed = process_photo(data)

    for copy in (processed.display, processed.thumbnail):
        for marker in LEAKS:
            assert marker not in copy, (kind, marker)
        segments = _jpeg_segments(copy)
        # Only what a baseline JPEG needs: JFIF header, tables, frame, restart interval, scan.
        assert {m for m, _ in segments} <= {0xE0, 0xDB, 0xC0, 0xC4, 0xDD, 0xDA}, [
            hex(m) for m, _ in segments
        ]
        assert [p[:5] for m, p in segments if m == 0xE0] == [b"JFIF\x00"]
        image = Image.open(io.BytesIO(copy))
        assert not image.getexif()
        assert not set(image.info) - {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi"}


def test_a_jpeg_comment_from_the_phone_is_not_copied():
    data = encode(make_photo(12, (640, 480)), comment=f"Владелец: {OWNER}".encode())
    assert OWNER.encode() in data

    processed = process_photo(data)

    for copy in (processed.display, processed.thumbnail):
        assert 0xFE not in {marker for marker, _ in _jpeg_segments(copy)}  # no COM segment
        assert OWNER.encode() not in copy
        assert "comment" not in Image.open(io.BytesIO(copy)).info


def test_copies_are_baseline_jpeg():
    processed = process_photo(encode(make_photo(8, (2000, 1500)), quality=90, progressive=True))

    for copy in (processed.display, processed.thumbnail):
        assert b"\xff\xc0" in copy  # baseline frame header
        assert b"\xff\xc2" not in copy  # progressive frame header
        assert processed.content_type == "image/jpeg"


def test_sizes_are_bounded_and_small_photos_not_enlarged():
    large = process_photo(encode(make_photo(9, (4000, 3000)), quality=85))
    small = process_photo(encode(make_photo(9, (300, 200)), quality=85))
    panorama = process_photo(encode(make_photo(9, (6000, 40)), quality=85))

    assert large.display_size == (DISPLAY_MAX_SIDE, 1200)
    assert large.thumbnail_size == (THUMBNAIL_MAX_SIDE, 240)
    assert Image.open(io.BytesIO(large.display)).size == large.display_size
    assert Image.open(io.BytesIO(large.thumbnail)).size == large.thumbnail_size
    assert small.display_size == (300, 200)
    assert small.thumbnail_size == (300, 200)
    assert panorama.display_size == (1600, 11)
    assert panorama.thumbnail_size == (320, 2)


# --- capture time and GPS ------------------------------------------------------------------


def test_capture_time_with_offset_is_aware():
    data = encode(make_photo(10, (64, 64)), exif=exif_with("2024:05:06 14:30:00", "+03:00", "25"))

    info = inspect_upload(data)

    assert info.captured_at == datetime(2024, 5, 6, 11, 30, 0, 250000, tzinfo=UTC)
    assert info.captured_at.utcoffset() == timedelta(hours=3)
    assert info.captured_at_is_local is False


def test_capture_time_without_offset_is_naive_and_flagged_local():
    info = inspect_upload(encode(make_photo(10, (64, 64)), exif=exif_with("2023:12:31 23:59:58")))

    assert info.captured_at == datetime(2023, 12, 31, 23, 59, 58)
    assert info.captured_at.tzinfo is None
    assert info.captured_at_is_local is True


def test_gps_position_is_read_with_hemisphere_signs():
    exif = exif_with(gps=((33, 51, 35.4), "S", (151, 12, 36.0), "W"))

    info = inspect_upload(encode(make_photo(11, (64, 64)), exif=exif))

    assert isinstance(info.gps, GeoPoint)
    assert info.gps.lat == pytest.approx(-(33 + 51 / 60 + 35.4 / 3600))
    assert info.gps.lon == pytest.approx(-(151 + 12 / 60 + 36 / 3600))


@pytest.mark.parametrize(
    "exif",
    [
        None,
        exif_with("    :  :     :  :  "),
        exif_with("not a date"),
        exif_with(gps=((95, 0, 0), "N", (10, 0, 0), "E")),
    ],
    ids=["no exif", "blank time", "garbage time", "latitude out of range"],
)
def test_missing_or_nonsensical_metadata_is_none(exif: Image.Exif | None):
    options = {"exif": exif} if exif is not None else {}
    info = inspect_upload(encode(make_photo(12, (64, 64)), **options))

    assert info.captured_at is None
    assert info.captured_at_is_local is False
    assert info.gps is None


# Pillow reports the broken block as a warning while opening; the photo itself is fine.
def test_corrupt_exif_block_does_not_reject_the_photo():
    data = encode(make_photo(12, (64, 64)), exif=b"Exif\x00\x00MM\x00\x2a\xff\xff\xff\xff junk")

    info = inspect_upload(data)
    processed = process_photo(data)

    assert (info.orientation, info.captured_at, info.gps) == (1, None, None)
    assert processed.display_size == (64, 64)


# --- perceptual hash -----------------------------------------------------------------------


def test_hamming_counts_differing_bits():
    assert hamming("0000000000000000", "0000000000000000") == 0
    assert hamming("ffffffffffffffff", "0000000000000000") == 64
    assert hamming("8000000000000001", "0000000000000000") == 2


def test_hash_is_16_hex_characters():
    digest = difference_hash(make_photo(13))

    assert len(digest) == 16
    int(digest, 16)


@pytest.mark.parametrize("seed", range(8))
def test_reencoded_and_resized_photo_is_a_near_duplicate(seed: int):
    photo = make_photo(seed)
    original = process_photo(encode(photo, quality=92)).perceptual_hash
    lower_quality = photo.resize((720, 540), Image.Resampling.BICUBIC)
    brighter_crop = ImageEnhance.Brightness(photo.crop((12, 9, 788, 591))).enhance(1.1)

    for variant in (encode(lower_quality, quality=60), encode(brighter_crop, "WEBP", quality=75)):
        assert hamming(original, process_photo(variant).perceptual_hash) <= NEAR_DUPLICATE_DISTANCE


def test_different_photos_are_far_apart():
    hashes = [
        process_photo(encode(make_photo(seed), quality=90)).perceptual_hash for seed in range(12)
    ]

    distances = [hamming(a, b) for a, b in itertools.combinations(hashes, 2)]

    assert min(distances) > NEAR_DUPLICATE_DISTANCE


def test_rotated_copy_hashes_like_the_upright_photo():
    photo = make_photo(14)
    upright = process_photo(encode(photo)).perceptual_hash
    stored = encode(photo.transpose(STORED_AS[6]), exif=exif_with(orientation=6))

    assert hamming(upright, process_photo(stored).perceptual_hash) <= NEAR_DUPLICATE_DISTANCE
