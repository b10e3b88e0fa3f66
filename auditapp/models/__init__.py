"""SQLAlchemy 2.0 typed models. Importing this package registers every table."""

from auditapp.models.attestation import (
    AttestationPeriod,
    AttestationRuleSet,
    AttestationSheet,
    Award,
    InternalScore,
    SheetResponse,
)
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
from auditapp.models.ratings import (
    PART_KINDS,
    RatingAudit,
    RatingItemRollup,
    RatingPeriodRollup,
    RatingRollup,
    RatingState,
)
from auditapp.models.reports import JOB_STATUSES, ReportJob
from auditapp.models.user import ApiToken, User, user_branch, user_region

__all__ = [
    "JOB_STATUSES",
    "PART_KINDS",
    "ApiToken",
    "AttestationPeriod",
    "AttestationRuleSet",
    "AttestationSheet",
    "Award",
    "InternalScore",
    "SheetResponse",
    "Assignment",
    "Audit",
    "AuditHistory",
    "AuditPhoto",
    "AuditStaff",
    "Branch",
    "ChecklistVersion",
    "Dispute",
    "LoginThrottle",
    "RatingAudit",
    "RatingItemRollup",
    "RatingPeriodRollup",
    "RatingRollup",
    "RatingState",
    "Region",
    "ReportJob",
    "StaffMember",
    "StaffPlacement",
    "User",
    "Wave",
    "user_branch",
    "user_region",
    "wave_branch",
]
