"""Report jobs: a document too large to build during a request (a region or network comparison,
a branch's bundle of attestation sheets) is asked for, built by a background job as the user
who asked, stored, and fetched when ready.

Only the requester sees a job and its file (anyone else: 404). The scope is checked when the
job is asked for (an out-of-scope region is 404 at once) and again while it is built, as the
requester, so a job never holds more than its requester may see at build time.

Files are kept for a while (``REPORTS_KEEP_DAYS``), then ``expire`` (the worker's sweep, or
``flask reports gc``) deletes them and marks their jobs ``expired`` (fetching the file is then
410 ``report_expired``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from auditapp.clock import now
from auditapp.domain.ratings import Period
from auditapp.extensions import db
from auditapp.jobs import enqueue
from auditapp.models import ReportJob, User
from auditapp.services import attestation as attestation_service
from auditapp.services import photos as photo_service
from auditapp.services import ratings as rating_service
from auditapp.services import reports
from auditapp.services.errors import Conflict, Gone, NotFound
from auditapp.services.transactions import commit, rollback

log = logging.getLogger(__name__)

KINDS = ("comparison", "bundle")
# Where the finished documents are stored (in the photo storage).
FOLDER = "reports"
FINISHED = ("ready", "failed")
UNFINISHED = ("queued", "running")


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
    if job is None or job.status not in UNFINISHED:
        return
    job.status = "running"
    commit()
    try:
        user = db.session.get(User, job.requested_by_id)
        if user is None or not user.active:
            raise NotFound("The requester no longer exists or is inactive.")
        document = _render(job, user)
        key = f"{FOLDER}/{job.id.hex}.pdf"
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
    if job.status == "expired":
        raise Gone(
            "The report was deleted after the retention period; ask for it again.",
            code="report_expired",
        )
    if job.status == "failed":
        raise Conflict(f"The report could not be built: {job.error}", code="report_failed")
    if job.status != "ready" or job.file_key is None:
        raise Conflict("The report is not ready yet.", code="report_not_ready")
    return photo_service.storage().get(job.file_key), job.filename


@dataclass(frozen=True)
class Expired:
    """What the clean-up removes: a job (``job_id``, with its file ``key`` if it had one) or a
    stored file no job names (``job_id`` None); ``at`` is when the job finished (or was asked
    for, if it never did) or when the file was written."""

    job_id: uuid.UUID | None
    key: str | None
    at: datetime


def expire(keep: timedelta, *, dry_run: bool = False) -> list[Expired]:
    """Expire what is older than ``keep``: jobs finished (ready or failed) before then, and
    jobs asked for before then that never finished (their worker died with them), are marked
    ``expired`` and their files deleted; so are files under ``reports/`` that no job names
    (a crash between storing a document and committing its job), once older than ``keep``.
    ``dry_run`` only lists them. Returns what was (or would be) removed.

    The jobs are marked first (one commit), the files deleted after: a deletion that fails
    leaves a file no job names, which the next run removes; never a job whose file is gone.
    """
    cutoff = now() - keep
    old = db.session.execute(
        select(ReportJob.id, ReportJob.file_key, ReportJob.finished_at, ReportJob.created_at)
        .where(
            or_(
                and_(ReportJob.status.in_(FINISHED), ReportJob.finished_at < cutoff),
                and_(ReportJob.status.in_(UNFINISHED), ReportJob.created_at < cutoff),
            )
        )
        .order_by(ReportJob.created_at)
    ).all()
    found = [Expired(job_id, key, finished or created) for job_id, key, finished, created in old]
    expiring = {job_id for job_id, *_ in old}
    named = {
        key
        for job_id, key in db.session.execute(
            select(ReportJob.id, ReportJob.file_key).where(ReportJob.file_key.is_not(None))
        )
        if job_id not in expiring
    }
    if dry_run or not old:
        rollback()
    else:
        for job in db.session.execute(
            select(ReportJob).where(ReportJob.id.in_(expiring))
        ).scalars():
            job.status, job.file_key = "expired", None
        commit()
    deleting = {item.key for item in found if item.key}
    store = photo_service.storage()
    found.extend(
        Expired(None, key, modified)
        for key, modified in list(store.walk(FOLDER))
        if key not in named and key not in deleting and modified < cutoff
    )
    if not dry_run:
        for item in found:
            if item.key:
                store.delete(item.key)
    return found
