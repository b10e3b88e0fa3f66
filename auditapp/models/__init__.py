"""SQLAlchemy 2.0 typed models. Importing this package registers every table."""

# The vocabulary lives in auditapp.domain.vocabulary; these names stay importable from here for
# code written before it moved (import them from the domain in new code).
from auditapp.domain.vocabulary import AUDIT_STATUSES, BRANCH_KINDS, COUNTING_STATUSES, ROLES
from auditapp.models.audit import (
    Assignment,
    Audit,
    AuditHistory,
    AuditPhoto,
    AuditStaff,
    Dispute,
    Wave,
    wave_branch,
)
from auditapp.models.checklist import ChecklistVersion
from auditapp.models.login_throttle import LoginThrottle
from auditapp.models.network import Branch, Region, StaffMember, StaffPlacement
from auditapp.models.user import ApiToken, User, user_branch, user_region

__all__ = [
    "AUDIT_STATUSES",
    "BRANCH_KINDS",
    "COUNTING_STATUSES",
    "ROLES",
    "ApiToken",
    "Assignment",
    "Audit",
    "AuditHistory",
    "AuditPhoto",
    "AuditStaff",
    "Branch",
    "ChecklistVersion",
    "Dispute",
    "LoginThrottle",
    "Region",
    "StaffMember",
    "StaffPlacement",
    "User",
    "Wave",
    "user_branch",
    "user_region",
    "wave_branch",
]
