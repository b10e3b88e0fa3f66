"""Background tasks. Each takes ids, runs in an app context and calls a service, so running
one twice does no harm. Run the worker with ``flask --app auditapp worker``.

Services queue a task by its name (``jobs.enqueue("process_photo", photo_id)``), so this
module depends on the services and not the other way round.
"""

from __future__ import annotations

from auditapp.jobs import app_for_jobs, task
from auditapp.services import photos


@task("process_photo", retries=3, retry_delay=10)
def process_photo_task(photo_id: int) -> None:
    """Re-encode one uploaded photo (display copy, thumbnail, perceptual hash)."""
    with app_for_jobs().app_context():
        photos.process(photo_id)


@task("build_report", retries=1, retry_delay=30)
def build_report_task(job_id: str) -> None:
    """Build a requested report (a region or network comparison, a branch bundle of sheets)."""
    from auditapp.services import report_jobs

    with app_for_jobs().app_context():
        report_jobs.build(job_id)
