"""Benchmark photo processing: CPU time per 12-megapixel photo, naive vs auditapp's fast path.

Generates N deterministic 4000x3000 JPEGs that look like camera output (gradients, shapes,
blotchy texture and sensor noise; about 3.3 MB each at quality 90) stored sideways with EXIF
orientation 6, then times, on one thread with ``time.process_time()``:

* naive: full decode, rotate, two resizes, WebP at default effort (the issue's 380 ms baseline);
* fast reference: ``Image.draft``, resize before rotating, JPEG quality 82 (the 155 ms path);
* auditapp: ``auditapp.adapters.images.process_photo`` (also validates and hashes).

It prints median and p90 per variant, the speed-up over naive, auditapp's time relative to the
fast reference (target: at most 1.1x), and the PSNR of auditapp's display copy against a
high-quality resize of the fully decoded, correctly oriented photo. Exits 1 if the quality is
below the threshold or any output is wrongly oriented; ``--strict-speed`` also fails on speed.

Run: ``.venv/bin/python bench/photos.py [--photos 12] [--repeat 1] [--strict-speed]``
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageOps, ImageStat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auditapp.adapters.images import (  # noqa: E402 - after making the package importable
    DISPLAY_MAX_SIDE,
    THUMBNAIL_MAX_SIDE,
    process_photo,
)
from tests.support import make_photo  # noqa: E402

WIDTH, HEIGHT = 4000, 3000
MIN_PSNR_DB = 35.0
MAX_SLOWDOWN = 1.1
MARKER = (255, 0, 0)
# EXIF orientation -> transpose to upright (as ImageOps.exif_transpose does).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def generate_photo(seed: int) -> bytes:
    """A deterministic camera-like 12 MP JPEG, stored landscape, displayed portrait (EXIF 6).

    The test suite's picture (``tests/support.make_photo``) with a phone's detail and texture;
    the upright picture has a red marker square in its top-left corner, so the orientation of
    any output can be checked.
    """
    # Upright picture is portrait: 3000 wide, 4000 high.
    size = (HEIGHT, WIDTH)
    picture = make_photo(seed, size, shapes=80, shape_sizes=(40, 900), lines=40, texture=True)
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 0, 399, 399), fill=MARKER)
    # Stored as the sensor saw it: rotated back, to be turned upright by orientation 6.
    stored = picture.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    stored.save(out, format="JPEG", quality=90, exif=exif)
    return out.getvalue()


def naive(data: bytes) -> tuple[bytes, bytes]:
    """The straightforward path: full decode, rotate, two resizes, WebP at default effort."""
    with Image.open(io.BytesIO(data)) as im:
        upright = ImageOps.exif_transpose(im)
    display = upright.copy()
    display.thumbnail((DISPLAY_MAX_SIDE, DISPLAY_MAX_SIDE), Image.Resampling.LANCZOS)
    thumb = upright.copy()
    thumb.thumbnail((THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE), Image.Resampling.LANCZOS)
    return _encode(display, "WEBP"), _encode(thumb, "WEBP")


def fast_reference(data: bytes) -> tuple[bytes, bytes]:
    """The issue's fast path, bare: draft decode, resize before rotating, JPEG quality 82."""
    with Image.open(io.BytesIO(data)) as im:
        orientation = im.getexif().get(0x0112, 1)
        scale = DISPLAY_MAX_SIDE / max(im.size)
        target = (round(im.width * scale), round(im.height * scale))
        im.draft("RGB", target)
        display = im.resize(target, Image.Resampling.LANCZOS)
    thumb = display.resize(
        (round(target[0] / 5), round(target[1] / 5)), Image.Resampling.LANCZOS, reducing_gap=2.0
    )
    method = _UPRIGHT.get(orientation)
    if method is not None:
        display, thumb = display.transpose(method), thumb.transpose(method)
    return _encode(display, "JPEG", quality=82), _encode(thumb, "JPEG", quality=82)


def ours(data: bytes) -> tuple[bytes, bytes]:
    """auditapp's implementation."""
    processed = process_photo(data)
    return processed.display, processed.thumbnail


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    """Encode with Pillow's defaults plus ``options``."""
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def time_variant(
    name: str, variant: Callable[[bytes], tuple[bytes, bytes]], photos: list[bytes], repeat: int
) -> list[float]:
    """CPU seconds per photo for each photo (best of ``repeat`` runs)."""
    timings = []
    for data in photos:
        best = math.inf
        for _ in range(repeat):
            start = time.process_time()
            variant(data)
            best = min(best, time.process_time() - start)
        timings.append(best)
    return timings


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio of two same-size RGB images, in dB."""
    rms = ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).rms
    mse = sum(value * value for value in rms) / len(rms)
    return math.inf if mse == 0 else 10 * math.log10(255 * 255 / mse)


def marker_in_top_left(image: Image.Image) -> bool:
    """Whether the red marker sits in the top-left corner (and nowhere in the other corners)."""
    w, h = image.size
    side = max(2, round(min(w, h) * 0.05))

    def corner(x: int, y: int) -> tuple[float, ...]:
        """Mean colour of the square at (x, y)."""
        box = (x, y, x + side, y + side)
        return tuple(ImageStat.Stat(image.convert("RGB").crop(box)).mean)

    def is_red(colour: tuple[float, ...]) -> bool:
        """Whether a mean colour is the marker's red."""
        return colour[0] > 200 and colour[1] < 60 and colour[2] < 60

    others = [corner(w - side, 0), corner(0, h - side), corner(w - side, h - side)]
    return is_red(corner(0, 0)) and not any(is_red(c) for c in others) and h > w


def quality_reference(data: bytes, size: tuple[int, int]) -> Image.Image:
    """Full decode, correct orientation, then a careful LANCZOS resize without shortcuts."""
    with Image.open(io.BytesIO(data)) as im:
        upright = ImageOps.exif_transpose(im)
    return upright.resize(size, Image.Resampling.LANCZOS)


def summary(name: str, timings: list[float]) -> str:
    """Median and p90 in milliseconds."""
    ordered = sorted(timings)
    p90 = ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]
    return (
        f"{name:<16} median {statistics.median(ordered) * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    """Generate photos, time the variants, check quality and orientation; 0 if all is well."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=12, help="how many photos (default 12)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per photo, best kept")
    parser.add_argument("--strict-speed", action="store_true", help="fail when slower than 1.1x")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    photos = [generate_photo(seed) for seed in range(args.photos)]
    mean_mb = statistics.mean(len(p) for p in photos) / 1e6
    print(
        f"generated {len(photos)} JPEGs {WIDTH}x{HEIGHT} (EXIF orientation 6), "
        f"mean {mean_mb:.1f} MB, in {time.perf_counter() - start:.1f} s"
    )
    for data in photos[:1]:  # warm up imports and caches
        naive(data), fast_reference(data), ours(data)

    naive_t = time_variant("naive", naive, photos, args.repeat)
    fast_t = time_variant("fast reference", fast_reference, photos, args.repeat)
    ours_t = time_variant("auditapp", ours, photos, args.repeat)
    print(summary("naive", naive_t))
    print(summary("fast reference", fast_t))
    print(summary("auditapp", ours_t))
    speedup = statistics.median(naive_t) / statistics.median(ours_t)
    slowdown = statistics.median(ours_t) / statistics.median(fast_t)
    print(f"speed-up naive/auditapp: {speedup:.2f}x")
    print(f"auditapp/fast reference: {slowdown:.2f}x (target <= {MAX_SLOWDOWN}x)")

    failures = []
    figures = []
    for index, data in enumerate(photos):
        display_bytes, thumb_bytes = ours(data)
        display = Image.open(io.BytesIO(display_bytes))
        thumb = Image.open(io.BytesIO(thumb_bytes))
        for label, image in (("display", display), ("thumbnail", thumb)):
            if not marker_in_top_left(image):
                failures.append(f"photo {index}: {label} is not upright")
        figures.append(psnr(display, quality_reference(data, display.size)))
        if max(display.size) != DISPLAY_MAX_SIDE or max(thumb.size) != THUMBNAIL_MAX_SIDE:
            failures.append(f"photo {index}: sizes {display.size}, {thumb.size}")
    print(
        f"PSNR display vs reference resize: min {min(figures):.1f} dB, "
        f"median {statistics.median(figures):.1f} dB (threshold {MIN_PSNR_DB} dB)"
    )
    if min(figures) < MIN_PSNR_DB:
        failures.append(f"PSNR {min(figures):.1f} dB below {MIN_PSNR_DB} dB")
    if args.strict_speed and slowdown > MAX_SLOWDOWN:
        failures.append(f"auditapp is {slowdown:.2f}x the fast reference")
    print(f"orientation: {'FAILED' if any('upright' in f for f in failures) else 'ok'}")
    print(f"total {time.perf_counter() - start:.1f} s")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
