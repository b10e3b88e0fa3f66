"""Dependencies failing under the cluster: Redis stopped, S3 answering 500s, PostgreSQL
restarted mid-load. Each is an instance of the test's own (never the machine's)."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.cluster.harness import (
    PASSWORD,
    CrashReport,
    FaultyProxy,
    MotoS3,
    PrivatePostgres,
    PrivateRedis,
    Shopper,
    account,
    photo_bytes,
    scratch_database,
    seed,
    submission_body,
    wait_photos_processed,
)

pytestmark = pytest.mark.cluster


def _photo_status(cluster: Any, photo_uuid: str) -> str | None:
    engine = cluster.engine()
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT status FROM audit_photo WHERE client_uuid = :u"),
                {"u": uuid.UUID(photo_uuid)},
            ).scalar_one_or_none()
    finally:
        engine.dispose()


def test_redis_stopped(
    shared_database: str,
    private_redis: PrivateRedis,
    s3_server: MotoS3,
    bucket: str,
    start_cluster: Any,
    tmp_path: Path,
) -> None:
    seeded = seed(shared_database, tmp_path / "seed", shoppers=2, visits_each=1)
    cluster = start_cluster(
        shared_database, private_redis.url(0), private_redis.url(1), s3_server.url, bucket
    )
    login, second = sorted(seeded.visits)
    visit = seeded.visits[login][0]
    private_redis.stop()

    # Signing in still works (Flask-Limiter counts in each process's memory meanwhile) ...
    shopper = Shopper(cluster.url, login)
    assert shopper.login().status_code == 200
    # ... uploads are acknowledged, the job cannot be queued: the photo waits, "processing" ...
    photo_uuid = str(uuid.uuid4())
    upload = shopper.upload(str(uuid.uuid4()), visit, "q01", photo_bytes(5), photo_uuid)
    assert upload.status_code == 201, upload.text
    assert upload.json()["status"] == "processing"
    # ... and the database sign-in throttle still locks a guessed account (it fails closed).
    guesser = Shopper(cluster.url, second)

    def attempt(password: str) -> int:
        body = {"login": second, "password": password}
        return guesser.request("POST", "/api/v1/auth/login", json=body).status_code

    answers = [attempt(f"wrong-{n}") for n in range(7)]
    assert answers == [401] * 5 + [429] * 2  # five free failures, then the pair is locked
    assert attempt(PASSWORD) == 429  # locked, whatever the password

    time.sleep(5)  # several sweeps of the worker, each failing on the queue
    assert _photo_status(cluster, photo_uuid) == "processing"
    assert cluster.worker.alive, cluster.worker.tail()

    private_redis.start()
    wait_photos_processed(cluster, timeout=90)
    assert _photo_status(cluster, photo_uuid) == "ready"
    assert all(code < 500 for code in shopper.statuses), shopper.statuses


def test_s3_failing(
    shared_database: str,
    shared_redis: tuple[str, str],
    s3_server: MotoS3,
    bucket: str,
    start_cluster: Any,
    tmp_path: Path,
) -> None:
    seeded = seed(shared_database, tmp_path / "seed", shoppers=1, visits_each=1)
    proxy = FaultyProxy(s3_server.port).start()
    try:
        cluster = start_cluster(shared_database, *shared_redis, proxy.url, bucket)
        (login,) = seeded.visits
        visit = seeded.visits[login][0]
        shopper = Shopper(cluster.url, login)
        assert shopper.login().status_code == 200
        audit_uuid = str(uuid.uuid4())
        first = shopper.upload(audit_uuid, visit, "q01", photo_bytes(1), str(uuid.uuid4()))
        assert first.status_code == 201
        wait_photos_processed(cluster)

        proxy.failing = True
        data, photo_uuid = photo_bytes(2), str(uuid.uuid4())
        refused = shopper.request(
            "POST",
            f"/api/v1/audits/{audit_uuid}/photos",
            data={"assignment_id": str(visit.assignment_id), "item_id": "q02"}
            | {"photo_uuid": photo_uuid},
            files={"file": ("photo.jpg", data, "image/jpeg")},
        )
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "unavailable"
        assert int(refused.headers["Retry-After"]) > 0
        assert proxy.refused > 0
        # Serving a stored photo needs the storage too: the same answer, not a 500.
        served = shopper.request("GET", f"/api/v1/photos/{first.json()['id']}/display")
        assert served.status_code == 503
        # Nothing half-stored: no row, no object.
        assert _photo_status(cluster, photo_uuid) is None
        sha = __import__("hashlib").sha256(data).hexdigest()
        assert not [key for key in s3_server.keys(bucket) if sha in key]

        proxy.failing = False
        retried = shopper.upload(audit_uuid, visit, "q02", data, photo_uuid)
        assert retried.status_code == 201, retried.text
        wait_photos_processed(cluster)
        assert _photo_status(cluster, photo_uuid) == "ready"
        assert [key for key in s3_server.keys(bucket) if sha in key]
    finally:
        proxy.stop()


def _wait_for(condition: Any, seconds: float, failure: str | None) -> None:
    """Poll ``condition`` until it holds; after ``seconds`` fail with ``failure`` (or, when
    None, simply go on: the caller's own assertions judge what happened)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            assert failure is None, failure
            return
        time.sleep(0.05)


def test_postgres_restarted_mid_load(
    private_postgres: PrivatePostgres,
    shared_redis: tuple[str, str],
    s3_server: MotoS3,
    bucket: str,
    start_cluster: Any,
    tmp_path: Path,
) -> None:
    with scratch_database(private_postgres.base_url()) as database:
        seeded = seed(database, tmp_path / "seed", shoppers=4, visits_each=12)
        cluster = start_cluster(database, *shared_redis, s3_server.url, bucket)
        shoppers = {login: Shopper(cluster.url, login) for login in seeded.visits}
        for shopper in shoppers.values():
            assert shopper.login().status_code == 200
        report = CrashReport([], [], 0.0, 0, {})
        lock = threading.Lock()
        errors: list[BaseException] = []
        from tests.cluster.harness import Acknowledged, sha256

        def shop(shopper: Shopper) -> None:
            try:
                for visit in seeded.visits[shopper.login_name]:
                    audit_uuid, photo_uuid = str(uuid.uuid4()), str(uuid.uuid4())
                    data = photo_bytes(visit.assignment_id, (640, 480))
                    upload = shopper.upload(audit_uuid, visit, "q04", data, photo_uuid)
                    assert upload.status_code in (200, 201), upload.text
                    body = submission_body(visit, visit.assignment_id)
                    submitted = shopper.submit(audit_uuid, body)
                    assert submitted.status_code in (200, 201), submitted.text
                    with lock:
                        report.acknowledged.append(
                            Acknowledged(
                                visit,
                                audit_uuid,
                                body["answers"],
                                photo_uuid,
                                upload.json()["id"],
                                sha256(data),
                                submitted.json()["id"],
                            )
                        )
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=shop, args=(s,)) for s in shoppers.values()]
        for thread in threads:
            thread.start()
        # Not fixed sleeps: on a loaded machine the shoppers may not have started after 3 s, or
        # every request may slip between the stop and the start. The database goes away once
        # the load is running (a visit acknowledged) ...
        _wait_for(lambda: len(report.acknowledged) >= 1, 120, "no visit was acknowledged")
        private_postgres.stop()
        # ... stays away until a request has met the outage (or 30 s) ...
        _wait_for(lambda: any(s.server_errors for s in shoppers.values()), 30, None)
        private_postgres.start()  # ... and comes back
        for thread in threads:
            thread.join()
        assert not errors, errors[0]

        server_errors = [e for s in shoppers.values() for e in s.server_errors]
        assert server_errors, "no request met the restart: the test proved nothing"
        # Every failure was a clean 503 with a retry hint, never a 500 or a dropped request.
        assert {(status, code) for status, code, _ in server_errors} == {(503, "unavailable")}
        assert all(retry for _, _, retry in server_errors)
        # The pools recovered: the next requests succeed at the first attempt, on both hosts.
        shopper = next(iter(shoppers.values()))
        for _ in range(6):
            assert shopper.request("GET", "/api/v1/shopper/bundle").status_code == 200
        assert len(set(shopper.upstreams[-6:])) == 2
        wait_photos_processed(cluster)
        figures = account(cluster, s3_server, report)
        assert figures["acknowledged_visits"] == 48
        assert figures["lost_answers"] == figures["lost_photos"] == 0
        assert figures["duplicate_audits"] == figures["duplicate_photos"] == 0
        assert figures["audits"] == figures["photos"] == 48
        cluster.stop()
