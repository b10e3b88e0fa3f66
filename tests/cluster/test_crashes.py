"""Crashes lose nothing: app hosts ``kill -9``-ed at random moments while shoppers upload and
submit through nginx, retrying; the photo worker killed in the middle of a job."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from huey import RedisHuey

from tests.cluster.harness import (
    MotoS3,
    Shopper,
    account,
    photo_bytes,
    run_visits_with_kills,
    seed,
    wait_photos_processed,
    wait_until,
)

pytestmark = pytest.mark.cluster


def test_host_crashes_lose_nothing(
    shared_database: str,
    shared_redis: tuple[str, str],
    s3_server: MotoS3,
    bucket: str,
    start_cluster: Any,
    tmp_path: Path,
) -> None:
    # 200 visits: 200 photo uploads and 200 submissions, 8 shoppers at once.
    seeded = seed(shared_database, tmp_path / "seed", shoppers=8, visits_each=25)
    cluster = start_cluster(shared_database, *shared_redis, s3_server.url, bucket)
    report = run_visits_with_kills(cluster, seeded, seed_value=14)
    wait_photos_processed(cluster)
    figures = account(cluster, s3_server, report)
    print(
        f"\ncrash run: {len(report.kills)} kill -9 of app hosts in {report.seconds:.0f} s, "
        f"{report.retries} retries, answers {report.statuses}; {figures}"
    )
    assert len(report.kills) >= 5, "the schedule must have killed hosts during the run"
    assert figures["acknowledged_visits"] == 200
    assert figures["lost_answers"] == 0
    assert figures["lost_photos"] == 0
    assert figures["duplicate_audits"] == 0
    assert figures["duplicate_photos"] == 0
    assert figures["extra_photos"] == 0
    assert figures["audits"] == 200
    assert figures["photos_not_ready"] == 0
    assert figures["missing_or_wrong_files"] == 0

    # Files a crash left between storing and recording: listed, then removed; nothing named.
    listed = cluster.flask("photos", "gc", "--dry-run", "--grace-minutes", "0")
    listed_keys = [line.split("\t")[0] for line in listed.stdout.splitlines() if line]
    assert len(listed_keys) == figures["orphan_files"]
    assert "would delete" in listed.stderr
    cluster.flask("photos", "gc", "--grace-minutes", "0")
    after = account(cluster, s3_server, report)
    assert after["orphan_files"] == 0
    assert after["missing_or_wrong_files"] == 0
    assert after["lost_photos"] == 0


def test_photo_gc_keeps_young_files(
    shared_database: str,
    shared_redis: tuple[str, str],
    s3_server: MotoS3,
    bucket: str,
    start_cluster: Any,
    tmp_path: Path,
) -> None:
    """An object no row names yet (an upload in flight) is left alone within the grace age."""
    seed(shared_database, tmp_path / "seed", shoppers=1, visits_each=1)
    cluster = start_cluster(shared_database, *shared_redis, s3_server.url, bucket)
    key = f"photos/originals/ab/cd/{'ab' + 'cd' + '0' * 60}.jpg"
    s3_server.client().put_object(Bucket=bucket, Key=key, Body=b"in flight")
    young = cluster.flask("photos", "gc", "--grace-minutes", "10")
    assert key not in young.stdout
    assert key in s3_server.keys(bucket)
    old = cluster.flask("photos", "gc", "--grace-minutes", "0")
    assert key[len("photos/") :] in old.stdout
    assert key not in s3_server.keys(bucket)


def test_worker_killed_mid_job(
    shared_database: str,
    shared_redis: tuple[str, str],
    s3_server: MotoS3,
    bucket: str,
    start_cluster: Any,
    tmp_path: Path,
) -> None:
    seeded = seed(shared_database, tmp_path / "seed", shoppers=1, visits_each=1)
    cluster = start_cluster(shared_database, *shared_redis, s3_server.url, bucket)
    (login,) = seeded.visits
    visit = seeded.visits[login][0]
    shopper = Shopper(cluster.url, login)
    assert shopper.login().status_code == 200
    # A 12 MP photo: re-encoding it takes the worker a second or more.
    data = photo_bytes(3, (4000, 3000))
    queue = RedisHuey("auditapp", url=shared_redis[0])
    upload = shopper.upload(str(uuid.uuid4()), visit, "q01", data, str(uuid.uuid4()))
    assert upload.status_code == 201, upload.text
    photo_id = upload.json()["id"]
    # The job has left the queue: the worker holds it. Kill the worker now.
    wait_until(lambda: queue.pending_count() == 0, 30, "the worker to take the job", every=0.01)
    cluster.worker.kill9()
    engine = cluster.engine()
    with engine.connect() as conn:
        status = conn.execute(
            sa.text("SELECT status FROM audit_photo WHERE id = :id"), {"id": photo_id}
        ).scalar_one()
    assert status == "processing", "the job finished before the kill; the test proves nothing"
    assert queue.pending_count() == 0  # the job is lost with the worker: only the sweep helps
    time.sleep(1)
    cluster.worker.start()
    wait_photos_processed(cluster, timeout=120)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT status, display_key FROM audit_photo WHERE id = :id"), {"id": photo_id}
        ).one()
    engine.dispose()
    assert row.status == "ready"
    assert f"photos/{row.display_key}" in s3_server.keys(bucket)
