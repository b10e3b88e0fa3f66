"""Scope rules: which regions, branches, staff, assignments and audits a user may see. One
place, used by every query.

Every list and every fetch by id goes through these filters, so a manager can neither list nor
fetch another branch's data, by id or by filter: out of scope looks exactly like "not found".
How much of a reachable audit each role sees (photos, history, flags, metadata) is the policy
in ``auditapp/visibility.py``, built on the role predicates at the end of this module.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, false, select, true

from auditapp.domain.vocabulary import HQ_ROLES
from auditapp.models import Branch, Region, StaffMember, StaffPlacement, User
from auditapp.models.user import user_branch, user_region

# Roles that see the whole network.
NETWORK_WIDE = frozenset(HQ_ROLES)


def branch_filter(user: User) -> ColumnElement[bool]:
    """A condition on ``Branch`` that is true exactly for the branches ``user`` may see."""
    if user.role in NETWORK_WIDE:
        return true()
    if user.role == "director":
        regions = select(user_region.c.region_id).where(user_region.c.user_id == user.id)
        return Branch.region_id.in_(regions)
    if user.role == "manager":
        branches = select(user_branch.c.branch_id).where(user_branch.c.user_id == user.id)
        return Branch.id.in_(branches)
    return false()


def visible_branch_ids(user: User) -> Select[Any]:
    """A subquery of the ids of the branches ``user`` may see (for filtering other tables)."""
    return select(Branch.id).where(branch_filter(user))


def region_filter(user: User) -> ColumnElement[bool]:
    """A condition on ``Region``: directors see their regions, managers their branches' regions."""
    if user.role in NETWORK_WIDE:
        return true()
    if user.role in ("director", "manager"):
        return Region.id.in_(select(Branch.region_id).where(branch_filter(user)))
    return false()


def staff_filter(user: User) -> ColumnElement[bool]:
    """A condition on ``StaffMember``: anyone ever placed in a visible branch; employees: self."""
    if user.role in NETWORK_WIDE:
        return true()
    if user.role in ("director", "manager"):
        placed = select(StaffPlacement.staff_member_id).where(
            StaffPlacement.branch_id.in_(visible_branch_ids(user))
        )
        return StaffMember.id.in_(placed)
    if user.role == "employee" and user.staff_member_id is not None:
        return StaffMember.id == user.staff_member_id
    return false()


def audit_filter(user: User) -> ColumnElement[bool]:
    """A condition on ``Audit``: what each role may see of the reports.

    HQ sees everything; a shopper their own; managers and directors the released audits of
    their branches; an employee the released audits in which they were named as serving.
    """
    from auditapp.models import Audit, AuditStaff

    if user.role in NETWORK_WIDE:
        return true()
    if user.role == "shopper":
        return Audit.shopper_id == user.id
    if user.role in ("director", "manager"):
        return (Audit.status == "released") & Audit.branch_id.in_(visible_branch_ids(user))
    if user.role == "employee" and user.staff_member_id is not None:
        served = select(AuditStaff.audit_id).where(
            AuditStaff.staff_member_id == user.staff_member_id
        )
        return (Audit.status == "released") & Audit.id.in_(served)
    return false()


def assignment_filter(user: User) -> ColumnElement[bool]:
    """A condition on ``Assignment``: HQ sees every assignment, a shopper only their own."""
    from auditapp.models import Assignment

    if user.role in NETWORK_WIDE:
        return true()
    if user.role == "shopper":
        return Assignment.shopper_id == user.id
    return false()


def sees_shopper_identity(user: User) -> bool:
    """Only HQ (and the shopper themself) may know who the shopper was."""
    return user.role in NETWORK_WIDE or user.role == "shopper"


def sees_photo_originals(user: User) -> bool:
    """Originals keep EXIF (GPS, device): HQ only."""
    return user.role in NETWORK_WIDE
