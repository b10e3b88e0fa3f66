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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, insert, or_, select, true

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
from auditapp.services.pagination import paginate
from auditapp.services.transactions import commit

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


# Rule sets ---------------------------------------------------------------------------------


def list_rule_sets(page: int, per_page: int) -> dict[str, Any]:
    """Every rule set version, newest version of each code first."""
    query = select(AttestationRuleSet).order_by(
        AttestationRuleSet.code, AttestationRuleSet.version.desc()
    )
    return paginate(query, page, per_page)


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


def list_periods(page: int, per_page: int) -> dict[str, Any]:
    """Every attestation period, latest first (periods themselves are not secret)."""
    query = select(AttestationPeriod).order_by(
        AttestationPeriod.starts_on.desc(), AttestationPeriod.id.desc()
    )
    return paginate(query, page, per_page)


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


def compute_sheets(
    period: AttestationPeriod, staff_ids: Sequence[int] | None = None
) -> dict[int, dict[str, Any]]:
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

    attributed: dict[int, list[AttributedItem]] = {}
    evidence_rows: dict[int, list[dict[str, Any]]] = {}
    served_query = (
        select(
            AuditStaff.staff_member_id,
            AuditStaff.staff_role,
            Audit.id,
            # Only the item results: decoding the whole score detail (sections, stages, roles)
            # of every audit was half the time of a year's sheets.
            Audit.score_detail["items"],
            Audit.checklist_version_id,
            ChecklistVersion.content_hash,
            RatingAudit.visit_date,
            RatingAudit.branch_id,
        )
        .join(Audit, Audit.id == AuditStaff.audit_id)
        .join(RatingAudit, RatingAudit.audit_id == Audit.id)
        .join(ChecklistVersion, ChecklistVersion.id == Audit.checklist_version_id)
        .where(counted, Audit.status == "released", AuditStaff.staff_member_id.is_not(None))
        .order_by(AuditStaff.staff_member_id, Audit.id, AuditStaff.id)
    )
    if narrow:
        served_query = served_query.where(AuditStaff.staff_member_id.in_(wanted))
    seen: set[tuple[int, int, str]] = set()
    for (
        member_id,
        role,
        audit_id,
        results,
        version_id,
        content_hash,
        visit,
        branch_id,
    ) in db.session.execute(served_query):
        if member_id not in wanted or not results:
            continue
        for item_id, clause, text in _role_items(version_id, content_hash).get(role, ()):
            result = results.get(item_id)
            if result is None or result.get("na"):
                continue
            if (member_id, audit_id, item_id) in seen:
                continue  # named twice in the same role: the item counts once
            seen.add((member_id, audit_id, item_id))
            attributed.setdefault(member_id, []).append(
                AttributedItem(audit_id, item_id, result["earned"], result["possible"])
            )
            evidence_rows.setdefault(member_id, []).append(
                {
                    "audit_id": audit_id,
                    "visit_date": visit.isoformat(),
                    "branch_id": branch_id,
                    "staff_role": role,
                    "item_id": item_id,
                    "item_text": text,
                    "clause": clause,
                    "earned": result["earned"],
                    "possible": result["possible"],
                }
            )

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

    sheets: dict[int, dict[str, Any]] = {}
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


def _branch_json(branches: dict[int, Branch], branch_id: int) -> dict[str, Any]:
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
    evidence: list[dict[str, Any]],
    branches: dict[int, Branch],
) -> dict[str, Any]:
    """The stored (and served) form of a sheet: everything a person needs to check it."""
    components = []
    for part in sheet.components:
        note = rules_arith.STATUS_NOTES[part.status]
        row: dict[str, Any] = {
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
        "staff_member": {
            "id": member.id,
            "employee_code": member.employee_code,
            "full_name": member.full_name,
            "position": member.position,
        },
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
        "evidence": [
            {**row, "branch": _branch_json(branches, row["branch_id"])} for row in evidence
        ],
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


def _response_json(response: SheetResponse) -> dict[str, Any]:
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


def _period_json(period: AttestationPeriod) -> dict[str, Any]:
    return {
        "id": period.id,
        "name": period.name,
        "starts_on": period.starts_on,
        "ends_on": period.ends_on,
        "status": period.status,
    }


def get_sheet(user: User, period_id: int, staff_id: int) -> dict[str, Any]:
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
        result = dict(row.result)
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


def list_sheets(
    user: User, period_id: int, page: int, per_page: int, branch_id: int | None = None
) -> dict[str, Any]:
    """Summaries of the sheets ``user`` may read in a period, by employee code; with
    ``branch_id``, only the staff placed in that branch during the period."""
    period = get_period(period_id)
    query = (
        select(StaffMember)
        .where(_staff_in_period(period), _sheet_scope(user, period))
        .order_by(StaffMember.employee_code, StaffMember.id)
    )
    if branch_id is not None:
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
    members: list[StaffMember] = found["items"]
    ids = [m.id for m in members]
    results = _results(period, ids)
    responses = _responses(period.id, ids)
    items = []
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
    return {**found, "items": items, "period": _period_json(period)}


def _results(period: AttestationPeriod, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """staff id -> whole sheet (with ``frozen_at``): the frozen rows of a closed period, computed
    for an open one (a few set queries for all of ``ids``). Staff without a frozen sheet are
    left out."""
    if not ids:
        return {}
    if period.status == "closed":
        return {
            row.staff_member_id: {**row.result, "frozen_at": row.frozen_at}
            for row in db.session.execute(
                select(AttestationSheet).where(
                    AttestationSheet.period_id == period.id,
                    AttestationSheet.staff_member_id.in_(list(ids)),
                )
            ).scalars()
        }
    return compute_sheets(period, ids)


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
) -> dict[str, Any]:
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
    items = []
    for member_id in ids:
        if member_id in results:
            state = sheet_state(period, responses.get(member_id, []))
            items.append({**results[member_id], "state": state})
    return {**found, "items": items, "period": _period_json(period)}


# Internal scores ---------------------------------------------------------------------------


def enter_internal_score(
    user: User, period_id: int, staff_id: int, score: float, reason: str
) -> InternalScore:
    """A manager (for staff of their branches) or HQ enters an internal score with why; the
    latest entry counts; every entry is kept."""
    period = get_period(period_id)
    staff = _reachable_staff(user, period, staff_id)
    if period.status != "open":
        raise Conflict("The period is closed: its sheets are frozen.")
    entry = InternalScore(
        period_id=period.id,
        staff_member_id=staff.id,
        score=score,
        reason=reason,
        entered_by_id=user.id,
    )
    db.session.add(entry)
    commit()
    return entry


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


def respond(user: User, period_id: int, staff_id: int, kind: str, comment: str) -> dict[str, Any]:
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


def list_objections(user: User, unanswered: bool, page: int, per_page: int) -> dict[str, Any]:
    """Objections the user answers (a manager: their branches' staff; HQ: all), oldest first."""
    query = (
        select(SheetResponse)
        .where(SheetResponse.kind == "objected", _objection_scope(user))
        .order_by(SheetResponse.id)
    )
    if unanswered:
        query = query.where(SheetResponse.answered_at.is_(None))
    found = paginate(query, page, per_page)
    found["items"] = [
        {
            **_response_json(r),
            "period_id": r.period_id,
            "staff_member": {
                "id": r.staff_member.id,
                "employee_code": r.staff_member.employee_code,
                "full_name": r.staff_member.full_name,
                "position": r.staff_member.position,
            },
        }
        for r in found["items"]
    ]
    return found


def answer_objection(user: User, response_id: int, answer: str, version: int) -> dict[str, Any]:
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
    _check_version(response.version, version)
    if response.answered_at is not None:
        raise Conflict("The objection is already answered.")
    response.answer = answer
    response.answered_by_id = user.id
    response.answered_at = clock.now()
    commit(_changed_meanwhile())
    db.session.refresh(response)
    return {
        **_response_json(response),
        "period_id": response.period_id,
        "staff_member": {
            "id": response.staff_member.id,
            "employee_code": response.staff_member.employee_code,
            "full_name": response.staff_member.full_name,
            "position": response.staff_member.position,
        },
    }


# Overdue -----------------------------------------------------------------------------------


def overdue(user: User, page: int, per_page: int) -> dict[str, Any]:
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
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {
        "items": [
            {
                "staff_member": {
                    "id": member.id,
                    "employee_code": member.employee_code,
                    "full_name": member.full_name,
                    "position": member.position,
                },
                "hired_on": member.hired_on,
                "last_attested_on": last_on,
                "due_since": (last_on or member.hired_on) + ATTESTATION_INTERVAL,
            }
            for member, last_on in rows
        ],
        "total": total,
        "page": page,
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


def _period_results(period: AttestationPeriod) -> dict[int, dict[str, Any]]:
    if period.status == "closed":
        return {
            row.staff_member_id: {**row.result, "frozen_at": row.frozen_at}
            for row in db.session.execute(
                select(AttestationSheet).where(AttestationSheet.period_id == period.id)
            ).scalars()
        }
    return compute_sheets(period)


def leaderboards(user: User, period_id: int, limit: int) -> dict[str, Any]:
    """Top branches of the network and of each region, most improved branches (against the
    previous period of the same length), top employees with sufficient evidence, and the
    standards most often met. Ranks are among all; entries are those in ``user``'s scope."""
    period = get_period(period_id)
    visible = set(db.session.execute(select(Branch.id).where(access.branch_filter(user))).scalars())
    branches = {b.id: b for b in db.session.execute(select(Branch).order_by(Branch.id)).scalars()}
    regions = {r.id: r for r in db.session.execute(select(Region)).scalars()}
    means = _branch_means(period.starts_on, period.ends_on)

    def branch_entry(branch_id: int, rank: int, value: float, n: int) -> dict[str, Any]:
        branch = branches[branch_id]
        region = regions[branch.region_id]
        return {
            "rank": rank,
            "branch": {"id": branch.id, "code": branch.code, "name": branch.name},
            "region": {"id": region.id, "code": region.code, "name": region.name},
            "value": value,
            "audits": n,
        }

    def top(values: dict[int, tuple[float, int]]) -> list[dict[str, Any]]:
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
    region_boards = [
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
    ranked = {
        staff_id: result["points"]
        for staff_id, result in results.items()
        if result["status"] == "graded" and result["sufficient_evidence"]
    }
    staff_ranks = competition_ranks(ranked)
    employees = [
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
    ][:limit]

    return {
        "period": _period_json(period),
        "top_branches": top(means),
        "regions": region_boards,
        "most_improved": top(improved),
        "top_employees": employees,
        "standards": _standards_met(period, visible, limit),
    }


def _standards_met(
    period: AttestationPeriod, visible: set[int], limit: int
) -> list[dict[str, Any]]:
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
