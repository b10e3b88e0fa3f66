#!/usr/bin/env python3
"""The cluster under load, and through crashes: figures for docs/deploy.md's scaling section.

Starts, on 127.0.0.1, a PostgreSQL 15 and a Redis of its own (so their CPU can be counted),
moto's S3 server, two gunicorn app hosts (2 sync workers each), one photo worker and nginx in
front (tests/cluster/harness.py), then:

* load: ``--shoppers`` shoppers at once through nginx for ``--seconds``, each visit a draft
  (30 answers), ``--photos`` photos (``--photo-size``, 1280x960 JPEG by default) and all 60
  answers submitted; prints throughput, p50/p99 per request kind, errors, and CPU seconds per
  visit of the app hosts, the worker, nginx and PostgreSQL (from /proc), and capacity per core;
* ``--crash``: 200 visits (200 uploads + 200 submissions) by 8 shoppers while app hosts are
  ``kill -9``-ed at seeded random moments and restarted, then what was lost, duplicated or
  left orphaned (before and after ``flask photos gc``).

    .venv/bin/python bench/cluster.py                  # 60 s, 30 shoppers
    .venv/bin/python bench/cluster.py --seconds 20 --crash
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.cluster.harness import (  # noqa: E402
    Cluster,
    MotoS3,
    PrivatePostgres,
    PrivateRedis,
    account,
    missing_components,
    postgres_pids,
    run_load,
    run_visits_with_kills,
    scratch_database,
    seed,
    wait_photos_processed,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--shoppers", type=int, default=30)
    parser.add_argument("--photos", type=int, default=3)
    parser.add_argument(
        "--photo-size", default="1280x960", help="WIDTHxHEIGHT (the PWA sends a 2000 px side)"
    )
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers per host")
    parser.add_argument("--crash", action="store_true", help="also the kill -9 run")
    parser.add_argument("--no-load", action="store_true", help="skip the load run")
    args = parser.parse_args()
    # A SIGTERM (timeout, Ctrl-C's cousin) unwinds too, so every process started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    missing = missing_components()
    if missing:
        print("cannot start the cluster: missing " + "; ".join(missing), file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="auditapp-cluster-") as scratch:
        workdir = Path(scratch)
        postgres = PrivatePostgres(workdir / "pg").start()
        redis = PrivateRedis(workdir / "redis").start()
        s3 = MotoS3(workdir / "moto").start()
        try:
            if not args.no_load:
                load(args, workdir / "load", postgres, redis, s3)
            if args.crash:
                crash(workdir / "crash", postgres, redis, s3)
        finally:
            s3.stop()
            redis.process.stop()
            postgres.remove()
    return 0


def _cluster(
    workdir: Path, database: str, redis: PrivateRedis, s3: MotoS3, web_workers: int = 2
) -> Cluster:
    bucket = f"photos-{uuid.uuid4().hex[:8]}"
    s3.client().create_bucket(Bucket=bucket)
    redis_db = 0
    import redis as redis_client

    redis_client.Redis.from_url(redis.url(redis_db)).flushall()
    return Cluster(
        workdir / "cluster",
        database,
        redis.url(redis_db),
        redis.url(redis_db + 1),
        s3.url,
        bucket,
        web_workers=web_workers,
    ).start()


def load(
    args: argparse.Namespace,
    workdir: Path,
    postgres: PrivatePostgres,
    redis: PrivateRedis,
    s3: MotoS3,
) -> None:
    # Enough open visits for a fast machine: ~1 visit per shopper every 1.5 s at most.
    visits_each = int(args.seconds / 1.5) + 10
    with scratch_database(postgres.base_url()) as database:
        started = time.perf_counter()
        seeded = seed(database, workdir / "seed", args.shoppers, visits_each)
        print(
            f"seeded {args.shoppers} shoppers x {visits_each} visits in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        cluster = _cluster(workdir, database, redis, s3, args.web_workers)
        try:
            report = run_load(
                cluster,
                seeded,
                args.seconds,
                photos_each=args.photos,
                photo_size=tuple(int(n) for n in args.photo_size.split("x")),  # type: ignore[arg-type]
                database_pids=lambda: postgres_pids(postgres.data),
                drain_timeout=1800,
            )
            summary = report.summary()
        finally:
            cluster.stop()
    cpu = summary["cpu_s_per_visit"]
    per_visit = sum(cpu.values())
    requests_per_visit = 2 + args.photos
    summary["cpu_s_per_visit_total"] = round(per_visit, 4)
    summary["cpu_ms_per_request_app_hosts"] = round(cpu["app_hosts"] * 1000 / requests_per_visit, 1)
    summary["visits_per_core_second"] = {
        "app_hosts": round(1 / cpu["app_hosts"], 2) if cpu["app_hosts"] else None,
        "photo_worker": round(1 / cpu["photo_worker"], 2) if cpu["photo_worker"] else None,
        "postgresql": round(1 / cpu["postgresql"], 2) if cpu.get("postgresql") else None,
    }
    print(f"== load: {args.shoppers} shoppers, {args.photos} photos per visit, through nginx")
    print(json.dumps(summary, indent=2, ensure_ascii=False))


def crash(workdir: Path, postgres: PrivatePostgres, redis: PrivateRedis, s3: MotoS3) -> None:
    with scratch_database(postgres.base_url()) as database:
        seeded = seed(database, workdir / "seed", shoppers=8, visits_each=25)
        cluster = _cluster(workdir, database, redis, s3)
        try:
            report = run_visits_with_kills(cluster, seeded, seed_value=14)
            wait_photos_processed(cluster)
            before = account(cluster, s3, report)
            listed = cluster.flask("photos", "gc", "--dry-run", "--grace-minutes", "0")
            cluster.flask("photos", "gc", "--grace-minutes", "0")
            after = account(cluster, s3, report)
        finally:
            cluster.stop()
    print("== crash: 200 visits (upload + submit), app hosts kill -9-ed at seeded moments")
    print(
        json.dumps(
            {
                "kills": len(report.kills),
                "seconds": round(report.seconds, 1),
                "client_retries": report.retries,
                "answers": report.statuses,
                "accounting_before_gc": before,
                "gc_dry_run": listed.stderr.strip(),
                "accounting_after_gc": after,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
