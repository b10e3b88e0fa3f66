"""Benchmark staff attestation: the sheets of every employee for a year on the ratings bench data.

Full scale: the ratings bench network (5,000 branches, 50 regions, 1,000,000 released audits over
24 months) with 4 employees per branch (20,000), one in ten moving to another branch on 1 July,
and every audit naming one employee of its branch as served (barista). ``--scale 0.1`` for a
tenth (branches, audits and employees alike). Everything is generated from ``--seed``.

Steps, each timed and printed:

1. bulk load (the ratings bench loader, then staff, placements and the staff served);
2. ``ratings rebuild`` (fills ``rating_audit``, which attestation reads for visit days);
3. ``compute_sheets`` of every employee for the calendar year 2025 (the open-period read),
   median of ``--repeat`` runs;
4. closing the period (compute and store every sheet), once.

Run from the repository root::

    .venv/bin/python bench/attestation.py --scale 0.05
    .venv/bin/python bench/attestation.py --scale 0.05 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Nothing is asserted about time; figures are printed. Target (issue 9): 20,000 employees in under
60 s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from auditapp import create_app  # noqa: E402 - after making the package importable
from auditapp.extensions import db  # noqa: E402
from bench.ratings import (  # noqa: E402
    FULL_AUDITS,
    FULL_BRANCHES,
    FULL_REGIONS,
    MONTHS,
    bench_database,
    generate,
    load_audits,
    load_network,
    loaded,
    rebuilt,
)
from tests.support import app_config  # noqa: E402

STAFF_PER_BRANCH = 4
MOVERS = 0.1  # share of employees who move to another branch on 1 July 2025
YEAR = 2025


def load_staff(branch_ids: list[int], seed: int) -> int:
    """Employees, their placements (movers change branch on 1 July) and, for every audit, one
    employee of its branch named as the barista who served. Returns the number of employees."""
    from auditapp.models import Audit, AuditStaff, StaffMember, StaffPlacement

    rng = random.Random(seed)
    now = datetime.now(UTC)
    members = []
    for index, _ in enumerate(branch_ids * STAFF_PER_BRANCH):
        members.append(
            {
                "employee_code": f"E{index:06d}",
                "full_name": f"Сотрудник {index}",
                "position": "barista",
                "hired_on": date(2023, 1, 1),
                "left_on": None,
                "created_at": now,
            }
        )
    for start in range(0, len(members), 5000):
        db.session.execute(sa.insert(StaffMember), members[start : start + 5000])
    db.session.commit()
    staff_ids = list(
        db.session.execute(sa.select(StaffMember.id).order_by(StaffMember.id)).scalars()
    )
    home = {staff: branch_ids[i % len(branch_ids)] for i, staff in enumerate(staff_ids)}
    placements = []
    for staff, branch in home.items():
        if rng.random() < MOVERS:
            other = branch_ids[rng.randrange(len(branch_ids))]
            placements.append(
                {
                    "staff_member_id": staff,
                    "branch_id": branch,
                    "position": "barista",
                    "started_on": date(2023, 1, 1),
                    "ended_on": date(YEAR, 6, 30),
                }
            )
            placements.append(
                {
                    "staff_member_id": staff,
                    "branch_id": other,
                    "position": "barista",
                    "started_on": date(YEAR, 7, 1),
                    "ended_on": None,
                }
            )
        else:
            placements.append(
                {
                    "staff_member_id": staff,
                    "branch_id": branch,
                    "position": "barista",
                    "started_on": date(2023, 1, 1),
                    "ended_on": None,
                }
            )
    for start in range(0, len(placements), 5000):
        db.session.execute(sa.insert(StaffPlacement), placements[start : start + 5000])
    by_branch: dict[int, list[int]] = {}
    for staff, branch in home.items():
        by_branch.setdefault(branch, []).append(staff)
    served = [
        {
            "audit_id": audit_id,
            "staff_role": "barista",
            "staff_member_id": rng.choice(by_branch[branch_id]),
            "description": "",
        }
        for audit_id, branch_id in db.session.execute(
            sa.select(Audit.id, Audit.branch_id).order_by(Audit.id)
        )
    ]
    for start in range(0, len(served), 5000):
        db.session.execute(sa.insert(AuditStaff), served[start : start + 5000])
    db.session.commit()
    return len(staff_ids)


def main() -> None:
    """Generate, load, rebuild, time the sheets, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None, help="PostgreSQL base URL (default SQLite)")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full data set")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="runs of the sheet computation")
    parser.add_argument(
        "--keep",
        default=None,
        help="keep the data (SQLite: this file; PostgreSQL: this schema) and reuse it when loaded",
    )
    options = parser.parse_args()
    branches = max(20, round(FULL_BRANCHES * options.scale))
    regions = max(2, min(FULL_REGIONS, round(FULL_REGIONS * options.scale * 4)))
    audits = max(200, round(FULL_AUDITS * options.scale))
    print(f"Python {platform.python_version()}, {platform.machine()}, seed {options.seed}")
    with (
        tempfile.TemporaryDirectory() as tmp,
        bench_database(options.database_url, options.keep, Path(tmp)) as (url, description),
    ):
        print(f"Database: {description}")
        app = create_app(app_config(url, Path(tmp)))
        with app.app_context():
            from flask_migrate import upgrade

            from auditapp.models import User
            from auditapp.services import attestation
            from auditapp.services import ratings as rating_service

            upgrade()
            if options.keep and loaded():
                print("1. data already loaded (kept database): load skipped")
                if not rebuilt():
                    started = time.perf_counter()
                    rating_service.rebuild()
                    print(f"2. ratings rebuild: {time.perf_counter() - started:.1f} s", flush=True)
            else:
                started = time.perf_counter()
                dataset = generate(branches, regions, audits, MONTHS, options.seed)
                version_id, _, branch_ids, _ = load_network(dataset)
                load_audits(dataset, version_id, branch_ids)
                del dataset
                employees = load_staff(branch_ids, options.seed)
                print(
                    f"Data: {branches} branches, {regions} regions, {audits} released audits "
                    f"over 24 months, {employees} employees ({MOVERS:.0%} move on 1 July {YEAR})"
                )
                print(f"1. bulk load: {time.perf_counter() - started:.1f} s", flush=True)
                started = time.perf_counter()
                rating_service.rebuild()
                print(f"2. ratings rebuild: {time.perf_counter() - started:.1f} s", flush=True)
            admin = db.session.execute(sa.select(User).where(User.login == "admin")).scalar_one()
            rules = attestation.create_rule_set_version(
                admin,
                attestation.RuleSetCommand(
                    "staff",
                    "Аттестация",
                    {"weights": {"individual": 50, "collective": 30, "internal": 20}},
                ),
            )
            runs = db.session.execute(
                sa.select(sa.func.count()).select_from(attestation.AttestationPeriod)
            ).scalar_one()
            period = attestation.create_period(
                admin, attestation.PeriodCommand(f"{YEAR} ({runs + 1})", rules.id, year=YEAR)
            )
            samples = []
            for _ in range(options.repeat):
                db.session.expire_all()
                started = time.perf_counter()
                sheets = attestation.compute_sheets(period)
                samples.append(time.perf_counter() - started)
            graded = sum(1 for s in sheets.values() if s["status"] == "graded")
            sufficient = sum(1 for s in sheets.values() if s["sufficient_evidence"])
            print(
                f"3. sheets of {len(sheets)} employees for {YEAR}: median "
                f"{statistics.median(samples):.1f} s of {options.repeat} "
                f"(min {min(samples):.1f}, max {max(samples):.1f}); "
                f"{graded} graded, {sufficient} with sufficient individual evidence",
                flush=True,
            )
            started = time.perf_counter()
            attestation.close_period(admin, period.id, period.version)
            print(
                f"4. close the period (compute + store every sheet): "
                f"{time.perf_counter() - started:.1f} s"
            )
            db.session.remove()


if __name__ == "__main__":
    main()
