"""SQLAlchemy 2.0 typed models. Importing this package registers every table."""

from auditapp.models.network import BRANCH_KINDS, Branch, Region, StaffMember, StaffPlacement
from auditapp.models.user import ROLES, ApiToken, User, user_branch, user_region

__all__ = [
    "BRANCH_KINDS",
    "ROLES",
    "ApiToken",
    "Branch",
    "Region",
    "StaffMember",
    "StaffPlacement",
    "User",
    "user_branch",
    "user_region",
]
