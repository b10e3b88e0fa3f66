"""A shopper's whole visit through nginx, the two app hosts taking turns, on the machine's
PostgreSQL and Redis and an S3 server: the worker processes the photo from the Redis queue, the
photo is served by either host, a session from one host works on the other, and the sign-in
rate limit holds across hosts."""

from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from tests.cluster.harness import (
    MotoS3,
    Shopper,
    photo_bytes,
    seed,
    submission_body,
    wait_until,
)

pytestmark = pytest.mark.cluster


def _until_other_host(call: Any, shopper: Shopper, not_on: str) -> requests.Response:
    """Repeat an idempotent request until nginx hands it to the other host."""
    for _ in range(6):
        response = call()
        if shopper.upstreams[-1] != not_on:
            return response
    raise AssertionError(f"nginx kept sending the request to {not_on}")


def test_a_visit_across_both_hosts(
    shared_database: str,
    shared_redis: tuple[str, str],
    s3_server: MotoS3,
    bucket: str,
    start_cluster: Any,
    tmp_path: Path,
) -> None:
    seeded = seed(shared_database, tmp_path / "seed", shoppers=2, visits_each=2)
    cluster = start_cluster(
        shared_database, *shared_redis, s3_server.url, bucket, login_rate_limit="6 per minute"
    )
    login, second = sorted(seeded.visits)
    visit = seeded.visits[login][0]
    shopper = Shopper(cluster.url, login)
    assert shopper.login().status_code == 200
    login_host = shopper.upstreams[-1]

    # The session made on one host is honoured by each host, addressed directly.
    for n in range(2):
        me = shopper.http.get(f"{cluster.host_url(n)}/api/v1/auth/me", timeout=10)
        assert me.status_code == 200, me.text
        assert me.json()["login"] == login

    audit_uuid = str(uuid.uuid4())
    body = submission_body(visit, 1)
    draft = _until_other_host(
        lambda: shopper.save_draft(audit_uuid, visit, {"q01": True}), shopper, login_host
    )
    assert draft.status_code == 200, draft.text
    draft_host = shopper.upstreams[-1]

    data = photo_bytes(7)
    photo_uuid = str(uuid.uuid4())
    upload = _until_other_host(
        lambda: shopper.upload(audit_uuid, visit, "q02", data, photo_uuid), shopper, draft_host
    )
    assert upload.status_code in (200, 201), upload.text
    photo_host = shopper.upstreams[-1]
    assert photo_host != draft_host
    photo = upload.json()
    assert photo["status"] == "processing"  # acknowledged before the worker ran

    submitted = shopper.submit(audit_uuid, body)
    assert submitted.status_code == 201, submitted.text
    audit_id = submitted.json()["id"]

    # The worker takes the job from Redis and stores the copies in S3.
    display_path = f"/api/v1/photos/{photo['id']}/display"
    wait_until(
        lambda: shopper.request("GET", display_path).status_code == 200,
        60,
        f"the worker to process the photo\n{cluster.logs()}",
        every=0.2,
    )
    served = {}
    for n in range(2):
        response = shopper.http.get(cluster.host_url(n) + display_path, timeout=10)
        assert response.status_code == 200
        served[n] = response.content
    assert served[0] == served[1]
    objects = s3_server.keys(bucket)
    sha = hashlib.sha256(data).hexdigest()
    original = f"photos/originals/{sha[:2]}/{sha[2:4]}/{sha}.jpg"
    assert objects[original] == data
    assert objects[f"photos/display/{sha[:2]}/{sha[2:4]}/{sha}.jpg"] == served[0]
    assert f"photos/thumbs/{sha[:2]}/{sha[2:4]}/{sha}.jpg" in objects

    engine = cluster.engine()
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT status, answers FROM audit WHERE id = :id"), {"id": audit_id}
        ).one()
        status = conn.execute(
            sa.text("SELECT status FROM audit_photo WHERE client_uuid = :u"),
            {"u": uuid.UUID(photo_uuid)},
        ).scalar_one()
    engine.dispose()
    assert row.status == "submitted"
    assert row.answers == body["answers"]
    assert status == "ready"

    # The sign-in limit (6 a minute per address here) is counted in Redis, so the two hosts
    # share it: one sign-in above, five more pass, the next is refused, whichever host takes it.
    other = Shopper(cluster.url, second)
    hosts = set()
    for _ in range(5):
        response = other.request(
            "POST",
            "/api/v1/auth/login",
            json={"login": second, "password": "correct-horse-battery"},
        )
        assert response.status_code == 200, response.text
        hosts.add(other.upstreams[-1])
    refused = other.request(
        "POST", "/api/v1/auth/login", json={"login": second, "password": "correct-horse-battery"}
    )
    assert len(hosts) == 2  # both hosts counted
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    time.sleep(0)  # (no waiting on the limit's window: it outlives the test)
