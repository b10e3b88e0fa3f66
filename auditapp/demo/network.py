"""The demo network, loaded the way a real one is: checklists from ``checklists/``, branches and
staff from CSV files through the import services, accounts through the user service. Staff
changes (new hires, moves between branches, leavers) are imported on the day they happen.

``plan_network`` only decides (it touches no database), so the activity can know the network
before it exists; the other functions load what was decided.
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from auditapp.demo.vocabulary import KIND_NAMES, POSITIONS, REGIONS, STREETS, russian_name
from auditapp.extensions import db
from auditapp.models import Branch, ChecklistVersion, Region, StaffMember, User
from auditapp.services import checklists, imports, users

# Branch kinds by branch number within a region: four stores, three restaurants, two hotels
# and a service centre.
KINDS = ["store"] * 4 + ["restaurant"] * 3 + ["hotel"] * 2 + ["service_centre"]
BRANCH_COLUMNS = (
    "code",
    "name",
    "kind",
    "region_code",
    "region_name",
    "city",
    "address",
    "timezone",
    "latitude",
    "longitude",
    "active",
)
STAFF_COLUMNS = (
    "employee_code",
    "full_name",
    "position",
    "branch_code",
    "hired_on",
    "left_on",
    "moved_on",
)


@dataclass(frozen=True)
class DemoLogin:
    """A demo user's credentials, printed for whoever runs the demo."""

    login: str
    password: str
    role: str
    scope: str


@dataclass
class PlannedStaff:
    """One employee's working life: hired at a branch, perhaps moved once, perhaps left."""

    code: str
    full_name: str
    position: str
    kind: str
    branch_code: str
    hired_on: date
    moved_on: date | None = None
    moved_to: str | None = None
    left_on: date | None = None


@dataclass
class NetworkPlan:
    """The branches (as CSV rows) and the staff of the demo network."""

    branches: list[dict[str, Any]] = field(default_factory=list)
    staff: list[PlannedStaff] = field(default_factory=list)


def checklist_folder() -> Path:
    """The folder of the checklist files the demo imports (the checkout's or the wheel's)."""
    from auditapp.resources import checklists_dir

    return checklists_dir()


def import_checklists() -> list[ChecklistVersion]:
    """Import every ``checklists/*.yaml`` (unchanged files are left alone), in name order."""
    versions = []
    for path in sorted(checklist_folder().glob("*.yaml")):
        text = path.read_text(encoding="utf-8-sig")
        outcome = checklists.import_checklist(text, f"checklists/{path.name}")
        versions.append(db.session.get_one(ChecklistVersion, outcome.id))
    return versions


def plan_network(today: date, rng: random.Random) -> NetworkPlan:
    """Three regions of ten branches each, their staff, a dozen moves and a few leavers."""
    plan = NetworkPlan()
    for region_code, region_name, cities, tz in REGIONS:
        for number in range(10):
            kind = KINDS[number]
            city, lat, lon = cities[number % len(cities)]
            plan.branches.append(
                {
                    "code": f"{region_code}-{number + 1:02d}",
                    "name": f"{rng.choice(KIND_NAMES[kind])} — {city}",
                    "kind": kind,
                    "region_code": region_code,
                    "region_name": region_name,
                    "city": city,
                    "address": f"{city}, {rng.choice(STREETS)}, д. {rng.randint(1, 120)}",
                    "timezone": tz,
                    "latitude": round(lat + rng.uniform(-0.05, 0.05), 5),
                    "longitude": round(lon + rng.uniform(-0.05, 0.05), 5),
                    "active": not (number == 9 and region_code == "URL"),
                }
            )
    number = 1000
    for branch in plan.branches:
        for position in POSITIONS[branch["kind"]]:
            number += 1
            plan.staff.append(
                PlannedStaff(
                    code=f"E{number}",
                    full_name=russian_name(rng),
                    position=position,
                    kind=branch["kind"],
                    branch_code=branch["code"],
                    hired_on=today - timedelta(days=rng.randint(60, 2500)),
                )
            )
    # A few people moved between branches of the same kind: their history shows it.
    for member in rng.sample(plan.staff, 12):
        peers = [
            b["code"]
            for b in plan.branches
            if b["kind"] == member.kind and b["code"] != member.branch_code
        ]
        member.moved_on = member.hired_on + (today - member.hired_on) // 2
        member.moved_to = rng.choice(peers)
    # Some left.
    for member in rng.sample(plan.staff, 6):
        left = today - timedelta(days=rng.randint(5, 50))
        if left > (member.moved_on or member.hired_on):
            member.left_on = left
    return plan


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    """CSV text as an HR system exports it (a header, then one line per row)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: "" if row.get(name) is None else row[name] for name in columns})
    return out.getvalue()


def import_branches(plan: NetworkPlan) -> None:
    """Regions and branches, from one CSV file."""
    rows = [{**b, "active": "true" if b["active"] else "false"} for b in plan.branches]
    imports.import_branches(_csv(BRANCH_COLUMNS, rows), len(rows))


def staff_changes(plan: NetworkPlan, first_day: date) -> list[tuple[date, list[dict[str, Any]]]]:
    """Staff CSV files in the order HR imports them: everyone already employed on
    ``first_day`` that day, then their moves so far; later hires, moves and leavers on their
    own day. Hires, moves and leavers of one day are separate files (one row per person)."""
    changes: dict[tuple[date, int], dict[str, dict[str, Any]]] = defaultdict(dict)
    for member in plan.staff:
        row = {
            "employee_code": member.code,
            "full_name": member.full_name,
            "position": member.position,
            "branch_code": member.branch_code,
            "hired_on": member.hired_on.isoformat(),
        }
        changes[(max(first_day, member.hired_on), 0)][member.code] = dict(row)
        if member.moved_on is not None and member.moved_to is not None:
            row["branch_code"] = member.moved_to
            row["moved_on"] = member.moved_on.isoformat()
            # A move dated before the first import is history, imported with the hires.
            changes[(max(first_day, member.moved_on), 1)][member.code] = dict(row)
        if member.left_on is not None:
            row.pop("moved_on", None)
            row["left_on"] = member.left_on.isoformat()
            changes[(max(first_day, member.left_on), 2)][member.code] = row
    return [(day, list(rows.values())) for (day, _), rows in sorted(changes.items())]


def import_staff(rows: list[dict[str, Any]], today: date) -> None:
    """One HR import of staff rows (new people, moves, leavers)."""
    imports.import_staff(_csv(STAFF_COLUMNS, rows), len(rows), today)


def create_users(plan: NetworkPlan, today: date) -> list[DemoLogin]:
    """An account for every role, bound to what it may see; returns the credentials."""
    regions = {r.code: r.id for r in db.session.execute(select(Region)).scalars()}
    branches = {b.code: b.id for b in db.session.execute(select(Branch)).scalars()}
    # The employee account belongs to someone who stays at MSK-01 all year.
    employee = next(
        m
        for m in plan.staff
        if m.branch_code == "MSK-01"
        and m.moved_on is None
        and m.left_on is None
        and m.hired_on <= today
    )
    employee_id = db.session.execute(
        select(StaffMember.id).where(StaffMember.employee_code == employee.code)
    ).scalar_one()
    accounts: list[tuple[str, str, str, str, dict[str, Any]]] = [
        ("admin", "Администратор HQ", "admin", "вся сеть / whole network", {}),
        ("reviewer", "Контролёр качества", "reviewer", "вся сеть / whole network", {}),
        (
            "director.msk",
            "Директор региона Москва",
            "director",
            "MSK",
            {"region_ids": [regions["MSK"]]},
        ),
        (
            "director.nw",
            "Директор региона Северо-Запад",
            "director",
            "NW",
            {"region_ids": [regions["NW"]]},
        ),
        (
            "manager.msk01",
            "Управляющий MSK-01",
            "manager",
            "MSK-01",
            {"branch_ids": [branches["MSK-01"]]},
        ),
        (
            "manager.nw05",
            "Управляющий NW-05",
            "manager",
            "NW-05",
            {"branch_ids": [branches["NW-05"]]},
        ),
    ]
    accounts += [
        (f"shopper{n}", f"Тайный покупатель {n}", "shopper", "свои визиты", {}) for n in range(1, 6)
    ]
    accounts.append(
        (
            "employee",
            employee.full_name,
            "employee",
            employee.code,
            {"staff_member_id": employee_id},
        )
    )
    logins = []
    for login, name, role, scope, bindings in accounts:
        password = f"{login}-demo-2026"
        users.create_user(
            users.NewUser(
                login=login,
                display_name=name,
                role=role,
                password=password,
                email=None,
                locale="ru",
                active=True,
                region_ids=bindings.get("region_ids", []),
                branch_ids=bindings.get("branch_ids", []),
                staff_member_id=bindings.get("staff_member_id"),
            )
        )
        logins.append(DemoLogin(login, password, role, scope))
    return logins


def users_by_login() -> dict[str, User]:
    """Every account, by login."""
    return {u.login: u for u in db.session.execute(select(User)).scalars()}
