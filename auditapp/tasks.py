"""Background tasks. Each takes ids, runs in an app context and calls a service, so running
one twice does no harm. Run the worker with ``flask --app auditapp worker``."""

from __future__ import annotations

from auditapp.jobs import app_for_jobs, huey


@huey.task(retries=3, retry_delay=10)
def process_photo_task(photo_id: int) -> None:
    """Re-encode one uploaded photo (display copy, thumbnail, perceptual hash)."""
    from auditapp.services import photos

    with app_for_jobs().app_context():
        photos.process(photo_id)


@huey.task(retries=1, retry_delay=30)
def build_report_task(job_id: str) -> None:
    """Build a requested report (a region or network comparison PDF)."""
    from auditapp.services import report_jobs

    with app_for_jobs().app_context():
        report_jobs.build(job_id)
