"""CSV import of branches and staff: the way a real network of hundreds of branches is loaded.

All or nothing: every row is checked first and every problem is reported by row and column
(row 1 is the header, as a spreadsheet shows it); a file with any problem imports nothing.
Rows are upserted by code, so importing the same file twice changes nothing the second time.
Excel habits are accepted: a UTF-8 byte-order mark and ``;`` as the separator.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from auditapp.domain.network import CODE_PATTERN, CODE_RULE, timezone_problem
from auditapp.domain.vocabulary import BRANCH_KINDS
from auditapp.extensions import db
from auditapp.models import Branch, Region, StaffMember
from auditapp.services.errors import Invalid
from auditapp.services.network import place_staff
from auditapp.services.transactions import commit

# The same rules as the API's (auditapp/domain/network.py), as the row schemas' validators.
CODE = validate.Regexp(CODE_PATTERN, error=CODE_RULE)


def check_timezone(value: str) -> None:
    """An IANA time zone name such as Europe/Moscow."""
    problem = timezone_problem(value)
    if problem is not None:
        raise ValidationError(problem)


@dataclass
class ImportResult:
    """Counts of what an import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)


class _BranchRow(Schema):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(BRANCH_KINDS))
    region_code = fields.String(required=True, validate=CODE)
    region_name = fields.String(load_default=None)
    city = fields.String(required=True, validate=validate.Length(min=1, max=120))
    address = fields.String(load_default="", validate=validate.Length(max=300))
    timezone = fields.String(load_default="Europe/Moscow", validate=check_timezone)
    latitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))
    active = fields.Boolean(load_default=True)


class _StaffRow(Schema):
    employee_code = fields.String(required=True, validate=CODE)
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    position = fields.String(required=True, validate=validate.Length(min=1, max=60))
    branch_code = fields.String(required=True)
    hired_on = fields.Date(required=True)
    left_on = fields.Date(load_default=None, allow_none=True)
    moved_on = fields.Date(load_default=None, allow_none=True)


def _read_rows(
    text: str, schema: Schema, max_rows: int
) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]:
    """Parse and validate every row; problems are ``{"row", "column", "message"}``."""
    text = text.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    problems: list[dict[str, Any]] = []
    header = [name.strip() for name in (reader.fieldnames or [])]
    known = set(schema.fields)
    required = {name for name, f in schema.fields.items() if f.required}
    for column in sorted(required - set(header)):
        problems.append({"row": 1, "column": column, "message": "Missing column."})
    for column in header:
        if column not in known:
            problems.append({"row": 1, "column": column, "message": "Unknown column."})
    if problems:
        return [], problems
    rows: list[tuple[int, dict[str, Any]]] = []
    for index, raw in enumerate(reader, start=2):
        if index - 1 > max_rows:
            problems.append(
                {"row": index, "column": None, "message": f"More than {max_rows} rows."}
            )
            break
        if None in raw:
            problems.append({"row": index, "column": None, "message": "Too many values in row."})
            continue
        cleaned = {
            key.strip(): value.strip()
            for key, value in raw.items()
            if value is not None and value.strip() != ""
        }
        if not cleaned:
            continue  # blank line
        try:
            rows.append((index, schema.load(cleaned)))
        except ValidationError as error:
            for column, messages in sorted(error.normalized_messages().items()):
                for message in messages if isinstance(messages, list) else [messages]:
                    problems.append({"row": index, "column": column, "message": str(message)})
    if not rows and not problems:
        problems.append({"row": 2, "column": None, "message": "The file has no data rows."})
    return rows, problems


def _duplicates(rows: list[tuple[int, dict[str, Any]]], key: str) -> list[dict[str, Any]]:
    seen: dict[str, int] = {}
    problems = []
    for row_number, row in rows:
        if row[key] in seen:
            problems.append(
                {
                    "row": row_number,
                    "column": key,
                    "message": f"Duplicate of row {seen[row[key]]}.",
                }
            )
        seen.setdefault(row[key], row_number)
    return problems


def _fail(problems: list[dict[str, Any]]) -> Invalid:
    lines = [
        f"row {p['row']}" + (f", column {p['column']}" if p["column"] else "") + f": {p['message']}"
        for p in problems
    ]
    return Invalid(
        f"The file has {len(problems)} problem(s); nothing was imported.",
        fields={"rows": problems, "summary": lines[:50]},
        code="import_failed",
    )


def import_branches(text: str, max_rows: int) -> ImportResult:
    """Create or update branches (and regions named with ``region_name``) from CSV text."""
    rows, problems = _read_rows(text, _BranchRow(), max_rows)
    problems += _duplicates(rows, "code")
    regions = {r.code: r for r in db.session.execute(select(Region)).scalars()}
    for row_number, row in rows:
        code = row["region_code"]
        if code not in regions and not row.get("region_name"):
            problems.append(
                {
                    "row": row_number,
                    "column": "region_code",
                    "message": f"Unknown region {code!r}; add region_name to create it.",
                }
            )
    if problems:
        raise _fail(problems)
    result = ImportResult()
    existing = {b.code: b for b in db.session.execute(select(Branch)).scalars()}
    for _, row in rows:
        region = regions.get(row["region_code"])
        if region is None:
            region = Region(code=row["region_code"], name=row["region_name"])
            db.session.add(region)
            regions[region.code] = region
        values = {k: v for k, v in row.items() if k not in ("region_code", "region_name")}
        branch = existing.get(row["code"])
        if branch is None:
            db.session.add(Branch(region=region, **values))
            result.created += 1
            continue
        changed = branch.region is not region or any(
            getattr(branch, k) != v for k, v in values.items()
        )
        branch.region = region
        for name, value in values.items():
            setattr(branch, name, value)
        result.updated += changed
        result.unchanged += not changed
    commit()
    return result


def import_staff(text: str, max_rows: int, today: date) -> ImportResult:
    """Create or update staff; a new ``branch_code`` moves the person (from ``moved_on``)."""
    rows, problems = _read_rows(text, _StaffRow(), max_rows)
    problems += _duplicates(rows, "employee_code")
    branches = {b.code: b for b in db.session.execute(select(Branch)).scalars()}
    for row_number, row in rows:
        if row["branch_code"] not in branches:
            problems.append(
                {
                    "row": row_number,
                    "column": "branch_code",
                    "message": f"Unknown branch {row['branch_code']!r}.",
                }
            )
        if row["left_on"] is not None and row["left_on"] < row["hired_on"]:
            problems.append({"row": row_number, "column": "left_on", "message": "Before hired_on."})
    if problems:
        raise _fail(problems)
    result = ImportResult()
    everyone = select(StaffMember).options(selectinload(StaffMember.placements))
    existing = {s.employee_code: s for s in db.session.execute(everyone).scalars()}
    for row_number, row in rows:
        branch = branches[row["branch_code"]]
        staff = existing.get(row["employee_code"])
        if staff is None:
            staff = StaffMember(
                employee_code=row["employee_code"],
                full_name=row["full_name"],
                position=row["position"],
                hired_on=row["hired_on"],
                left_on=row["left_on"],
            )
            place_staff(staff, branch, row["hired_on"])
            staff.placements[-1].ended_on = row["left_on"]
            db.session.add(staff)
            result.created += 1
            continue
        changed = False
        for name in ("full_name", "position", "hired_on"):
            if getattr(staff, name) != row[name]:
                setattr(staff, name, row[name])
                changed = True
        current = next((p for p in staff.placements if p.ended_on is None), None)
        if current is not None and current.branch_id != branch.id:
            try:
                place_staff(staff, branch, row["moved_on"] or today, row["position"])
            except Invalid as error:
                problem = {"row": row_number, "column": "moved_on", "message": error.message}
                raise _fail([problem]) from error
            changed = True
        if row["left_on"] != staff.left_on:
            staff.left_on = row["left_on"]
            if current is not None and row["left_on"] is not None:
                for placement in staff.placements:
                    if placement.ended_on is None:
                        placement.ended_on = row["left_on"]
            changed = True
        result.updated += changed
        result.unchanged += not changed
    commit()
    return result
