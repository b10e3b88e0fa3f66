"""Helpers shared by the tests and the ``bench/`` scripts: the test app's configuration and
client, the fixture network, the example checklist's answers, the one test picture, uploads,
and audits taken through the services to any status (ratings, attestation, office screens).

The fixtures that use them are in ``tests/conftest.py``; this module has no fixtures, so a
script can import it without pytest collecting anything.
"""

from __future__ import annotations

import contextvars
import dataclasses
import io
import random
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask.testing import FlaskClient
from PIL import Image, ImageDraw

if TYPE_CHECKING:
    from auditapp.models import User

PASSWORD = "correct-horse-battery"


def _postgres_url(base: str, schema: str) -> str:
    url = sa.make_url(base)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


def app_config(database_url: str, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """Configuration for a test app: fast password hashing, inline jobs, no rate limit."""
    config: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MEDIA_DIR": str(tmp_path / "media"),
        "PHOTO_STORAGE_URL": str(tmp_path / "media"),
        "HUEY_IMMEDIATE": True,
        "RATELIMIT_ENABLED": False,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
    }
    config.update(overrides)
    return config


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in a fresh context, as in production.

    Without this, a request made while a test holds an app context would share that context's
    ``g`` (the signed-in user) and database session with the test and with other requests.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        # A streamed body (exports) is read inside the same context, as a server reads it in
        # the request's thread: read later, outside, its request context would be lost.
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


class ApiClient:
    """A test client that signs in and sends the CSRF token like the PWA does."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.csrf: str | None = None
        self.token: str | None = None

    def login(self, login: str, password: str = PASSWORD) -> Any:
        response = self.client.post(
            "/api/v1/auth/login", json={"login": login, "password": password}
        )
        if response.status_code == 200:
            self.csrf = response.get_json()["csrf_token"]
        return response

    def open(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.csrf and method in ("POST", "PUT", "PATCH", "DELETE"):
            headers.setdefault("X-CSRFToken", self.csrf)
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.open("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.open("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.open("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.open("DELETE", path, **kwargs)


@dataclass
class Network:
    """A small network: two regions, four branches, staff, and one user per role and scope."""

    regions: dict[str, int] = field(default_factory=dict)
    branches: dict[str, int] = field(default_factory=dict)
    staff: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)


def make_user(login: str, role: str, **bindings: Any) -> int:
    """Create a user through the service (inside an app context); returns the id."""
    from auditapp.services import users

    new = users.NewUser(login=login, display_name=login, role=role, password=PASSWORD)
    return users.create_user(dataclasses.replace(new, **bindings)).id


def build_network() -> Network:
    """Create the fixture network through the services (the way the API would)."""
    from auditapp.services import network as net

    result = Network()
    for code, name in (("N", "Север"), ("S", "Юг")):
        result.regions[code] = net.create_region({"code": code, "name": name}).id
    for code, region, kind, city in (
        ("N1", "N", "store", "Мурманск"),
        ("N2", "N", "restaurant", "Архангельск"),
        ("S1", "S", "hotel", "Сочи"),
        ("S2", "S", "store", "Краснодар"),
    ):
        branch = net.create_branch(
            {
                "region_id": result.regions[region],
                "code": code,
                "name": f"Филиал {code}",
                "kind": kind,
                "city": city,
                "address": "",
                "timezone": "Europe/Moscow",
                "latitude": 55.0,
                "longitude": 37.0,
                "active": True,
            }
        )
        result.branches[code] = branch.id
    for code, branch, position in (
        ("E-N1-a", "N1", "consultant"),
        ("E-N1-b", "N1", "cashier"),
        ("E-N2-a", "N2", "waiter"),
        ("E-S1-a", "S1", "receptionist"),
        ("E-S2-a", "S2", "consultant"),
    ):
        staff = net.create_staff(
            {
                "employee_code": code,
                "full_name": f"Сотрудник {code}",
                "position": position,
                "branch_id": result.branches[branch],
                "hired_on": date(2024, 1, 10),
                "left_on": None,
            }
        )
        result.staff[code] = staff.id

    def user(login: str, role: str, **bindings: Any) -> None:
        result.users[login] = make_user(login, role, **bindings)

    user("admin", "admin")
    user("reviewer", "reviewer")
    user("director_n", "director", region_ids=[result.regions["N"]])
    user("manager_n1", "manager", branch_ids=[result.branches["N1"]])
    user("manager_s1", "manager", branch_ids=[result.branches["S1"]])
    user("shopper", "shopper")
    user("shopper2", "shopper")
    user("employee_n1", "employee", staff_member_id=result.staff["E-N1-a"])
    return result


# Audits ------------------------------------------------------------------------------------

EXAMPLE_CHECKLIST = Path(__file__).parent / "unit" / "fixtures" / "example.yaml"

# Answers to the example checklist that pass every rule. By hand (weights in brackets):
# greeted yes [2] -> 2; queue 45 s <= 60 [2] -> 2; receipt yes [1] -> 1; drink 4 on 1..5 [3]
# -> 3 * 0.75 = 2.25; dessert "generic" [1] -> 0.5; table clean [1] -> 1. 8.75 / 10 = 87.5.
GOOD_ANSWERS: dict[str, Any] = {
    "greeted": True,
    "queue_wait": 45,
    "receipt": True,
    "drink_quality": 4,
    "dessert_offer": "generic",
    "table_clean": True,
    "comment": "Всё хорошо",
}
GOOD_SCORE = 87.5


def make_photo(
    seed: int,
    size: tuple[int, int] = (800, 600),
    *,
    shapes: int = 25,
    shape_sizes: tuple[int, int] = (20, 300),
    lines: int = 0,
    texture: bool = False,
) -> Image.Image:
    """The one test picture: deterministic and camera-like for ``seed`` (gradients, shapes, a
    little sensor noise), so different seeds are far apart by perceptual hash.

    ``lines`` and ``texture`` add strokes and blotchy brightness and colour texture, which make
    a 12 MP JPEG as heavy as a phone's (``bench/photos.py``).
    """
    rng = random.Random(seed)
    gradient = Image.linear_gradient("L")
    channels = [
        gradient.rotate(rng.uniform(0, 360)).resize(size, Image.Resampling.BICUBIC)
        for _ in range(3)
    ]
    picture = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(picture)
    for _ in range(shapes):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randrange(*shape_sizes), rng.randrange(*shape_sizes)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + w, y + h), fill=colour)
    for _ in range(lines):
        points = [(rng.randrange(size[0]), rng.randrange(size[1])) for _ in range(2)]
        draw.line(points, fill=(rng.randrange(256),) * 3, width=rng.randrange(2, 12))
    if texture:
        # Texture mostly in brightness, colour varying slowly: cameras denoise chroma and store
        # it subsampled (4:2:0) themselves, so per-pixel colour noise would be unrealistic.
        small = (size[0] // 8, size[1] // 8)
        grain = Image.frombytes("L", small, rng.randbytes(small[0] * small[1])).convert("RGB")
        picture = Image.blend(picture, grain.resize(size, Image.Resampling.BICUBIC), 0.2)
        tint = (size[0] // 64, size[1] // 64)
        colour_texture = Image.frombytes("RGB", tint, rng.randbytes(tint[0] * tint[1] * 3))
        picture = Image.blend(picture, colour_texture.resize(size, Image.Resampling.BICUBIC), 0.1)
    noise = Image.frombytes("L", size, rng.randbytes(size[0] * size[1])).convert("RGB")
    return Image.blend(picture, noise, 0.06)


def encode(image: Image.Image, fmt: str = "JPEG", **options: Any) -> bytes:
    """``image`` encoded in memory as ``fmt`` with Pillow's ``options``."""
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def jpeg_bytes(seed: int = 0, size: tuple[int, int] = (640, 480), **options: Any) -> bytes:
    """The test picture for ``seed`` as a JPEG at quality 90 (``options``: exif, quality ...)."""
    return encode(make_photo(seed, size), "JPEG", **{"quality": 90, **options})


def seed_of(text: str) -> int:
    """A seed that is the same in every run for ``text`` (``hash()`` of a str is not)."""
    return zlib.crc32(text.encode())


@dataclass
class Fieldwork:
    """A wave on the example checklist: assignments for the fixture shoppers."""

    checklist_version_id: int
    wave_id: int
    assignments: dict[str, int]


def submission(assignment_id: int, **overrides: Any) -> dict[str, Any]:
    """A complete, valid submit body for the example checklist."""
    start = datetime.now(UTC) - timedelta(hours=2)
    body: dict[str, Any] = {
        "assignment_id": assignment_id,
        "answers": dict(GOOD_ANSWERS),
        "visit_started_at": start.isoformat(),
        "visit_ended_at": (start + timedelta(minutes=25)).isoformat(),
        "geo": {"lat": 55.0005, "lon": 37.0005, "accuracy_m": 20},
        "staff": [],
    }
    body.update(overrides)
    return body


def upload_photo(
    api: ApiClient,
    audit_uuid: str,
    assignment_id: int,
    item_id: str,
    data: bytes | None = None,
    photo_uuid: str | None = None,
) -> Any:
    """Upload a photo for an item the way the phone does (multipart)."""
    form = {
        "assignment_id": str(assignment_id),
        "item_id": item_id,
        "photo_uuid": photo_uuid or str(uuid.uuid4()),
        "file": (io.BytesIO(data if data is not None else jpeg_bytes()), "photo.jpg"),
    }
    return api.post(
        f"/api/v1/audits/{audit_uuid}/photos", data=form, content_type="multipart/form-data"
    )


# Released audits anywhere, any day (ratings, attestation, the office screens' scenarios) -----

# The example checklist for every branch kind, without photo rules (photos are not what the
# ratings are about). Points as in tests/conftest.py: good answers earn 8.75 of 10 = 87.5.
RATING_CHECKLIST = (
    EXAMPLE_CHECKLIST.read_text(encoding="utf-8")
    .replace("applies_to: [restaurant]", "applies_to: [store, restaurant, hotel]")
    .replace("photo: required", "photo: none")
    .replace("photo: on_fail", "photo: none")
)


@dataclass
class Ratings:
    """A checklist version and the means to release audits anywhere, any day."""

    network: Network
    version_id: int
    shoppers: list[int]
    waves: list[int] = field(default_factory=list)
    visits: dict[int, int] = field(default_factory=dict)

    def user(self, login: str) -> User:
        """A fixture user by login."""
        from auditapp.extensions import db
        from auditapp.models import User

        found = db.session.get(User, self.network.users[login])
        assert found is not None
        return found


def ratings_fieldwork(network: Network, shoppers: int = 4) -> Ratings:
    """Import the checklist and create shoppers; waves are added as visits need them."""
    from auditapp.services import checklists

    version = checklists.import_checklist(RATING_CHECKLIST, "ratings.yaml")
    ids = [make_user(f"rshopper{i}", "shopper") for i in range(shoppers)]
    return Ratings(network, version.id, ids)


def ratings_wave(ratings: Ratings, index: int) -> int:
    """The id of wave ``index`` (0, 1, ...) over every branch, created when first needed."""
    from auditapp.services import waves

    while len(ratings.waves) <= index:
        wave = waves.create_wave(
            ratings.user("admin"),
            waves.WavePlan(
                name=f"Волна {len(ratings.waves) + 1}",
                checklist_version_id=ratings.version_id,
                starts_on=date(2020, 1, 1),
                ends_on=date(2030, 12, 31),
                visits_per_branch=1,
                day_parts=[],
                branch_ids=sorted(ratings.network.branches.values()),
            ),
        )
        ratings.waves.append(wave.id)
    return ratings.waves[index]


def answers(**changes: Any) -> dict[str, Any]:
    """The good answers with some changed."""
    result = dict(GOOD_ANSWERS)
    result.update(changes)
    return result


def version_of(audit_id: int) -> int:
    """The audit's version as the person acting on it has just read it."""
    from auditapp.extensions import db
    from auditapp.models import Audit

    audit = db.session.get(Audit, audit_id)
    assert audit is not None
    return audit.version


def audit_at(
    ratings: Ratings,
    branch: str,
    visit_at: datetime,
    given: dict[str, Any] | None = None,
    *,
    until: str = "released",
    staff: list[dict[str, Any]] | None = None,
    photo_item: str | None = None,
    minutes: int = 20,
) -> int:
    """Submit an audit of ``branch`` visited at ``visit_at`` for ``minutes`` and take it to
    ``until`` (submitted, approved, released, rejected, returned); returns its id.

    The shoppers take the branch's visits in turn, each in the next wave once all have been.
    ``staff``: who served, as the submit body names them (``staff_role``, ``staff_member_id``);
    ``photo_item``: an item that gets a photo (uploaded before the submit, as the phone does).
    """
    from auditapp.extensions import db
    from auditapp.models import User
    from auditapp.services import audits, photos, waves

    branch_id = ratings.network.branches[branch]
    count = ratings.visits.get(branch_id, 0)
    ratings.visits[branch_id] = count + 1
    shopper_id = ratings.shoppers[count % len(ratings.shoppers)]
    wave_id = ratings_wave(ratings, count // len(ratings.shoppers))
    assignment = waves.add_assignment(
        wave_id,
        waves.NewAssignment(
            branch_id=branch_id,
            shopper_id=shopper_id,
            window_start=date(2020, 1, 1),
            window_end=date(2030, 12, 31),
            day_part=None,
        ),
    )
    shopper = db.session.get(User, shopper_id)
    assert shopper is not None
    audit_uuid = uuid.uuid4()
    if photo_item is not None:
        evidence = photos.EvidencePhoto(
            assignment_id=assignment.id,
            item_id=photo_item,
            photo_uuid=uuid.uuid4(),
            data=jpeg_bytes(seed=3),
        )
        photos.upload_evidence(shopper, audit_uuid, evidence)
    audit, _ = audits.submit(
        shopper,
        audit_uuid,
        audits.Submission(
            assignment_id=assignment.id,
            answers=given if given is not None else answers(),
            visit_started_at=visit_at,
            visit_ended_at=visit_at + timedelta(minutes=minutes),
            staff=[audits.StaffServed(**s) for s in staff or []],
        ),
    )
    reviewer = ratings.user("reviewer")
    if until in ("approved", "released"):
        audits.review(reviewer, audit.id, "approve", audits.Decision(version_of(audit.id)))
    if until == "released":
        audits.release(reviewer, audit.id, version_of(audit.id))
    if until in ("rejected", "returned"):
        action = "reject" if until == "rejected" else "return"
        audits.review(
            reviewer, audit.id, action, audits.Decision(version_of(audit.id), "Не засчитано")
        )
    return audit.id
