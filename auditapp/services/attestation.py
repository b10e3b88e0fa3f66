"""Staff attestation: rule set versions, periods, internal scores, sheets, responses, overdue
staff, leaderboards and awards.

Sheets of an open period are computed when read, from the released audits visited in the
period (``rating_audit`` holds each released audit's branch-local visit day), the staff
placements and the latest internal score; the arithmetic is ``auditapp.domain.attestation``.
Closing a period computes every sheet once and stores it (``AttestationSheet``): a closed
period is read from those rows only, so later disputes, moves or rule versions never change it.

Scope goes through ``auditapp.access``: an employee reaches exactly their own sheets, a manager
the sheets of staff placed in their branches during the period, a director those of their
regions, HQ everything. Out of scope is "not found".
"""

from __future__ import annotations

import csv
import io
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NotRequired, TypedDict, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    and_,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    true,
    type_coerce,
)

from auditapp import access, clock, visibility
from auditapp.domain import attestation as rules_arith
from auditapp.domain.attestation import (
    AttributedItem,
    BranchRating,
    Evidence,
    Placement,
    RuleSet,
    RuleSetError,
)
from auditapp.domain.checklist import localize
from auditapp.domain.ratings import DEFAULT_MIN_VISITS, add_months, competition_ranks
from auditapp.extensions import db
from auditapp.models import (
    AttestationPeriod,
    AttestationRuleSet,
    AttestationSheet,
    Audit,
    AuditPhoto,
    AuditStaff,
    Award,
    Branch,
    ChecklistVersion,
    InternalScore,
    RatingAudit,
    RatingItemRollup,
    Region,
    SheetResponse,
    StaffMember,
    StaffPlacement,
    User,
)
from auditapp.services.checklists import checklist_of
from auditapp.services.errors import Conflict, Invalid, NotFound
from auditapp.services.pagination import Page, paginate
from auditapp.services.transactions import Clash, commit

HQ_WRITERS = ("admin",)
# "Every active employee must be attested at least once a year."
ATTESTATION_INTERVAL = timedelta(days=365)


# Commands ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSetCommand:
    """A new rule set version: ``code`` names the rule set, ``rules`` is the document."""

    code: str
    name: str
    rules: dict[str, Any]


@dataclass(frozen=True)
class PeriodCommand:
    """A new attestation period: whole months, default the calendar year ``year``."""

    name: str
    rule_set_id: int
    year: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None


@dataclass(frozen=True)
class AwardCommand:
    """An award for a branch or an employee in a period."""

    kind: str
    title: str
    note: str = ""
    branch_id: int | None = None
    staff_member_id: int | None = None


@dataclass(frozen=True)
class InternalScoreEntry:
    """An internal score (0-100) and why; ``request_id`` (made by the client once per entry
    it means to make) makes a retry idempotent."""

    score: float
    reason: str
    request_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ObjectionAnswer:
    """The answer to an objection, with the version of the objection the answerer read."""

    answer: str
    version: int


@dataclass(frozen=True)
class SheetFilters(Page):
    """Which sheets of a period to list: ``branch_id``, only the staff placed there."""

    branch_id: int | None = None


@dataclass(frozen=True)
class ObjectionFilters(Page):
    """Which objections to list: ``unanswered``, only those waiting for an answer."""

    unanswered: bool = False


# Results: the JSON a sheet is stored as and served in, and the lists -----------------------


class BranchRef(TypedDict):
    """A branch named on a sheet or a board."""

    id: int
    code: str
    name: str


class RegionRef(TypedDict):
    """A region named on a board."""

    id: int
    code: str
    name: str


class StaffRef(TypedDict):
    """The employee a sheet, objection or board entry is about."""

    id: int
    employee_code: str
    full_name: str
    position: str


class RuleSetRef(TypedDict):
    """The rule set version a sheet was computed under."""

    id: int
    code: str
    version: int
    name: str


class GradeJson(TypedDict):
    """A sheet's grade."""

    code: str
    label_ru: str
    label_en: str


class InternalEntryJson(TypedDict):
    """The internal score a sheet counted (the latest entry)."""

    score: float
    reason: str
    entered_by: str
    entered_at: str


class ComponentBranch(BranchRef):
    """A branch the collective component counted: days placed there, its mean score."""

    days: int
    mean: float | None


class ComponentJson(TypedDict):
    """One component of a sheet, with its weights, score, status and what it counted."""

    component: str
    name_ru: str
    name_en: str
    external: bool
    weight: float
    effective_weight: float
    score: float | None
    status: str
    note_ru: str
    note_en: str
    audits: int
    earned: float
    possible: float
    branches: list[ComponentBranch]
    internal: InternalEntryJson | None


class EvidenceRow(TypedDict):
    """One audit item attributed to the employee; ``branch`` once the branches are read,
    ``photo_ids`` (those the reader may see) when served."""

    audit_id: int
    visit_date: str
    branch_id: int
    staff_role: str
    item_id: str
    item_text: str
    clause: str
    earned: float
    possible: float
    branch: NotRequired[BranchRef]
    photo_ids: NotRequired[list[int]]


class SheetJson(TypedDict):
    """A sheet as a closed period stores it (and an open one computes it)."""

    staff_member: StaffRef
    rule_set: RuleSetRef
    status: str
    points: float | None
    grade: GradeJson | None
    external_share: float | None
    sufficient_evidence: bool
    formula_ru: str
    formula_en: str
    components: list[ComponentJson]
    evidence: list[EvidenceRow]
    audit_ids: list[int]


class SheetResult(SheetJson):
    """A whole sheet read for files: when it was frozen (a closed period) and its state."""

    frozen_at: NotRequired[datetime | None]
    state: NotRequired[str]


class PeriodRef(TypedDict):
    """The period a sheet or a list belongs to."""

    id: int
    name: str
    starts_on: date
    ends_on: date
    status: str


class ResponseJson(TypedDict):
    """An acknowledgement or objection, and the answer to an objection."""

    id: int
    kind: str
    comment: str
    at: datetime
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None
    version: int


class ObjectionJson(ResponseJson):
    """An objection with whose sheet it is about."""

    period_id: int
    staff_member: StaffRef


class SheetView(SheetJson):
    """One sheet as served: with its period, freezing time, state and responses."""

    period: PeriodRef
    frozen_at: datetime | None
    state: str
    responses: list[ResponseJson]


class SheetSummary(TypedDict):
    """A sheet in a list."""

    staff_member: StaffRef
    status: str
    points: float | None
    grade: GradeJson | None
    sufficient_evidence: bool
    state: str


class SheetPage(TypedDict):
    """A page of sheet summaries of a period."""

    items: list[SheetSummary]
    total: int
    page: int
    per_page: int
    period: PeriodRef


class SheetResultPage(TypedDict):
    """A page of whole sheets of a period (for files)."""

    items: list[SheetResult]
    total: int
    page: int
    per_page: int
    period: PeriodRef


class ObjectionPage(TypedDict):
    """A page of objections."""

    items: list[ObjectionJson]
    total: int
    page: int
    per_page: int


class OverdueEntry(TypedDict):
    """An employee due for attestation, and since when."""

    staff_member: StaffRef
    hired_on: date
    last_attested_on: date | None
    due_since: date


class OverduePage(TypedDict):
    """A page of overdue employees."""

    items: list[OverdueEntry]
    total: int
    page: int
    per_page: int


class BranchEntry(TypedDict):
    """A branch on a board: rank among all, the value (mean or change) and audits."""

    rank: int
    branch: BranchRef
    region: RegionRef
    value: float
    audits: int


class RegionBoard(TypedDict):
    """The top branches of one region."""

    region: RegionRef
    branches: list[BranchEntry]


class EmployeeEntry(TypedDict):
    """An employee on the board: rank among all, points and grade."""

    rank: int
    staff_member: StaffRef
    points: float
    grade: GradeJson | None


class StandardMet(TypedDict):
    """A standard (checklist item and clause) and how often it was met."""

    checklist: str
    item_id: str
    clause: str
    audits: int
    pass_rate: float


class Leaderboards(TypedDict):
    """The period's boards."""

    period: PeriodRef
    top_branches: list[BranchEntry]
    regions: list[RegionBoard]
    most_improved: list[BranchEntry]
    top_employees: list[EmployeeEntry]
    standards: list[StandardMet]


def _staff_ref(member: StaffMember) -> StaffRef:
    return {
        "id": member.id,
        "employee_code": member.employee_code,
        "full_name": member.full_name,
        "position": member.position,
    }


# Rule sets ---------------------------------------------------------------------------------


def list_rule_sets(page: Page) -> dict[str, Any]:
    """Every rule set version, newest version of each code first."""
    query = select(AttestationRuleSet).order_by(
        AttestationRuleSet.code, AttestationRuleSet.version.desc()
    )
    return paginate(query, page.page, page.per_page)


def get_rule_set(rule_set_id: int) -> AttestationRuleSet:
    """One rule set version."""
    row = db.session.get(AttestationRuleSet, rule_set_id)
    if row is None:
        raise NotFound("No such rule set.")
    return row


def rule_set_of(row: AttestationRuleSet) -> RuleSet:
    """The domain rule set of a stored version (stored documents were validated)."""
    return rules_arith.parse_rule_set(row.rules)


def create_rule_set_version(user: User, command: RuleSetCommand) -> AttestationRuleSet:
    """Validate ``command.rules`` and store it as the next version of ``command.code``.

    Versions are never edited: periods keep pointing at the version they were made with.
    """
    try:
        parsed = rules_arith.parse_rule_set(command.rules)
    except RuleSetError as error:
        raise Invalid(
            "The rule set breaks a rule.",
            fields={f"rules.{key}": value for key, value in error.fields.items()},
        ) from None
    latest = db.session.execute(
        select(func.max(AttestationRuleSet.version)).where(AttestationRuleSet.code == command.code)
    ).scalar_one()
    row = AttestationRuleSet(
        code=command.code,
        version=(latest or 0) + 1,
        name=command.name,
        rules=parsed.to_dict(),
        created_by_id=user.id,
    )
    db.session.add(row)
    commit(Conflict("Another version of this rule set was saved at the same time."))
    return row


# Periods -----------------------------------------------------------------------------------


def _month_end(day: date) -> date:
    return add_months(day.replace(day=1), 1) - timedelta(days=1)


def list_periods(page: Page) -> dict[str, Any]:
    """Every attestation period, latest first (periods themselves are not secret)."""
    query = select(AttestationPeriod).order_by(
        AttestationPeriod.starts_on.desc(), AttestationPeriod.id.desc()
    )
    return paginate(query, page.page, page.per_page)


def get_period(period_id: int) -> AttestationPeriod:
    """One period."""
    period = db.session.get(AttestationPeriod, period_id)
    if period is None:
        raise NotFound("No such attestation period.")
    return period


def create_period(user: User, command: PeriodCommand) -> AttestationPeriod:
    """Open a period of whole months (default: the calendar year ``command.year``, or the
    current year by the app's clock) under a rule set version."""
    get_rule_set(command.rule_set_id)
    if command.starts_on is None and command.ends_on is None:
        year = command.year or clock.now().year
        starts_on, ends_on = rules_arith.calendar_year(year)
    elif command.starts_on is not None and command.ends_on is not None:
        starts_on, ends_on = command.starts_on, command.ends_on
    else:
        raise Invalid(
            "Give both dates, or neither for a calendar year.",
            fields={"ends_on" if command.ends_on is None else "starts_on": ["Missing."]},
        )
    problems: dict[str, list[str]] = {}
    if starts_on.day != 1:
        problems["starts_on"] = ["A period starts on the first day of a month."]
    if ends_on != _month_end(ends_on):
        problems["ends_on"] = ["A period ends on the last day of a month."]
    if not problems and ends_on < starts_on:
        problems["ends_on"] = ["The period ends before it starts."]
    if not problems and add_months(starts_on, 24) <= ends_on:
        problems["ends_on"] = ["A period is at most 24 months."]
    if problems:
        raise Invalid("The period's dates are not whole months.", fields=problems)
    period = AttestationPeriod(
        name=command.name,
        starts_on=starts_on,
        ends_on=ends_on,
        rule_set_id=command.rule_set_id,
        created_by_id=user.id,
    )
    db.session.add(period)
    commit()
    return period


def set_period_rule_set(
    user: User, period_id: int, rule_set_id: int, version: int
) -> AttestationPeriod:
    """Point an open period at another rule set version (a closed period never changes)."""
    period = get_period(period_id)
    _check_version(period.version, version)
    if period.status != "open":
        raise Conflict("The period is closed: its sheets are frozen.")
    get_rule_set(rule_set_id)
    period.rule_set_id = rule_set_id
    commit(_changed_meanwhile())
    return period


def close_period(user: User, period_id: int, version: int) -> AttestationPeriod:
    """Close a period: compute every sheet once and store it with the rule version and the
    audits used. From now on the period is read from these rows only."""
    period = get_period(period_id)
    _check_version(period.version, version)
    if period.status != "open":
        raise Conflict("The period is already closed.")
    sheets = compute_sheets(period)
    frozen_at = clock.now()
    rows = [
        {
            "period_id": period.id,
            "staff_member_id": staff_id,
            "rule_set_id": period.rule_set_id,
            "status": result["status"],
            "points": result["points"],
            "grade_code": result["grade"]["code"] if result["grade"] else None,
            "sufficient_evidence": result["sufficient_evidence"],
            "audit_ids": result["audit_ids"],
            "result": result,
            "frozen_at": frozen_at,
        }
        for staff_id, result in sorted(sheets.items())
    ]
    for start in range(0, len(rows), 1000):
        db.session.execute(insert(AttestationSheet), rows[start : start + 1000])
    period.status = "closed"
    period.closed_at = frozen_at
    period.closed_by_id = user.id
    commit(_changed_meanwhile())
    return period


def _check_version(current: int, given: int) -> None:
    if current != given:
        raise Conflict(
            "Changed by someone else since you read it.", fields={"version": [f"Now {current}."]}
        )


def _changed_meanwhile() -> Conflict:
    """What a commit that lost to a concurrent change answers."""
    return Conflict("Changed by someone else at the same time; read it again.")


# Who is attested in a period ----------------------------------------------------------------


def _placed_during(period: AttestationPeriod) -> ColumnElement[bool]:
    """A condition on ``StaffPlacement``: the placement overlaps the period."""
    return and_(
        StaffPlacement.started_on <= period.ends_on,
        or_(StaffPlacement.ended_on.is_(None), StaffPlacement.ended_on >= period.starts_on),
    )


def _sheet_scope(user: User, period: AttestationPeriod) -> ColumnElement[bool]:
    """A condition on ``StaffMember``: whose sheets of ``period`` ``user`` may read.

    Managers and directors: staff placed in one of their branches during the period (a mover
    is seen by both branches' managers); an employee: themself; HQ: everyone.
    """
    if user.role in access.NETWORK_WIDE:
        return true()
    if user.role in ("director", "manager"):
        return exists(
            select(StaffPlacement.id).where(
                StaffPlacement.staff_member_id == StaffMember.id,
                StaffPlacement.branch_id.in_(access.visible_branch_ids(user)),
                _placed_during(period),
            )
        )
    return access.staff_filter(user)


def _staff_in_period(period: AttestationPeriod) -> ColumnElement[bool]:
    """A condition on ``StaffMember``: placed somewhere during the period."""
    return exists(
        select(StaffPlacement.id).where(
            StaffPlacement.staff_member_id == StaffMember.id, _placed_during(period)
        )
    )


def _reachable_staff(user: User, period: AttestationPeriod, staff_id: int) -> StaffMember:
    staff = db.session.execute(
        select(StaffMember).where(
            StaffMember.id == staff_id, _staff_in_period(period), _sheet_scope(user, period)
        )
    ).scalar_one_or_none()
    if staff is None:
        raise NotFound("No such sheet.")
    return staff


# Computing sheets --------------------------------------------------------------------------

# (checklist version id, content hash) -> staff role -> [(item id, clause, text in Russian)]
_ROLE_ITEMS: dict[tuple[int, str], dict[str, list[tuple[str, str, str]]]] = {}


def _role_items(version_id: int, content_hash: str) -> dict[str, list[tuple[str, str, str]]]:
    """The items of a checklist version by staff role, in checklist order (cached by content:
    a version's content never changes under its id)."""
    key = (version_id, content_hash)
    if key not in _ROLE_ITEMS:
        if len(_ROLE_ITEMS) > 512:
            _ROLE_ITEMS.clear()
        version = db.session.get(ChecklistVersion, version_id)
        assert version is not None
        by_role: dict[str, list[tuple[str, str, str]]] = {}
        for item in checklist_of(version).items():
            if item.staff_role is not None:
                by_role.setdefault(item.staff_role, []).append(
                    (item.id, item.clause, localize(item.text, "ru"))
                )
        _ROLE_ITEMS[key] = by_role
    return _ROLE_ITEMS[key]


def _attributed_items(
    counted: ColumnElement[bool], narrow: set[int] | None, wanted: set[int]
) -> tuple[dict[int, list[AttributedItem]], dict[int, list[EvidenceRow]]]:
    """Per employee: the items attributed to them in the counted audits (items whose staff
    role is the role the audit recorded them in; N/A items left out; an item counts once per
    audit even if they were named twice in that role), and the evidence rows of the sheet.

    The item results are taken apart by the database (``json_each`` over the score detail's
    items, one row per item of the role): decoding every score detail in Python was most of
    the time of a year's sheets. Rows are ordered here, by audit, served row and checklist
    order, as the sheet shows them.
    """
    role_items: dict[tuple[int, str], dict[str, tuple[int, str, str]]] = {}
    for version_id, content_hash in db.session.execute(
        select(ChecklistVersion.id, ChecklistVersion.content_hash)
    ):
        for role, items in _role_items(version_id, content_hash).items():
            role_items[(version_id, role)] = {
                item_id: (index, clause, text)
                for index, (item_id, clause, text) in enumerate(items)
            }
    if not role_items:
        return {}, {}
    results = func.json_each(Audit.score_detail["items"]).table_valued("key", "value")
    value = type_coerce(results.c.value, JSON)
    served_query = (
        select(
            AuditStaff.staff_member_id,
            AuditStaff.staff_role,
            AuditStaff.id,
            Audit.id,
            Audit.checklist_version_id,
            results.c.key,
            value["earned"].as_float(),
            value["possible"].as_float(),
            value["na"].as_boolean(),
            RatingAudit.visit_date,
            RatingAudit.branch_id,
        )
        .join(Audit, Audit.id == AuditStaff.audit_id)
        .join(RatingAudit, RatingAudit.audit_id == Audit.id)
        .join(results, true())
        .where(
            counted,
            Audit.status == "released",
            AuditStaff.staff_member_id.is_not(None),
            or_(
                *(
                    and_(
                        Audit.checklist_version_id == version_id,
                        AuditStaff.staff_role == role,
                        results.c.key.in_(sorted(items)),
                    )
                    for (version_id, role), items in role_items.items()
                )
            ),
        )
    )
    if narrow is not None:
        served_query = served_query.where(AuditStaff.staff_member_id.in_(narrow))
    found: dict[int, list[tuple[Any, ...]]] = {}
    for row in db.session.execute(served_query):
        if row[0] in wanted and not row[8]:
            found.setdefault(row[0], []).append(tuple(row))
    attributed: dict[int, list[AttributedItem]] = {}
    evidence_rows: dict[int, list[EvidenceRow]] = {}
    for member_id, rows in found.items():
        ordered = sorted(rows, key=lambda r: (r[3], r[2], role_items[(r[4], r[1])][r[5]][0]))
        seen: set[tuple[int, str]] = set()
        items_of: list[AttributedItem] = []
        evidence: list[EvidenceRow] = []
        for (
            _member,
            role,
            _served,
            audit_id,
            version_id,
            item_id,
            earned,
            possible,
            _na,
            visit,
            branch_id,
        ) in ordered:
            if (audit_id, item_id) in seen:
                continue  # named twice in the same role: the item counts once
            seen.add((audit_id, item_id))
            _, clause, text = role_items[(version_id, role)][item_id]
            items_of.append(AttributedItem(audit_id, item_id, earned, possible))
            evidence.append(
                {
                    "audit_id": audit_id,
                    "visit_date": _as_day(visit).isoformat(),
                    "branch_id": branch_id,
                    "staff_role": role,
                    "item_id": item_id,
                    "item_text": text,
                    "clause": clause,
                    "earned": earned,
                    "possible": possible,
                }
            )
        attributed[member_id] = items_of
        evidence_rows[member_id] = evidence
    return attributed, evidence_rows


def _as_day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def compute_sheets(
    period: AttestationPeriod, staff_ids: Sequence[int] | None = None
) -> dict[int, SheetJson]:
    """The live sheets of ``period`` (every employee placed during it, or ``staff_ids``), as
    the JSON a closed period stores. A handful of set queries whatever the number of staff."""
    rules_row = db.session.get(AttestationRuleSet, period.rule_set_id)
    assert rules_row is not None
    rule_set = rule_set_of(rules_row)
    narrow = staff_ids is not None and len(staff_ids) <= 500

    staff_query = select(StaffMember).where(_staff_in_period(period)).order_by(StaffMember.id)
    if staff_ids is not None:
        staff_query = staff_query.where(StaffMember.id.in_(list(staff_ids)))
    staff = list(db.session.execute(staff_query).scalars())
    wanted = {s.id for s in staff}

    placements: dict[int, list[Placement]] = {}
    placement_query = select(
        StaffPlacement.staff_member_id,
        StaffPlacement.branch_id,
        StaffPlacement.started_on,
        StaffPlacement.ended_on,
    ).where(_placed_during(period))
    if narrow:
        placement_query = placement_query.where(StaffPlacement.staff_member_id.in_(wanted))
    for member_id, branch_id, started_on, ended_on in db.session.execute(placement_query):
        if member_id in wanted:
            placements.setdefault(member_id, []).append(Placement(branch_id, started_on, ended_on))

    counted = and_(
        RatingAudit.visit_date >= period.starts_on,
        RatingAudit.visit_date <= period.ends_on,
    )
    branch_ratings = {
        branch: BranchRating(math.fsum(values) / len(values), len(values))
        for branch, values in _scores_by_branch(period.starts_on, period.ends_on).items()
    }

    attributed, evidence_rows = _attributed_items(counted, wanted if narrow else None, wanted)

    internal: dict[int, InternalScore] = {}
    for entry in db.session.execute(
        select(InternalScore).where(InternalScore.period_id == period.id).order_by(InternalScore.id)
    ).scalars():
        internal[entry.staff_member_id] = entry  # the latest entry counts

    branch_ids = {p.branch_id for ps in placements.values() for p in ps}
    branch_ids |= {row["branch_id"] for rows in evidence_rows.values() for row in rows}
    branches = {
        b.id: b
        for b in db.session.execute(select(Branch).where(Branch.id.in_(branch_ids))).scalars()
    }
    # One branch reference per branch, shared by every evidence row naming it.
    branch_refs = {branch_id: _branch_json(branches, branch_id) for branch_id in branch_ids}
    for rows in evidence_rows.values():
        for row in rows:
            row["branch"] = branch_refs[row["branch_id"]]

    sheets: dict[int, SheetJson] = {}
    for member in staff:
        days = rules_arith.days_by_branch(
            placements.get(member.id, []), period.starts_on, period.ends_on
        )
        latest = internal.get(member.id)
        evidence = Evidence(
            items=tuple(attributed.get(member.id, [])),
            days=days,
            branch_ratings={b: branch_ratings[b] for b in days if b in branch_ratings},
            internal=latest.score if latest is not None else None,
        )
        sheet = rules_arith.compute_sheet(rule_set, evidence)
        sheets[member.id] = _sheet_json(
            member, rules_row, sheet, latest, evidence_rows.get(member.id, []), branches
        )
    return sheets


def _branch_json(branches: dict[int, Branch], branch_id: int) -> BranchRef:
    branch = branches.get(branch_id)
    return {
        "id": branch_id,
        "code": branch.code if branch else "",
        "name": branch.name if branch else "",
    }


def _sheet_json(
    member: StaffMember,
    rules_row: AttestationRuleSet,
    sheet: rules_arith.Sheet,
    internal: InternalScore | None,
    evidence: list[EvidenceRow],
    branches: dict[int, Branch],
) -> SheetJson:
    """The stored (and served) form of a sheet: everything a person needs to check it."""
    components: list[ComponentJson] = []
    for part in sheet.components:
        note = rules_arith.STATUS_NOTES[part.status]
        row: ComponentJson = {
            "component": part.component,
            "name_ru": rules_arith.COMPONENT_NAMES[part.component]["ru"],
            "name_en": rules_arith.COMPONENT_NAMES[part.component]["en"],
            "external": part.external,
            "weight": part.weight,
            "effective_weight": part.effective_weight,
            "score": part.score,
            "status": part.status,
            "note_ru": note["ru"],
            "note_en": note["en"],
            "audits": part.audits,
            "earned": part.earned,
            "possible": part.possible,
            "branches": [
                {**_branch_json(branches, b), "days": days, "mean": mean}
                for b, days, mean in part.branches
            ],
            "internal": None,
        }
        if part.component == "internal" and internal is not None:
            row["internal"] = {
                "score": internal.score,
                "reason": internal.reason,
                "entered_by": internal.entered_by.display_name,
                "entered_at": internal.entered_at.isoformat(),
            }
        components.append(row)
    return {
        "staff_member": _staff_ref(member),
        "rule_set": {
            "id": rules_row.id,
            "code": rules_row.code,
            "version": rules_row.version,
            "name": rules_row.name,
        },
        "status": sheet.status,
        "points": sheet.points,
        "grade": (
            {
                "code": sheet.grade.code,
                "label_ru": sheet.grade.label_ru,
                "label_en": sheet.grade.label_en,
            }
            if sheet.grade
            else None
        ),
        "external_share": sheet.external_share,
        "sufficient_evidence": sheet.sufficient_evidence,
        "formula_ru": sheet.formula_ru,
        "formula_en": sheet.formula_en,
        "components": components,
        "evidence": evidence,
        "audit_ids": list(sheet.audit_ids),
    }


# Reading sheets ----------------------------------------------------------------------------


def _responses(period_id: int, staff_ids: Iterable[int]) -> dict[int, list[SheetResponse]]:
    found: dict[int, list[SheetResponse]] = {}
    ids = list(staff_ids)
    if not ids:
        return found
    for response in db.session.execute(
        select(SheetResponse)
        .where(SheetResponse.period_id == period_id, SheetResponse.staff_member_id.in_(ids))
        .order_by(SheetResponse.id)
    ).scalars():
        found.setdefault(response.staff_member_id, []).append(response)
    return found


def sheet_state(period: AttestationPeriod, responses: Sequence[SheetResponse]) -> str:
    """``live`` (open period), ``pending`` (frozen, no response), ``acknowledged``,
    ``objected`` (awaiting an answer) or ``answered``: from the latest response."""
    if period.status == "open":
        return "live"
    if not responses:
        return "pending"
    latest = responses[-1]
    if latest.kind == "acknowledged":
        return "acknowledged"
    return "answered" if latest.answered_at is not None else "objected"


def _response_json(response: SheetResponse) -> ResponseJson:
    return {
        "id": response.id,
        "kind": response.kind,
        "comment": response.comment,
        "at": response.at,
        "answer": response.answer,
        "answered_by": response.answered_by.display_name if response.answered_by else None,
        "answered_at": response.answered_at,
        "version": response.version,
    }


def _period_json(period: AttestationPeriod) -> PeriodRef:
    return {
        "id": period.id,
        "name": period.name,
        "starts_on": period.starts_on,
        "ends_on": period.ends_on,
        "status": period.status,
    }


def get_sheet(user: User, period_id: int, staff_id: int) -> SheetView:
    """One employee's sheet: frozen for a closed period, computed now for an open one; with
    the photo evidence of each item the viewer may see, and the responses."""
    period = get_period(period_id)
    staff = _reachable_staff(user, period, staff_id)
    if period.status == "closed":
        row = db.session.execute(
            select(AttestationSheet).where(
                AttestationSheet.period_id == period.id,
                AttestationSheet.staff_member_id == staff.id,
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound("No such sheet.")  # not placed in the period when it closed
        result = cast(SheetJson, dict(row.result))
        frozen_at: datetime | None = row.frozen_at
    else:
        result = compute_sheets(period, [staff.id])[staff.id]
        frozen_at = None
    responses = _responses(period.id, [staff.id]).get(staff.id, [])
    photos = _visible_photos(user, result["audit_ids"])
    result["evidence"] = [
        {**item, "photo_ids": photos.get((item["audit_id"], item["item_id"]), [])}
        for item in result["evidence"]
    ]
    return {
        **result,
        "period": _period_json(period),
        "frozen_at": frozen_at,
        "state": sheet_state(period, responses),
        "responses": [_response_json(r) for r in responses],
    }


def _visible_photos(user: User, audit_ids: Sequence[int]) -> dict[tuple[int, str], list[int]]:
    """(audit, item) -> ids of the evidence photos ``user`` may see: only of audits the user
    can reach (``access.audit_filter``) and only photos the visibility policy shows them."""
    if not audit_ids:
        return {}
    reachable = select(Audit.id).where(Audit.id.in_(list(audit_ids)), access.audit_filter(user))
    audience = visibility.audience_of(user)
    found: dict[tuple[int, str], list[int]] = {}
    for photo in db.session.execute(
        select(AuditPhoto)
        .where(AuditPhoto.audit_id.in_(reachable), AuditPhoto.purpose == "evidence")
        .order_by(AuditPhoto.id)
    ).scalars():
        if visibility.shows_photo(audience, photo):
            found.setdefault((photo.audit_id, photo.item_id), []).append(photo.id)
    return found


def list_sheets(user: User, period_id: int, filters: SheetFilters) -> SheetPage:
    """Summaries of the sheets ``user`` may read in a period, by employee code; with
    ``branch_id``, only the staff placed in that branch during the period."""
    period = get_period(period_id)
    query = (
        select(StaffMember)
        .where(_staff_in_period(period), _sheet_scope(user, period))
        .order_by(StaffMember.employee_code, StaffMember.id)
    )
    if filters.branch_id is not None:
        query = query.where(
            exists(
                select(StaffPlacement.id).where(
                    StaffPlacement.staff_member_id == StaffMember.id,
                    StaffPlacement.branch_id == filters.branch_id,
                    _placed_during(period),
                )
            )
        )
    found = paginate(query, filters.page, filters.per_page)
    members: list[StaffMember] = found["items"]
    ids = [m.id for m in members]
    results = _results(period, ids)
    responses = _responses(period.id, ids)
    items: list[SheetSummary] = []
    for member in members:
        result = results.get(member.id)
        if result is None:
            continue  # placed only after the period closed: no frozen sheet
        items.append(
            {
                "staff_member": result["staff_member"],
                "status": result["status"],
                "points": result["points"],
                "grade": result["grade"],
                "sufficient_evidence": result["sufficient_evidence"],
                "state": sheet_state(period, responses.get(member.id, [])),
            }
        )
    return {
        "items": items,
        "total": found["total"],
        "page": found["page"],
        "per_page": found["per_page"],
        "period": _period_json(period),
    }


def _frozen(row: AttestationSheet) -> SheetResult:
    """A closed period's stored sheet, with when it was frozen."""
    return cast(SheetResult, {**row.result, "frozen_at": row.frozen_at})


def _results(period: AttestationPeriod, ids: Sequence[int]) -> dict[int, SheetResult]:
    """staff id -> whole sheet (with ``frozen_at``): the frozen rows of a closed period, computed
    for an open one (a few set queries for all of ``ids``). Staff without a frozen sheet are
    left out."""
    if not ids:
        return {}
    if period.status == "closed":
        return {
            row.staff_member_id: _frozen(row)
            for row in db.session.execute(
                select(AttestationSheet).where(
                    AttestationSheet.period_id == period.id,
                    AttestationSheet.staff_member_id.in_(list(ids)),
                )
            ).scalars()
        }
    return cast(dict[int, SheetResult], compute_sheets(period, ids))


def visible_branch(user: User, branch_id: int) -> Branch:
    """A branch ``user`` may see, else NotFound (out of scope looks like missing)."""
    branch = db.session.execute(
        select(Branch).where(Branch.id == branch_id, access.branch_filter(user))
    ).scalar_one_or_none()
    if branch is None:
        raise NotFound("No such branch.")
    return branch


def sheet_results(
    user: User, period_id: int, branch_id: int | None, page: int, per_page: int
) -> SheetResultPage:
    """Whole sheets (components, formula, evidence; no photo ids or responses) the caller may
    read in a period, with their ``state``, by employee code, a page at a time: for files
    (the sheet PDFs, the branch bundle, the results export). ``branch_id``: only staff placed
    in that branch during the period (NotFound when the branch is out of the caller's scope).
    """
    period = get_period(period_id)
    query = (
        select(StaffMember)
        .where(_staff_in_period(period), _sheet_scope(user, period))
        .order_by(StaffMember.employee_code, StaffMember.id)
    )
    if branch_id is not None:
        visible_branch(user, branch_id)
        query = query.where(
            exists(
                select(StaffPlacement.id).where(
                    StaffPlacement.staff_member_id == StaffMember.id,
                    StaffPlacement.branch_id == branch_id,
                    _placed_during(period),
                )
            )
        )
    found = paginate(query, page, per_page)
    ids = [m.id for m in found["items"]]
    results = _results(period, ids)
    responses = _responses(period.id, ids)
    items: list[SheetResult] = []
    for member_id in ids:
        if member_id in results:
            state = sheet_state(period, responses.get(member_id, []))
            items.append({**results[member_id], "state": state})
    return {
        "items": items,
        "total": found["total"],
        "page": found["page"],
        "per_page": found["per_page"],
        "period": _period_json(period),
    }


# Internal scores ---------------------------------------------------------------------------


def enter_internal_score(
    user: User, period_id: int, staff_id: int, entry: InternalScoreEntry
) -> tuple[InternalScore, bool]:
    """A manager (for staff of their branches) or HQ enters an internal score with why; the
    latest entry counts; every entry is kept. Returns (entry, created).

    With a ``request_id`` (made by the client once per entry it means to make) a retry is
    idempotent: the same id with the same period, employee, score and reason by the same user
    returns the stored entry (created False); with anything else it is a Conflict. Without one,
    every call is a new entry (as before request ids existed).
    """
    score, reason, request_id = entry.score, entry.reason, entry.request_id
    period = get_period(period_id)
    staff = _reachable_staff(user, period, staff_id)
    for _attempt in range(2):
        if request_id is not None:
            stored = _internal_score_by_request(request_id)
            if stored is not None:
                return _same_entry(stored, user, period.id, staff.id, score, reason), False
        if period.status != "open":
            raise Conflict("The period is closed: its sheets are frozen.")
        stored = InternalScore(
            period_id=period.id,
            staff_member_id=staff.id,
            score=score,
            reason=reason,
            entered_by_id=user.id,
            request_id=request_id,
        )
        db.session.add(stored)
        try:
            commit()
        except Clash:
            # A concurrent retry stored this request id first: compare with what it stored.
            if request_id is None:
                raise
            continue
        return stored, True
    raise Conflict("The entry was made concurrently; retry.")


def _internal_score_by_request(request_id: uuid.UUID) -> InternalScore | None:
    return db.session.execute(
        select(InternalScore).where(InternalScore.request_id == request_id)
    ).scalar_one_or_none()


def _same_entry(
    stored: InternalScore, user: User, period_id: int, staff_id: int, score: float, reason: str
) -> InternalScore:
    """The stored entry when the retry asks for exactly it, else a Conflict naming what
    differs."""
    differs = [
        name
        for name, mine, theirs in (
            ("period_id", period_id, stored.period_id),
            ("staff_id", staff_id, stored.staff_member_id),
            ("entered_by", user.id, stored.entered_by_id),
            ("score", score, stored.score),
            ("reason", reason, stored.reason),
        )
        if mine != theirs
    ]
    if differs:
        raise Conflict(
            "This request_id was already used for another entry "
            f"(different {', '.join(differs)}); make a new request_id for a new entry.",
            code="request_id_reused",
        )
    return stored


def list_internal_scores(user: User, period_id: int, staff_id: int) -> list[InternalScore]:
    """Every internal score entered for an employee in a period, oldest first."""
    period = get_period(period_id)
    staff = _reachable_staff(user, period, staff_id)
    return list(
        db.session.execute(
            select(InternalScore)
            .where(InternalScore.period_id == period.id, InternalScore.staff_member_id == staff.id)
            .order_by(InternalScore.id)
        ).scalars()
    )


# Acknowledgement and objections ------------------------------------------------------------


def respond(user: User, period_id: int, staff_id: int, kind: str, comment: str) -> SheetView:
    """The employee acknowledges their frozen sheet, or objects with a comment."""
    period = get_period(period_id)
    if user.role != "employee" or user.staff_member_id != staff_id:
        raise NotFound("No such sheet.")
    staff = _reachable_staff(user, period, staff_id)
    if period.status != "closed":
        raise Conflict("The sheet can be acknowledged once the period is closed.")
    has_sheet = db.session.execute(
        select(AttestationSheet.id).where(
            AttestationSheet.period_id == period.id, AttestationSheet.staff_member_id == staff.id
        )
    ).first()
    if has_sheet is None:
        raise NotFound("No such sheet.")
    previous = _responses(period.id, [staff.id]).get(staff.id, [])
    state = sheet_state(period, previous)
    if state == "acknowledged":
        raise Conflict("The sheet is already acknowledged.")
    if state == "objected":
        raise Conflict("Your objection is waiting for an answer.")
    if kind == "objected" and not comment.strip():
        raise Invalid("Say what you object to.", fields={"comment": ["Required to object."]})
    db.session.add(
        SheetResponse(
            period_id=period.id,
            staff_member_id=staff.id,
            kind=kind,
            comment=comment,
            by_id=user.id,
        )
    )
    commit()
    return get_sheet(user, period.id, staff.id)


def _objection_scope(user: User) -> ColumnElement[bool]:
    """A condition on ``SheetResponse``: objections of staff the user may answer."""
    if user.role in access.NETWORK_WIDE:
        return true()
    placed = select(StaffPlacement.staff_member_id).where(
        StaffPlacement.branch_id.in_(access.visible_branch_ids(user))
    )
    return SheetResponse.staff_member_id.in_(placed)


def _objection_json(response: SheetResponse) -> ObjectionJson:
    return {
        **_response_json(response),
        "period_id": response.period_id,
        "staff_member": _staff_ref(response.staff_member),
    }


def list_objections(user: User, filters: ObjectionFilters) -> ObjectionPage:
    """Objections the user answers (a manager: their branches' staff; HQ: all), oldest first."""
    query = (
        select(SheetResponse)
        .where(SheetResponse.kind == "objected", _objection_scope(user))
        .order_by(SheetResponse.id)
    )
    if filters.unanswered:
        query = query.where(SheetResponse.answered_at.is_(None))
    found = paginate(query, filters.page, filters.per_page)
    return {
        "items": [_objection_json(r) for r in found["items"]],
        "total": found["total"],
        "page": found["page"],
        "per_page": found["per_page"],
    }


def answer_objection(user: User, response_id: int, answer: ObjectionAnswer) -> ObjectionJson:
    """The manager or HQ answers an objection (once); the answer is kept with who and when."""
    response = db.session.execute(
        select(SheetResponse).where(
            SheetResponse.id == response_id,
            SheetResponse.kind == "objected",
            _objection_scope(user),
        )
    ).scalar_one_or_none()
    if response is None:
        raise NotFound("No such objection.")
    _check_version(response.version, answer.version)
    if response.answered_at is not None:
        raise Conflict("The objection is already answered.")
    response.answer = answer.answer
    response.answered_by_id = user.id
    response.answered_at = clock.now()
    commit(_changed_meanwhile())
    db.session.refresh(response)
    return _objection_json(response)


# Overdue -----------------------------------------------------------------------------------


def overdue(user: User, page: Page) -> OverduePage:
    """Active employees (not left, hired at least a year ago) with no graded sheet in a closed
    period that ended within the last year, in ``user``'s scope; the longest overdue first."""
    today = clock.now().date()
    since = today - ATTESTATION_INTERVAL
    last = (
        select(func.max(AttestationPeriod.ends_on))
        .join(AttestationSheet, AttestationSheet.period_id == AttestationPeriod.id)
        .where(
            AttestationSheet.staff_member_id == StaffMember.id,
            AttestationSheet.status == "graded",
            AttestationPeriod.status == "closed",
        )
        .scalar_subquery()
    )
    current = exists(
        select(StaffPlacement.id).where(
            StaffPlacement.staff_member_id == StaffMember.id, StaffPlacement.ended_on.is_(None)
        )
    )
    query = (
        select(StaffMember, last.label("last_attested"))
        .where(
            or_(StaffMember.left_on.is_(None), StaffMember.left_on > today),
            StaffMember.hired_on <= since,
            current,
            access.staff_filter(user),
            or_(last.is_(None), last < since),
        )
        .order_by(last.asc().nulls_first(), StaffMember.employee_code)
    )
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    total = db.session.execute(counted).scalar_one()
    per_page = page.per_page
    rows = db.session.execute(query.limit(per_page).offset((page.page - 1) * per_page)).all()
    return {
        "items": [
            {
                "staff_member": _staff_ref(member),
                "hired_on": member.hired_on,
                "last_attested_on": last_on,
                "due_since": (last_on or member.hired_on) + ATTESTATION_INTERVAL,
            }
            for member, last_on in rows
        ],
        "total": total,
        "page": page.page,
        "per_page": per_page,
    }


# Leaderboards ------------------------------------------------------------------------------


def _scores_by_branch(starts_on: date, ends_on: date) -> dict[int, list[float]]:
    """branch -> the scores of its released audits visited in the dates, in audit id order
    (one summation order, so the same data always give the same means)."""
    scores: dict[int, list[float]] = {}
    for branch_id, score in db.session.execute(
        select(RatingAudit.branch_id, RatingAudit.score)
        .where(
            RatingAudit.visit_date >= starts_on,
            RatingAudit.visit_date <= ends_on,
            RatingAudit.score.is_not(None),
        )
        .order_by(RatingAudit.branch_id, RatingAudit.audit_id)
    ):
        if score is not None:
            scores.setdefault(branch_id, []).append(score)
    return scores


def _branch_means(starts_on: date, ends_on: date) -> dict[int, tuple[float, int]]:
    """branch -> (mean score, n) over the dates, for branches with at least the ratings'
    minimum number of visits (a branch with fewer is not on a leaderboard)."""
    return {
        b: (math.fsum(v) / len(v), len(v))
        for b, v in _scores_by_branch(starts_on, ends_on).items()
        if len(v) >= DEFAULT_MIN_VISITS
    }


def _period_results(period: AttestationPeriod) -> dict[int, SheetResult]:
    if period.status == "closed":
        return {
            row.staff_member_id: _frozen(row)
            for row in db.session.execute(
                select(AttestationSheet).where(AttestationSheet.period_id == period.id)
            ).scalars()
        }
    return cast(dict[int, SheetResult], compute_sheets(period))


def leaderboards(user: User, period_id: int, limit: int) -> Leaderboards:
    """Top branches of the network and of each region, most improved branches (against the
    previous period of the same length), top employees with sufficient evidence, and the
    standards most often met. Ranks are among all; entries are those in ``user``'s scope."""
    period = get_period(period_id)
    visible = set(db.session.execute(select(Branch.id).where(access.branch_filter(user))).scalars())
    branches = {b.id: b for b in db.session.execute(select(Branch).order_by(Branch.id)).scalars()}
    regions = {r.id: r for r in db.session.execute(select(Region)).scalars()}
    means = _branch_means(period.starts_on, period.ends_on)

    def branch_entry(branch_id: int, rank: int, value: float, n: int) -> BranchEntry:
        branch = branches[branch_id]
        region = regions[branch.region_id]
        return {
            "rank": rank,
            "branch": {"id": branch.id, "code": branch.code, "name": branch.name},
            "region": {"id": region.id, "code": region.code, "name": region.name},
            "value": value,
            "audits": n,
        }

    def top(values: dict[int, tuple[float, int]]) -> list[BranchEntry]:
        ranks = competition_ranks({b: v for b, (v, _) in values.items()})
        ordered = sorted(values, key=lambda b: (ranks[b], branches[b].code))
        return [
            branch_entry(b, ranks[b], rules_arith.round2(values[b][0]), values[b][1])
            for b in ordered
            if b in visible
        ][:limit]

    by_region: dict[int, dict[int, tuple[float, int]]] = {}
    for branch_id, value in means.items():
        by_region.setdefault(branches[branch_id].region_id, {})[branch_id] = value
    region_boards: list[RegionBoard] = [
        {
            "region": {"id": r, "code": regions[r].code, "name": regions[r].name},
            "branches": top(values),
        }
        for r, values in sorted(by_region.items(), key=lambda kv: regions[kv[0]].code)
    ]
    region_boards = [board for board in region_boards if board["branches"]]

    length = (period.ends_on - period.starts_on).days + 1
    previous = _branch_means(
        period.starts_on - timedelta(days=length), period.starts_on - timedelta(days=1)
    )
    improved: dict[int, tuple[float, int]] = {}
    for branch_id, (mean, n) in means.items():
        change = rules_arith.improvement(mean, previous.get(branch_id, (None, 0))[0])
        if change is not None:
            improved[branch_id] = (change, n)

    results = _period_results(period)
    scoped_staff = set(
        db.session.execute(select(StaffMember.id).where(_sheet_scope(user, period))).scalars()
    )
    ranked: dict[int, float] = {}
    for staff_id, result in results.items():
        points = result["points"]
        if result["status"] == "graded" and result["sufficient_evidence"] and points is not None:
            ranked[staff_id] = points
    staff_ranks = competition_ranks(ranked)
    employees: list[EmployeeEntry] = [
        {
            "rank": staff_ranks[s],
            "staff_member": results[s]["staff_member"],
            "points": ranked[s],
            "grade": results[s]["grade"],
        }
        for s in sorted(
            ranked, key=lambda s: (staff_ranks[s], results[s]["staff_member"]["employee_code"])
        )
        if s in scoped_staff
    ]
    employees = employees[:limit]

    return {
        "period": _period_json(period),
        "top_branches": top(means),
        "regions": region_boards,
        "most_improved": top(improved),
        "top_employees": employees,
        "standards": _standards_met(period, visible, limit),
    }


def _standards_met(period: AttestationPeriod, visible: set[int], limit: int) -> list[StandardMet]:
    """Standards (checklist, item, clause) most often met in the period's months, in the
    branches the user sees: highest pass rate (earned / possible) first, more audits first on
    ties; a standard needs the ratings' minimum number of audits."""
    months = and_(
        RatingItemRollup.month >= period.starts_on.replace(day=1),
        RatingItemRollup.month <= period.ends_on.replace(day=1),
    )
    rows = db.session.execute(
        select(
            RatingItemRollup.checklist_slug,
            RatingItemRollup.item_id,
            RatingItemRollup.clause,
            func.sum(RatingItemRollup.n),
            func.sum(RatingItemRollup.earned),
            func.sum(RatingItemRollup.possible),
        )
        .where(months, RatingItemRollup.branch_id.in_(visible) if visible else false())
        .group_by(
            RatingItemRollup.checklist_slug, RatingItemRollup.item_id, RatingItemRollup.clause
        )
    ).all()
    standards = [
        (slug, item, clause, int(n), earned / possible)
        for slug, item, clause, n, earned, possible in rows
        if possible and possible > 0 and n >= DEFAULT_MIN_VISITS
    ]
    standards.sort(key=lambda s: (-round(s[4], 9), -s[3], s[0], s[1], s[2]))
    return [
        {
            "checklist": slug,
            "item_id": item,
            "clause": clause,
            "audits": n,
            "pass_rate": rules_arith.round2(100.0 * rate),
        }
        for slug, item, clause, n, rate in standards[:limit]
    ]


# Awards ------------------------------------------------------------------------------------


def create_award(user: User, period_id: int, command: AwardCommand) -> Award:
    """HQ marks an award for a branch or an employee of the period."""
    period = get_period(period_id)
    if command.kind == "branch":
        if command.branch_id is None or command.staff_member_id is not None:
            raise Invalid(
                "A branch award names a branch.",
                fields={"branch_id": ["Required for a branch award (and no staff_member_id)."]},
            )
        if db.session.get(Branch, command.branch_id) is None:
            raise Invalid("No such branch.", fields={"branch_id": ["No such branch."]})
    else:
        if command.staff_member_id is None or command.branch_id is not None:
            raise Invalid(
                "An employee award names an employee.",
                fields={"staff_member_id": ["Required for an employee award (and no branch_id)."]},
            )
        try:
            _reachable_staff(user, period, command.staff_member_id)
        except NotFound:
            raise Invalid(
                "No such employee in this period.",
                fields={"staff_member_id": ["Not placed anywhere during the period."]},
            ) from None
    award = Award(
        period_id=period.id,
        kind=command.kind,
        branch_id=command.branch_id,
        staff_member_id=command.staff_member_id,
        title=command.title,
        note=command.note,
        awarded_by_id=user.id,
    )
    db.session.add(award)
    commit()
    return award


def list_awards(period_id: int) -> list[Award]:
    """A period's awards, in the order they were given."""
    period = get_period(period_id)
    return list(
        db.session.execute(
            select(Award).where(Award.period_id == period.id).order_by(Award.id)
        ).scalars()
    )


def _csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def awards_csv(period_id: int) -> str:
    """The award list of a period as CSV (UTF-8 with a BOM, so Excel reads Cyrillic)."""
    period = get_period(period_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "period",
            "kind",
            "branch_code",
            "branch_name",
            "employee_code",
            "employee_name",
            "title",
            "note",
            "awarded_at",
        ]
    )
    for award in list_awards(period.id):
        writer.writerow(
            [
                _csv_cell(v)
                for v in (
                    period.name,
                    award.kind,
                    award.branch.code if award.branch else "",
                    award.branch.name if award.branch else "",
                    award.staff_member.employee_code if award.staff_member else "",
                    award.staff_member.full_name if award.staff_member else "",
                    award.title,
                    award.note,
                    award.awarded_at.isoformat(),
                )
            ]
        )
    return "\ufeff" + buffer.getvalue()
