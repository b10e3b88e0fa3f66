"""Planning visits: waves, hand-made and automatically distributed assignments."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from auditapp import access
from auditapp.domain.distribution import Plan, Slot, distribute, slots_for
from auditapp.extensions import db
from auditapp.models import (
    Assignment,
    Branch,
    StaffPlacement,
    User,
    Wave,
)
from auditapp.services.checklists import get_version
from auditapp.services.errors import Conflict, Invalid, NotFound
from auditapp.services.pagination import Page, paginate
from auditapp.services.transactions import commit


@dataclass(frozen=True)
class WavePlan:
    """A wave to plan: its period, checklist version, branches and visits."""

    name: str
    checklist_version_id: int
    starts_on: date
    ends_on: date
    branch_ids: list[int]
    visits_per_branch: int = 1
    day_parts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NewAssignment:
    """A hand-made assignment: a shopper, a branch of the wave, a window within the wave."""

    branch_id: int
    shopper_id: int
    window_start: date
    window_end: date
    day_part: str | None = None


@dataclass(frozen=True)
class AssignmentFilters(Page):
    """Which assignments to list (each filter optional), and which page."""

    wave_id: int | None = None
    branch_id: int | None = None
    shopper_id: int | None = None


def due_at(branch: Branch, window_end: date) -> datetime:
    """The end of the window's last day in the branch's own time zone, as UTC."""
    local_end = datetime.combine(window_end + timedelta(days=1), time(0, 0))
    return local_end.replace(tzinfo=ZoneInfo(branch.timezone)).astimezone(ZoneInfo("UTC"))


def create_wave(actor: User, plan: WavePlan) -> Wave:
    """A wave over existing active branches of the kinds its checklist applies to."""
    version = get_version(plan.checklist_version_id)
    if plan.ends_on < plan.starts_on:
        raise Invalid("The wave ends before it starts.", fields={"ends_on": ["Before starts_on."]})
    ids = set(plan.branch_ids)
    branches = list(db.session.execute(select(Branch).where(Branch.id.in_(ids))).scalars())
    problems = [f"No branch {i}." for i in sorted(ids - {b.id for b in branches})]
    problems += [
        f"{b.code} is a {b.kind}; the checklist applies to {', '.join(version.applies_to)}."
        for b in branches
        if b.kind not in version.applies_to
    ]
    problems += [f"{b.code} is inactive." for b in branches if not b.active]
    if problems:
        raise Invalid("Some branches cannot be in this wave.", fields={"branch_ids": problems})
    wave = Wave(
        name=plan.name,
        checklist_version_id=version.id,
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        visits_per_branch=plan.visits_per_branch,
        day_parts=list(plan.day_parts),
        created_by_id=actor.id,
        branches=sorted(branches, key=lambda b: b.code),
    )
    db.session.add(wave)
    commit()
    return wave


def get_wave(wave_id: int) -> Wave:
    """A wave, else NotFound."""
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        raise NotFound(f"Wave {wave_id} not found.")
    return wave


def list_waves(filters: Page) -> dict[str, Any]:
    """Waves, newest first."""
    query = select(Wave).order_by(Wave.starts_on.desc(), Wave.id.desc())
    return paginate(query, filters.page, filters.per_page)


def _employed_pairs(shopper_ids: list[int], wave: Wave) -> set[tuple[int, int]]:
    """(shopper, branch) pairs where the shopper's staff record places them during the wave."""
    shoppers = db.session.execute(
        select(User.id, User.staff_member_id).where(
            User.id.in_(shopper_ids), User.staff_member_id.is_not(None)
        )
    ).all()
    staff_to_user = {staff_id: user_id for user_id, staff_id in shoppers}
    if not staff_to_user:
        return set()
    placements = db.session.execute(
        select(StaffPlacement.staff_member_id, StaffPlacement.branch_id).where(
            StaffPlacement.staff_member_id.in_(staff_to_user),
            StaffPlacement.started_on <= wave.ends_on,
            (StaffPlacement.ended_on.is_(None)) | (StaffPlacement.ended_on >= wave.starts_on),
        )
    ).all()
    return {(staff_to_user[staff], branch) for staff, branch in placements}


def _check_shoppers(ids: list[int], field: str) -> list[User]:
    shoppers = list(db.session.execute(select(User).where(User.id.in_(ids))).scalars())
    bad = sorted(set(ids) - {u.id for u in shoppers if u.role == "shopper" and u.active})
    if bad:
        raise Invalid("Not active shoppers.", fields={field: [f"Not an active shopper: {bad}."]})
    return shoppers


def add_assignment(wave_id: int, new: NewAssignment) -> Assignment:
    """Assign by hand, under the same rules as the automatic distribution."""
    wave = get_wave(wave_id)
    branch = next((b for b in wave.branches if b.id == new.branch_id), None)
    if branch is None:
        raise Invalid("Branch not in wave.", fields={"branch_id": ["Not part of this wave."]})
    _check_shoppers([new.shopper_id], "shopper_id")
    if (new.shopper_id, branch.id) in _employed_pairs([new.shopper_id], wave):
        raise Conflict("The shopper works at this branch.", code="shopper_employed_here")
    start, end = new.window_start, new.window_end
    if not (wave.starts_on <= start <= end <= wave.ends_on):
        raise Invalid(
            "The window must lie within the wave.",
            fields={"window_end": [f"Between {wave.starts_on} and {wave.ends_on}, in order."]},
        )
    assignment = Assignment(
        wave=wave,
        branch=branch,
        shopper_id=new.shopper_id,
        window_start=start,
        window_end=end,
        day_part=new.day_part,
        due_at=due_at(branch, end),
    )
    db.session.add(assignment)
    commit(
        Conflict("This shopper already visits this branch in this wave.", code="duplicate_visit")
    )
    return assignment


def auto_distribute(wave_id: int, shopper_ids: list[int]) -> tuple[list[Assignment], list[Slot]]:
    """Fill the wave's remaining visits evenly among ``shopper_ids``; returns what was made
    and the visits nobody eligible was left for."""
    wave = db.session.execute(
        select(Wave).where(Wave.id == wave_id).options(selectinload(Wave.branches))
    ).scalar_one_or_none()
    if wave is None:
        raise NotFound(f"Wave {wave_id} not found.")
    _check_shoppers(shopper_ids, "shopper_ids")
    existing = list(
        db.session.execute(select(Assignment).where(Assignment.wave_id == wave.id)).scalars()
    )
    per_branch = Counter(a.branch_id for a in existing)
    load = Counter(a.shopper_id for a in existing)
    excluded = {(a.shopper_id, a.branch_id) for a in existing}
    excluded |= _employed_pairs(shopper_ids, wave)
    slots = slots_for(
        [b.id for b in wave.branches],
        wave.starts_on,
        wave.ends_on,
        wave.visits_per_branch,
        wave.day_parts,
        per_branch,
    )
    plan: Plan = distribute(slots, shopper_ids, excluded, load)
    branches = {b.id: b for b in wave.branches}
    created = []
    for item in plan.planned:
        slot = item.slot
        assignment = Assignment(
            wave=wave,
            branch=branches[slot.branch_id],
            shopper_id=item.shopper_id,
            window_start=slot.window_start,
            window_end=slot.window_end,
            day_part=slot.day_part,
            due_at=due_at(branches[slot.branch_id], slot.window_end),
        )
        db.session.add(assignment)
        created.append(assignment)
    commit(Conflict("Assignments changed meanwhile; run the distribution again."))
    made = [a.id for a in created]
    reloaded = db.session.execute(
        select(Assignment)
        .where(Assignment.id.in_(made))
        .options(selectinload(Assignment.branch), selectinload(Assignment.audit))
        .order_by(Assignment.id)
    ).scalars()
    return list(reloaded), list(plan.unfilled)


def list_assignments(user: User, filters: AssignmentFilters) -> dict[str, Any]:
    """HQ: all (filterable by wave, branch, shopper); a shopper: their own."""
    query = (
        select(Assignment)
        .where(access.assignment_filter(user))
        .options(selectinload(Assignment.branch), selectinload(Assignment.audit))
    )
    if filters.wave_id is not None:
        query = query.where(Assignment.wave_id == filters.wave_id)
    if filters.branch_id is not None:
        query = query.where(Assignment.branch_id == filters.branch_id)
    if filters.shopper_id is not None:
        query = query.where(Assignment.shopper_id == filters.shopper_id)
    query = query.order_by(Assignment.window_start, Assignment.id)
    return paginate(query, filters.page, filters.per_page)


def get_assignment(user: User, assignment_id: int) -> Assignment:
    """An assignment the caller may see (a shopper only their own)."""
    assignment = db.session.execute(
        select(Assignment).where(Assignment.id == assignment_id, access.assignment_filter(user))
    ).scalar_one_or_none()
    if assignment is None:
        raise NotFound(f"Assignment {assignment_id} not found.")
    return assignment


def delete_assignment(assignment_id: int) -> None:
    """Withdraw an assignment nobody has started."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound(f"Assignment {assignment_id} not found.")
    if assignment.audit is not None:
        raise Conflict("The shopper has started this visit; it cannot be withdrawn.")
    db.session.delete(assignment)
    commit()
