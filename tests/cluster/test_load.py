"""Load through nginx on both hosts: 30 shoppers at once, each visit a draft, 3 photos and the
submission of 60 answers. A short run here (``bench/cluster.py`` runs it for 60 s and prints
the figures): no request may fail, and everything acknowledged is stored."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.cluster.harness import MotoS3, run_load, seed, wait_photos_processed

pytestmark = pytest.mark.cluster

SECONDS = float(os.environ.get("CLUSTER_LOAD_SECONDS", "10"))


def test_thirty_shoppers_through_nginx(
    shared_database: str,
    shared_redis: tuple[str, str],
    s3_server: MotoS3,
    bucket: str,
    start_cluster: Any,
    tmp_path: Path,
) -> None:
    seeded = seed(shared_database, tmp_path / "seed", shoppers=30, visits_each=12)
    cluster = start_cluster(shared_database, *shared_redis, s3_server.url, bucket)
    report = run_load(cluster, seeded, SECONDS, photo_size=(1024, 768))
    print(f"\nload ({SECONDS:.0f} s, 30 shoppers): {report.summary()}")
    assert report.errors == {}
    assert report.submissions > 0
    wait_photos_processed(cluster, timeout=300)
    engine = cluster.engine()
    with engine.connect() as conn:
        submitted = conn.execute(
            sa.text("SELECT count(*) FROM audit WHERE status = 'submitted'")
        ).scalar_one()
        ready = conn.execute(
            sa.text("SELECT count(*) FROM audit_photo WHERE status = 'ready'")
        ).scalar_one()
    engine.dispose()
    assert submitted == report.submissions
    assert ready == report.uploads
