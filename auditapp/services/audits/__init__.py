"""The audit lifecycle as use cases, one module each: the shopper's bundle (``bundle``),
drafts (``drafts``), idempotent submission (``submission``), reading and red flags
(``reading``), QA review and release (``review``), disputes (``disputes``). Every change after
submission is appended to the history.

Scores are computed here, on the server, with the domain's scoring engine, and stored on the
audit, so ratings never re-score answers and nothing trusts the client for a score. Each use
case is one transaction, committed once (``auditapp/services/transactions.py``).
"""

from auditapp.services.audits.bundle import shopper_bundle, shopper_bundle_json
from auditapp.services.audits.common import checklist_for
from auditapp.services.audits.disputes import (
    Claim,
    DisputeFilter,
    Ruling,
    change_answer,
    list_disputes,
    open_disputes,
    raise_dispute,
    resolve_dispute,
)
from auditapp.services.audits.drafts import Draft, ensure_draft, save_draft
from auditapp.services.audits.reading import (
    AuditFilters,
    audit_detail,
    audit_view,
    flags_of,
    get_audit,
    list_audits,
    review_queue,
)
from auditapp.services.audits.review import Decision, release, release_wave, review
from auditapp.services.audits.submission import (
    Geo,
    StaffServed,
    Submission,
    submission_hash,
    submit,
)

__all__ = [
    "AuditFilters",
    "Claim",
    "Decision",
    "Draft",
    "Geo",
    "Ruling",
    "StaffServed",
    "Submission",
    "audit_detail",
    "audit_view",
    "change_answer",
    "checklist_for",
    "ensure_draft",
    "flags_of",
    "get_audit",
    "list_audits",
    "list_disputes",
    "open_disputes",
    "DisputeFilter",
    "raise_dispute",
    "release",
    "release_wave",
    "resolve_dispute",
    "review",
    "review_queue",
    "save_draft",
    "shopper_bundle",
    "shopper_bundle_json",
    "submission_hash",
    "submit",
]
