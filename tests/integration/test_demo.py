"""The demo loads a believable, internally consistent year of activity.

Loading takes several seconds (hundreds of audits, a thousand generated photos through the real
pipeline), so one test loads it once and checks every property on the same data.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from auditapp import demo
from auditapp.domain.scoring import check_photo_rules, score_audit
from auditapp.domain.vocabulary import AUDIT_STATUSES
from auditapp.extensions import db
from auditapp.models import Assignment, Audit, AuditPhoto, Dispute, User, Wave
from auditapp.schemas.audits import SubmitSchema
from auditapp.services.audits import flags_of, submission_hash
from auditapp.services.checklists import checklist_of
from auditapp.services.photos import storage

SCORED_STATUSES = ("submitted", "returned", "approved", "rejected", "released")


def _audits() -> list[Audit]:
    """Every audit with what the checks read, loaded up front."""
    query = select(Audit).options(
        selectinload(Audit.assignment).selectinload(Assignment.wave),
        selectinload(Audit.branch),
        selectinload(Audit.checklist_version),
        selectinload(Audit.photos),
        selectinload(Audit.staff_served),
        selectinload(Audit.history),
        selectinload(Audit.disputes),
    )
    return list(db.session.execute(query).scalars())


def _check_statuses_and_counts(audits: list[Audit]) -> None:
    statuses = Counter(audit.status for audit in audits)
    assert set(statuses) == set(AUDIT_STATUSES), statuses
    assert 300 <= len(audits) <= 450, len(audits)


def _check_scores(audits: list[Audit]) -> None:
    """Stored scores are the engine's result for the stored answers and checklist version."""
    for audit in audits:
        checklist = checklist_of(audit.checklist_version)
        if audit.status == "in_progress":
            assert audit.score is None and audit.submitted_at is None, audit.id
            continue
        assert audit.status in SCORED_STATUSES
        expected = score_audit(checklist, audit.answers).to_dict()
        assert audit.score_detail == expected, audit.id
        assert (audit.score, audit.earned, audit.possible) == (
            expected["score"],
            expected["earned"],
            expected["possible"],
        ), audit.id
        # The newest "score" history entry says what the score is now.
        score_changes = [h for h in audit.history if h.field == "score"]
        assert score_changes and score_changes[-1].new_value == audit.score, audit.id
        counts = Counter(p.item_id for p in audit.photos if p.purpose == "evidence")
        assert check_photo_rules(checklist, audit.answers, counts) == [], audit.id


def _check_timeline(audits: list[Audit]) -> None:
    """A year of past events, in order, released audits in at least ten months."""
    now = datetime.now(UTC)
    released_months = set()
    for audit in audits:
        assert audit.visit_started_at is not None
        assert audit.visit_started_at <= now
        if audit.visit_ended_at is not None:
            assert audit.visit_started_at < audit.visit_ended_at
        times = [h.at for h in audit.history]
        assert times == sorted(times), audit.id
        assert all(at <= now for at in times), audit.id
        if audit.status == "released":
            assert audit.released_at is not None and audit.released_at <= now
            assert audit.first_submitted_at is not None
            assert audit.visit_started_at < audit.first_submitted_at <= audit.released_at
            released_months.add((audit.visit_started_at.year, audit.visit_started_at.month))
        if audit.status == "returned":
            assert audit.review_comment, audit.id
    assert len(released_months) >= 10, released_months


def _check_assignments(audits: list[Audit]) -> None:
    """No shopper visits a branch twice in a wave; branches fit their checklist."""
    pairs = Counter(
        db.session.execute(
            select(Assignment.wave_id, Assignment.branch_id, Assignment.shopper_id)
        ).all()
    )
    assert pairs and max(pairs.values()) == 1
    for audit in audits:
        assert audit.branch.kind in audit.checklist_version.applies_to, audit.id
        assert audit.branch_id == audit.assignment.branch_id
        assert audit.shopper_id == audit.assignment.shopper_id
        assert audit.checklist_version_id == audit.assignment.wave.checklist_version_id
    for wave in db.session.execute(select(Wave)).scalars():
        assert all(b.kind in wave.checklist_version.applies_to for b in wave.branches)
        assert all(b.active for b in wave.branches)


def _check_staff(audits: list[Audit]) -> None:
    """Staff served were placed at the audited branch on the visit day."""
    named = 0
    for audit in audits:
        assert audit.visit_started_at is not None
        day = audit.visit_started_at.date()
        for served in audit.staff_served:
            if served.staff_member is None:
                assert served.description.strip()
                continue
            named += 1
            assert any(
                p.branch_id == audit.branch_id
                and p.started_on <= day
                and (p.ended_on is None or p.ended_on >= day)
                for p in served.staff_member.placements
            ), (audit.id, served.staff_member_id)
    assert named > 0


def _check_photos(audits: list[Audit]) -> None:
    """Files of ready photos exist; a reused photo points at an identical earlier one."""
    store = storage()
    photos = list(db.session.execute(select(AuditPhoto)).scalars())
    assert photos
    for photo in photos:
        assert photo.status == "ready"
        for key in (photo.original_key, photo.display_key, photo.thumb_key):
            assert key is not None and store.exists(key), (photo.id, key)
    assert len({p.phash for p in photos if p.reuse_kind is None}) > 0.9 * len(photos)
    reused = [p for p in photos if p.reuse_kind == "identical"]
    assert reused
    for photo in reused:
        original = db.session.get(AuditPhoto, photo.reused_from_photo_id)
        assert original is not None
        assert original.sha256 == photo.sha256 and original.audit_id != photo.audit_id
    # The review queue shows red flags: reuse, lateness, too short a visit.
    codes = {f.code for a in audits if a.status == "submitted" for f in flags_of(a)}
    assert {"photo_reused", "late_submission"} <= codes, codes


def _check_disputes() -> None:
    """Disputes in every status, by the branch's manager; upheld ones changed the answer."""
    disputes = list(db.session.execute(select(Dispute)).scalars())
    assert {d.status for d in disputes} == {"open", "upheld", "rejected"}
    for dispute in disputes:
        audit = dispute.audit
        assert audit.status == "released"
        manager = db.session.get(User, dispute.raised_by_id)
        assert manager is not None and manager.role == "manager"
        assert audit.branch_id in {b.id for b in manager.branches}
        field = f"answers.{dispute.item_id}"
        actions = [h.action for h in audit.history if h.field == field]
        assert "disputed" in actions
        if dispute.status == "upheld":
            assert "dispute_upheld" in actions
            assert audit.answers[dispute.item_id] == dispute.requested_value
            assert any(h.action == "score_changed" for h in audit.history)
        if dispute.status == "open":
            assert dispute.resolved_at is None
        else:
            assert dispute.resolved_at is not None and dispute.resolution


def _submitted_body(audit: Audit) -> dict[str, Any]:
    """The JSON the phone sent in the audit's last submission, rebuilt from what is stored
    (answers changed by an upheld dispute are put back as they were submitted)."""
    answers = dict(audit.answers)
    for entry in reversed(audit.history):
        if entry.action == "dispute_upheld" and entry.field is not None:
            answers[entry.field.removeprefix("answers.")] = entry.old_value
    assert audit.visit_started_at is not None and audit.visit_ended_at is not None
    body: dict[str, Any] = {
        "assignment_id": audit.assignment_id,
        "answers": answers,
        "comment": audit.comment,
        "visit_started_at": audit.visit_started_at.isoformat(),
        "visit_ended_at": audit.visit_ended_at.isoformat(),
        "staff": [
            {"staff_role": s.staff_role, "staff_member_id": s.staff_member_id}
            if s.staff_member_id is not None
            else {"staff_role": s.staff_role, "description": s.description}
            for s in audit.staff_served
        ],
    }
    if audit.geo_lat is not None:
        body["geo"] = {
            "lat": audit.geo_lat,
            "lon": audit.geo_lon,
            "accuracy_m": audit.geo_accuracy_m,
        }
    return body


def _check_submission_hashes(audits: list[Audit]) -> None:
    """Every submitted report carries the hash the API's submission path gives its body."""
    submitted = [a for a in audits if a.status != "in_progress"]
    assert submitted
    for audit in submitted:
        payload = SubmitSchema().load(_submitted_body(audit))
        assert audit.submission_hash == submission_hash(payload), audit.id


def _check_history(audits: list[Audit]) -> None:
    """The history is the one the services write: each report starts with its submission by
    the shopper, every score entry continues the previous one, QA's steps are QA's."""
    for audit in audits:
        if audit.status == "in_progress":
            assert audit.history == [], audit.id
            continue
        first = audit.history[0]
        assert (first.action, first.actor_id, first.old_value) == (
            "submitted",
            audit.shopper_id,
            None,
        ), audit.id
        scores = [h for h in audit.history if h.field == "score"]
        for before, after in zip(scores, scores[1:], strict=False):
            assert after.old_value == before.new_value, audit.id
        reviewer_actions = {"approve", "return", "reject", "released", "score_changed"}
        for entry in audit.history:
            if entry.action in reviewer_actions:
                assert entry.actor_role == "reviewer", (audit.id, entry.action)
        if audit.status in ("approved", "released", "rejected", "returned"):
            assert audit.reviewed_at is not None
            assert audit.reviewed_at in {h.at for h in audit.history}, audit.id


def test_the_demo_package_writes_no_row_itself() -> None:
    """The demo calls services; it never adds, deletes, commits or sets scores and statuses."""
    package = Path(demo.__file__).parent
    writes = re.compile(
        r"session\.(add|add_all|delete|commit|flush|merge)\b|AuditHistory\(|"
        r"\.(score|status|submission_hash|score_detail|released_at|reviewed_at)\s*=[^=]"
    )
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(package.glob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if writes.search(line)
    ]
    assert found == []


def _monthly_scores(audits: list[Audit]) -> dict[str, dict[int, list[float]]]:
    """Counting scores by branch and by months before the demo's current month."""
    anchor = date.today() - timedelta(days=2)
    current = anchor.year * 12 + anchor.month - 1
    scores: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for audit in audits:
        if audit.status in ("approved", "released") and audit.score is not None:
            assert audit.visit_started_at is not None
            visit = audit.visit_started_at
            months_ago = current - (visit.year * 12 + visit.month - 1)
            scores[audit.branch.code][months_ago].append(audit.score)
    return scores


def _check_trends(audits: list[Audit]) -> None:
    """Ratings have something to show: a few clearly weak branches, a few whose last three
    months fell well over 10 points under their trailing six months, the rest steady or
    improving."""
    by_branch = _monthly_scores(audits)
    year = {
        code: statistics.mean(s for month in months.values() for s in month)
        for code, months in by_branch.items()
    }
    median = statistics.median(year.values())
    weak = [code for code, mean in year.items() if mean < median - 12]
    assert 3 <= len(weak) <= 7, (median, year)
    change = {}
    for code, months in by_branch.items():
        recent = [s for m in (0, 1, 2) for s in months.get(m, [])]
        trailing = [s for m in range(3, 9) for s in months.get(m, [])]
        if recent and trailing:
            change[code] = statistics.mean(recent) - statistics.mean(trailing)
    declining = [code for code, delta in change.items() if delta < -10]
    assert 3 <= len(declining) <= 6, change
    assert len([c for c in declining if change[c] < -15]) >= 3, change
    steady_or_better = [code for code, delta in change.items() if delta >= -10]
    assert len(steady_or_better) >= 2 * len(change) // 3, change


def _check_attestation() -> None:
    """Two rule set versions, a closed and an open period, sheets in every state, awards."""
    from auditapp.models import AttestationPeriod, AttestationSheet, Award
    from auditapp.services import attestation

    periods = list(db.session.execute(select(AttestationPeriod).order_by(AttestationPeriod.id)))
    closed, current = (row[0] for row in periods)
    assert (closed.status, current.status) == ("closed", "open")
    assert current.rule_set_id != closed.rule_set_id
    sheets = list(db.session.execute(select(AttestationSheet)).scalars())
    assert len(sheets) >= 10 and {s.period_id for s in sheets} == {closed.id}
    assert {"graded"} <= {s.status for s in sheets}
    admin = db.session.execute(select(User).where(User.login == "admin")).scalar_one()
    states = {
        item["state"]
        for item in attestation.list_sheets(
            admin, closed.id, attestation.SheetFilters(per_page=500)
        )["items"]
    }
    assert {"pending", "acknowledged", "objected", "answered"} <= states
    live = attestation.list_sheets(admin, current.id, attestation.SheetFilters(per_page=5))["items"]
    assert live and {item["state"] for item in live} == {"live"}
    assert db.session.execute(select(Award)).first() is not None


def test_demo_loads_a_consistent_year_of_audits(app: Flask) -> None:
    demo.load_demo(date.today())
    audits = _audits()
    _check_statuses_and_counts(audits)
    _check_scores(audits)
    _check_timeline(audits)
    _check_assignments(audits)
    _check_staff(audits)
    _check_photos(audits)
    _check_disputes()
    _check_submission_hashes(audits)
    _check_history(audits)
    _check_trends(audits)

    _check_attestation()

    made = demo.summary()
    assert sum(made.audits.values()) == len(audits)
    assert made.reused_photos >= 1

    # A second run refuses to load the demo again.
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0
    assert "was not loaded again" in result.output
    assert sum(demo.summary().audits.values()) == len(audits)
