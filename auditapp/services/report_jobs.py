"""Report jobs: a document too large to build during a request (a region or network comparison,
a branch's bundle of attestation sheets) is asked for, built by a background job as the user
who asked, stored, and fetched when ready.

Only the requester sees a job and its file (anyone else: 404). The scope is checked when the
job is asked for (an out-of-scope region is 404 at once) and again while it is built, as the
requester, so a job never holds more than its requester may see at build time.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Any

from sqlalchemy import select

from auditapp.clock import now
from auditapp.domain.ratings import Period
from auditapp.extensions import db
from auditapp.jobs import enqueue
from auditapp.models import ReportJob, User
from auditapp.services import attestation as attestation_service
from auditapp.services import photos as photo_service
from auditapp.services import ratings as rating_service
from auditapp.services import reports
from auditapp.services.errors import Conflict, NotFound
from auditapp.services.transactions import commit, rollback

log = logging.getLogger(__name__)

KINDS = ("comparison", "bundle")


def request_comparison(
    user: User,
    region_id: int | None,
    period: Period,
    filters: rating_service.Filters,
    options: rating_service.Options,
    lang: str,
) -> ReportJob:
    """Queue a comparison of a region (or of the network) for ``user``; returns the job."""
    if region_id is not None:
        rating_service.visible_region(user, region_id)  # 404 now, not in the worker
    job = ReportJob(
        id=uuid.uuid4(),
        kind="comparison",
        requested_by_id=user.id,
        params={
            "region_id": region_id,
            "first_month": period.first.isoformat(),
            "last_month": period.last.isoformat(),
            "checklist": filters.checklist,
            "channel": filters.channel,
            "branch_kind": filters.branch_kind,
            "min_visits": options.min_visits,
            "decline_window": options.decline_window,
            "decline_points": options.decline_points,
            "lang": lang,
        },
        status="queued",
    )
    return _queue(job)


def request_bundle(user: User, period_id: int, branch_id: int, lang: str) -> ReportJob:
    """Queue the bundle of every attestation sheet of a branch's staff for a period, as
    ``user`` may read them; an unknown period or a branch out of scope is NotFound now."""
    attestation_service.get_period(period_id)
    attestation_service.visible_branch(user, branch_id)
    job = ReportJob(
        id=uuid.uuid4(),
        kind="bundle",
        requested_by_id=user.id,
        params={"period_id": period_id, "branch_id": branch_id, "lang": lang},
        status="queued",
    )
    return _queue(job)


def _queue(job: ReportJob) -> ReportJob:
    db.session.add(job)
    commit()
    enqueue("build_report", str(job.id))
    db.session.refresh(job)
    return job


def _render(job: ReportJob, user: User) -> reports.Document:
    """The job's document, rendered as its requester."""
    params: dict[str, Any] = dict(job.params)
    if job.kind == "bundle":
        return reports.attestation_bundle(
            user, params["period_id"], params["branch_id"], params["lang"]
        )
    return reports.comparison_pdf(
        user,
        params["region_id"],
        Period(date.fromisoformat(params["first_month"]), date.fromisoformat(params["last_month"])),
        rating_service.Filters(params["checklist"], params["channel"], params["branch_kind"]),
        rating_service.Options(
            params["min_visits"], params["decline_window"], params["decline_points"]
        ),
        params["lang"],
    )


def build(job_id: str) -> None:
    """Build a queued job's document (a second run of a finished job does nothing)."""
    job = db.session.get(ReportJob, uuid.UUID(job_id))
    if job is None or job.status in ("ready", "failed"):
        return
    job.status = "running"
    commit()
    try:
        user = db.session.get(User, job.requested_by_id)
        if user is None or not user.active:
            raise NotFound("The requester no longer exists or is inactive.")
        document = _render(job, user)
        key = f"reports/{job.id.hex}.pdf"
        photo_service.storage().put(key, document.content)
    except Exception as error:  # a failed job says why; the worker stays up
        rollback()
        job = db.session.get(ReportJob, uuid.UUID(job_id))
        assert job is not None
        job.status = "failed"
        job.error = str(error)[:2000] or type(error).__name__
        job.finished_at = now()
        commit()
        log.exception("report job %s failed", job_id)
        return
    job.status = "ready"
    job.file_key = key
    job.filename = document.filename
    job.byte_size = len(document.content)
    job.finished_at = now()
    commit()


def get_job(user: User, job_id: uuid.UUID) -> ReportJob:
    """The caller's own job, else NotFound."""
    job = db.session.execute(
        select(ReportJob).where(ReportJob.id == job_id, ReportJob.requested_by_id == user.id)
    ).scalar_one_or_none()
    if job is None:
        raise NotFound(f"Report job {job_id} not found.")
    return job


def job_file(user: User, job_id: uuid.UUID) -> tuple[bytes, str]:
    """The finished document of the caller's job and its file name (409 until it is ready)."""
    job = get_job(user, job_id)
    if job.status == "failed":
        raise Conflict(f"The report could not be built: {job.error}", code="report_failed")
    if job.status != "ready" or job.file_key is None:
        raise Conflict("The report is not ready yet.", code="report_not_ready")
    return photo_service.storage().get(job.file_key), job.filename
