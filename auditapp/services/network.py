"""Use cases for the network: regions, branches, staff and their moves. The only layer that commits.

Reads take the caller and go through ``auditapp.access``; writes are for admins (the API checks
the role; these functions enforce the data rules).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, TypedDict

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from auditapp import access
from auditapp.extensions import db
from auditapp.models import Branch, Region, StaffMember, StaffPlacement, User
from auditapp.services.errors import Conflict, Invalid, NotFound
from auditapp.services.pagination import paginate
from auditapp.services.transactions import commit

# What the API loads for each write, as the model's own column values: a new row gets every
# column (``...Fields``), a partial update only those given (``...Changes``), which a
# dataclass could only say with a sentinel per field.


class RegionFields(TypedDict):
    """A new region."""

    code: str
    name: str


class RegionChanges(TypedDict, total=False):
    """The region fields to change."""

    code: str
    name: str


class BranchFields(TypedDict):
    """A new branch."""

    region_id: int
    code: str
    name: str
    kind: str
    city: str
    address: str
    timezone: str
    latitude: float | None
    longitude: float | None
    active: bool


class BranchChanges(TypedDict, total=False):
    """The branch fields to change."""

    region_id: int
    code: str
    name: str
    kind: str
    city: str
    address: str
    timezone: str
    latitude: float | None
    longitude: float | None
    active: bool


class StaffFields(TypedDict):
    """A new staff member and the branch they start at."""

    employee_code: str
    full_name: str
    position: str
    branch_id: int
    hired_on: date
    left_on: date | None


class StaffChanges(TypedDict, total=False):
    """A staff member's own fields to change (moves go through ``move_staff``)."""

    employee_code: str
    full_name: str
    position: str
    hired_on: date
    left_on: date | None


class _Page(TypedDict):
    page: int
    per_page: int


class BranchFilters(_Page, total=False):
    """Filters of the branch list (each optional)."""

    region_id: int
    kind: str
    city: str
    active: bool
    q: str


class StaffFilters(_Page, total=False):
    """Filters of the staff list (each optional)."""

    branch_id: int
    position: str
    q: str


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# Regions -----------------------------------------------------------------------------------


def list_regions(user: User, page: int, per_page: int) -> dict[str, Any]:
    """The regions ``user`` may see, by code."""
    query = select(Region).where(access.region_filter(user)).order_by(Region.code)
    return paginate(query, page, per_page)


def get_region(user: User, region_id: int) -> Region:
    """A region in scope, else NotFound."""
    region = db.session.execute(
        select(Region).where(Region.id == region_id, access.region_filter(user))
    ).scalar_one_or_none()
    if region is None:
        raise NotFound(f"Region {region_id} not found.")
    return region


def create_region(fields: RegionFields) -> Region:
    """A new region; codes are unique."""
    region = Region(**fields)
    db.session.add(region)
    commit(Conflict(f"A region with code {fields['code']!r} already exists."))
    return region


def update_region(user: User, region_id: int, fields: RegionChanges) -> Region:
    """Change the given fields of a region."""
    region = get_region(user, region_id)
    for name, value in fields.items():
        setattr(region, name, value)
    commit(Conflict("A region with that code already exists."))
    return region


def delete_region(user: User, region_id: int) -> None:
    """Delete an empty region; one with branches is refused."""
    region = get_region(user, region_id)
    if db.session.execute(select(Branch.id).where(Branch.region_id == region.id)).first():
        raise Conflict("The region has branches; move or delete them first.")
    db.session.delete(region)
    commit()


# Branches ----------------------------------------------------------------------------------


def list_branches(user: User, filters: BranchFilters) -> dict[str, Any]:
    """The branches ``user`` may see, filtered; a filter never widens the scope."""
    query = select(Branch).options(selectinload(Branch.region)).where(access.branch_filter(user))
    for name in ("region_id", "kind", "active"):
        if name in filters:
            query = query.where(getattr(Branch, name) == filters[name])
    if "city" in filters:
        query = query.where(Branch.city == filters["city"])
    if filters.get("q"):
        pattern = _like(filters["q"])
        query = query.where(
            or_(Branch.code.ilike(pattern, escape="\\"), Branch.name.ilike(pattern, escape="\\"))
        )
    return paginate(query.order_by(Branch.code), filters["page"], filters["per_page"])


def get_branch(user: User, branch_id: int) -> Branch:
    """A branch in scope, else NotFound (out of scope is not told apart from missing)."""
    branch = db.session.execute(
        select(Branch).where(Branch.id == branch_id, access.branch_filter(user))
    ).scalar_one_or_none()
    if branch is None:
        raise NotFound(f"Branch {branch_id} not found.")
    return branch


def _check_region(region_id: int) -> None:
    if db.session.get(Region, region_id) is None:
        raise Invalid("Unknown region.", fields={"region_id": [f"No region {region_id}."]})


def create_branch(fields: BranchFields) -> Branch:
    """A new branch in an existing region."""
    _check_region(fields["region_id"])
    branch = Branch(**fields)
    db.session.add(branch)
    commit(Conflict(f"A branch with code {fields['code']!r} already exists."))
    return branch


def update_branch(user: User, branch_id: int, fields: BranchChanges) -> Branch:
    """Change the given fields of a branch."""
    branch = get_branch(user, branch_id)
    if "region_id" in fields:
        _check_region(fields["region_id"])
    for name, value in fields.items():
        setattr(branch, name, value)
    commit(Conflict("A branch with that code already exists."))
    return branch


def delete_branch(user: User, branch_id: int) -> None:
    """Delete a branch nothing refers to; otherwise deactivate it instead (409 says so)."""
    branch = get_branch(user, branch_id)
    db.session.delete(branch)
    commit(Conflict("The branch has history (staff, audits); set active=false instead."))


# Staff -------------------------------------------------------------------------------------


def _staff_query(user: User) -> Any:
    return (
        select(StaffMember)
        .options(selectinload(StaffMember.placements).selectinload(StaffPlacement.branch))
        .where(access.staff_filter(user))
    )


def list_staff(user: User, filters: StaffFilters) -> dict[str, Any]:
    """Staff members ``user`` may see; ``branch_id`` filters by current placement."""
    query = _staff_query(user)
    if "branch_id" in filters:
        current = select(StaffPlacement.staff_member_id).where(
            StaffPlacement.branch_id == filters["branch_id"], StaffPlacement.ended_on.is_(None)
        )
        query = query.where(StaffMember.id.in_(current))
    if "position" in filters:
        query = query.where(StaffMember.position == filters["position"])
    if filters.get("q"):
        pattern = _like(filters["q"])
        query = query.where(
            or_(
                StaffMember.full_name.ilike(pattern, escape="\\"),
                StaffMember.employee_code.ilike(pattern, escape="\\"),
            )
        )
    return paginate(
        query.order_by(StaffMember.full_name, StaffMember.id), filters["page"], filters["per_page"]
    )


def get_staff(user: User, staff_id: int) -> StaffMember:
    """A staff member in scope, else NotFound."""
    staff = db.session.execute(
        _staff_query(user).where(StaffMember.id == staff_id)
    ).scalar_one_or_none()
    if staff is None:
        raise NotFound(f"Staff member {staff_id} not found.")
    return staff


def _check_branch(branch_id: int, field: str = "branch_id") -> Branch:
    branch = db.session.get(Branch, branch_id)
    if branch is None:
        raise Invalid("Unknown branch.", fields={field: [f"No branch {branch_id}."]})
    return branch


def _check_dates(hired_on: date, left_on: date | None) -> None:
    if left_on is not None and left_on < hired_on:
        raise Invalid("Left before hired.", fields={"left_on": ["Must not be before hired_on."]})


def create_staff(fields: StaffFields) -> StaffMember:
    """A new staff member, placed at a branch from the hiring date."""
    branch = _check_branch(fields["branch_id"])
    _check_dates(fields["hired_on"], fields.get("left_on"))
    staff = StaffMember(**{k: v for k, v in fields.items() if k != "branch_id"})
    staff.placements.append(
        StaffPlacement(
            branch=branch,
            position=staff.position,
            started_on=staff.hired_on,
            ended_on=staff.left_on,
        )
    )
    db.session.add(staff)
    commit(Conflict(f"A staff member with code {fields['employee_code']!r} already exists."))
    return staff


def update_staff(user: User, staff_id: int, fields: StaffChanges) -> StaffMember:
    """Change a staff member's own fields; leaving closes the current placement."""
    staff = get_staff(user, staff_id)
    for name, value in fields.items():
        setattr(staff, name, value)
    _check_dates(staff.hired_on, staff.left_on)
    current = _current_placement(staff)
    if current is not None and staff.left_on is not None:
        if staff.left_on < current.started_on:
            raise Invalid(
                "Left before the current placement started.",
                fields={"left_on": [f"Must not be before {current.started_on.isoformat()}."]},
            )
        current.ended_on = staff.left_on
    commit(Conflict("A staff member with that code already exists."))
    return staff


def _current_placement(staff: StaffMember) -> StaffPlacement | None:
    return next((p for p in staff.placements if p.ended_on is None), None)


def move_staff(
    user: User, staff_id: int, branch_id: int, on: date, position: str | None = None
) -> StaffMember:
    """Move a staff member: the current placement ends the day before ``on``; history is kept."""
    staff = get_staff(user, staff_id)
    place_staff(staff, _check_branch(branch_id), on, position)
    commit()
    return staff


def place_staff(staff: StaffMember, branch: Branch, on: date, position: str | None = None) -> None:
    """Record a move in the session without committing (shared by the API and CSV import)."""
    if staff.left_on is not None:
        raise Invalid("The staff member has left.", fields={"branch_id": ["Staff member left."]})
    current = _current_placement(staff)
    if current is not None:
        if on <= current.started_on:
            raise Invalid(
                "A move must start after the current placement.",
                fields={"on": [f"Must be after {current.started_on.isoformat()}."]},
            )
        current.ended_on = on - timedelta(days=1)
    if position:
        staff.position = position
    staff.placements.append(StaffPlacement(branch=branch, position=staff.position, started_on=on))
