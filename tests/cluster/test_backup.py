"""Backup and restore: ``pg_dump`` of the database and a copy of the photo bucket, restored
into a fresh database and bucket, serve the same ratings and the same photos."""

from __future__ import annotations

import os
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.cluster.harness import (
    MotoS3,
    Shopper,
    photo_bytes,
    scratch_database,
    seed,
    submission_body,
    wait_photos_processed,
)

pytestmark = pytest.mark.cluster


def _libpq(url: str) -> str:
    """The URL as pg_dump and pg_restore take it (no SQLAlchemy driver name)."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _what_hq_sees(client: Shopper, photo_ids: list[int]) -> dict[str, Any]:
    now = datetime.now(UTC)
    period = f"{now - timedelta(days=1):%Y-%m}..{now:%Y-%m}"
    seen: dict[str, Any] = {}
    for path in (
        f"/api/v1/ratings/network?period={period}",
        f"/api/v1/ratings/rankings/branches?period={period}",
    ):
        response = client.until_acknowledged("GET", path)
        assert response.status_code == 200, response.text
        seen[path] = response.json()
    for photo_id in photo_ids:
        for variant in ("original", "display", "thumb"):
            response = client.until_acknowledged("GET", f"/api/v1/photos/{photo_id}/{variant}")
            assert response.status_code == 200, response.text
            seen[f"{photo_id}/{variant}"] = response.content
    return seen


def test_backup_and_restore(
    shared_database: str,
    shared_redis: tuple[str, str],
    s3_server: MotoS3,
    bucket: str,
    start_cluster: Any,
    tmp_path: Path,
) -> None:
    seeded = seed(shared_database, tmp_path / "seed", shoppers=2, visits_each=3)
    cluster = start_cluster(shared_database, *shared_redis, s3_server.url, bucket)
    audit_ids, photo_ids = [], []
    for login, visits in seeded.visits.items():
        shopper = Shopper(cluster.url, login)
        assert shopper.login().status_code == 200
        for visit in visits:
            audit_uuid = str(uuid.uuid4())
            upload = shopper.upload(
                audit_uuid, visit, "q02", photo_bytes(visit.assignment_id), str(uuid.uuid4())
            )
            photo_ids.append(upload.json()["id"])
            submitted = shopper.submit(audit_uuid, submission_body(visit, visit.assignment_id))
            assert submitted.status_code == 201, submitted.text
            audit_ids.append(submitted.json()["id"])
    admin = Shopper(cluster.url, seeded.admin)
    assert admin.login().status_code == 200
    for audit_id in audit_ids:
        version = admin.until_acknowledged("GET", f"/api/v1/audits/{audit_id}").json()["version"]
        approved = admin.until_acknowledged(
            "POST", f"/api/v1/audits/{audit_id}/approve", json={"version": version}
        )
        assert approved.status_code == 200, approved.text
        released = admin.until_acknowledged(
            "POST",
            f"/api/v1/audits/{audit_id}/release",
            json={"version": approved.json()["version"]},
        )
        assert released.status_code == 200, released.text
    wait_photos_processed(cluster)
    before = _what_hq_sees(admin, photo_ids)
    network = next(v for k, v in before.items() if "ratings/network" in k)
    assert network["audits"] == len(audit_ids)  # the ratings count every released visit

    # Backup: the database first, then the photos (so every photo the dump names is copied).
    dump = tmp_path / "auditapp.dump"
    subprocess.run(
        ["pg_dump", "-Fc", "-f", str(dump), _libpq(shared_database)], check=True, timeout=120
    )
    restored_bucket = f"restored-{uuid.uuid4().hex[:8]}"
    s3 = s3_server.client()
    s3.create_bucket(Bucket=restored_bucket)
    for key in s3_server.keys(bucket):
        s3.copy_object(Bucket=restored_bucket, Key=key, CopySource={"Bucket": bucket, "Key": key})
    cluster.stop()

    with scratch_database(os.environ["TEST_DATABASE_URL"]) as fresh:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "-d", _libpq(fresh), str(dump)],
            check=True,
            timeout=120,
        )
        restored = start_cluster(fresh, *shared_redis, s3_server.url, restored_bucket, hosts=1)
        admin = Shopper(restored.url, seeded.admin)
        assert admin.login().status_code == 200
        after = _what_hq_sees(admin, photo_ids)
        restored.stop()
    assert after.keys() == before.keys()
    for key, value in before.items():
        assert after[key] == value, key
