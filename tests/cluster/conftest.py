"""Fixtures of the cluster tests: real processes on 127.0.0.1 (see ``harness.py``).

They need PostgreSQL (``TEST_DATABASE_URL``; ``dev.py test`` runs them in its PostgreSQL pass)
and nginx, redis-server, the PostgreSQL 15 binaries and moto's server. Where one is missing they
are skipped with the reason, except in CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.harness import (
    Cluster,
    MotoS3,
    PrivatePostgres,
    PrivateRedis,
    missing_components,
    scratch_database,
)

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test here ``cluster``; say why they cannot run, or fail in CI."""
    reasons = missing_components()
    if not os.environ.get("TEST_DATABASE_URL"):
        reasons.append("TEST_DATABASE_URL (a PostgreSQL server; dev.py test's second pass)")
    for item in items:
        if HERE not in Path(str(item.fspath)).parents:
            continue
        item.add_marker(pytest.mark.cluster)
        if reasons and not os.environ.get("CI"):
            item.add_marker(pytest.mark.skip(reason="cluster: missing " + "; ".join(reasons)))


@pytest.fixture(autouse=True)
def _components_present() -> None:
    """In CI a component that cannot be started is a failure, never a skip."""
    reasons = missing_components()
    if not os.environ.get("TEST_DATABASE_URL"):
        reasons.append("TEST_DATABASE_URL")
    if reasons:
        pytest.fail("cluster: missing " + "; ".join(reasons) + " (.ci/run installs them)")


def _redis_dbs(worker_id: str) -> tuple[int, int]:
    """Two db numbers of the machine's Redis per xdist worker (queue, rate limits)."""
    index = int(worker_id[2:]) if worker_id.startswith("gw") else 0
    base = 8 + 2 * (index % 4)
    return base, base + 1


@pytest.fixture
def shared_redis(worker_id: str) -> Iterator[tuple[str, str]]:
    """URLs of two emptied db numbers on the machine's Redis (127.0.0.1:6379)."""
    import redis

    urls = tuple(f"redis://127.0.0.1:6379/{n}" for n in _redis_dbs(worker_id))
    for url in urls:
        redis.Redis.from_url(url).flushdb()
    yield urls[0], urls[1]
    for url in urls:
        redis.Redis.from_url(url).flushdb()


@pytest.fixture
def shared_database() -> Iterator[str]:
    """A database of its own on the machine's PostgreSQL, dropped afterwards."""
    with scratch_database(os.environ["TEST_DATABASE_URL"]) as url:
        yield url


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3]:
    """moto's S3 server, one per test process; each test uses a bucket of its own."""
    server = MotoS3(tmp_path_factory.mktemp("moto")).start()
    yield server
    server.stop()


@pytest.fixture
def bucket(s3_server: MotoS3) -> str:
    """A fresh bucket on the S3 server."""
    name = f"photos-{uuid.uuid4().hex[:10]}"
    s3_server.client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[PrivatePostgres]:
    """A PostgreSQL instance of this test's own (it may be restarted)."""
    server = PrivatePostgres(tmp_path / "pg")
    try:
        yield server.start()
    finally:
        server.remove()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of this test's own (it may be stopped)."""
    server = PrivateRedis(tmp_path / "redis").start()
    yield server
    server.process.stop()


@pytest.fixture
def start_cluster(tmp_path: Path) -> Iterator[Any]:
    """``start_cluster(database_url, huey_url, ratelimit_url, s3_endpoint, bucket, **options)``
    starts a cluster; every one started is stopped at the end."""
    started: list[Cluster] = []

    def start(*args: Any, **options: Any) -> Cluster:
        cluster = Cluster(tmp_path / f"cluster{len(started)}", *args, **options)
        started.append(cluster)
        return cluster.start()

    yield start
    for cluster in started:
        cluster.stop()
