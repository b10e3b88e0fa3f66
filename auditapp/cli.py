"""The ``flask --app auditapp ...`` commands: demo data, users, CSV imports, the worker, photos."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app

from auditapp import clock, demo
from auditapp.adapters.checklist_yaml import ChecklistFormatError, load_checklist_file
from auditapp.domain.scoring import AnswerError, score_audit
from auditapp.services import checklists, imports
from auditapp.services import users as user_service
from auditapp.services.errors import ServiceError


def _fail(error: ServiceError) -> None:
    click.echo(f"error: {error.message}", err=True)
    for line in error.fields.get("summary", []):
        click.echo(f"  {line}", err=True)
    raise SystemExit(1)


@click.command("demo")
def demo_command() -> None:
    """Load the demo network, users and a year of audits; print credentials and a summary."""
    if demo.has_data():
        click.echo("The database already holds a network; the demo was not loaded again.")
        return
    logins = demo.load_demo(clock.now().date())
    click.echo("Demo loaded. Sign in at http://127.0.0.1:5000 with:")
    click.echo(f"  {'login':<16} {'password':<26} {'role':<10} scope")
    for item in logins:
        click.echo(f"  {item.login:<16} {item.password:<26} {item.role:<10} {item.scope}")
    made = demo.summary()

    def listing(counts: dict[str, int]) -> str:
        """``name count, name count`` in the given order."""
        return ", ".join(f"{name} {number}" for name, number in counts.items())

    click.echo("")
    click.echo(
        f"Created {made.waves} waves with {made.assignments} assignments over the last 12 months,"
    )
    click.echo(f"  {sum(made.audits.values())} audits: {listing(made.audits)};")
    click.echo(f"  {made.photos} photos ({made.reused_photos} deliberately reused);")
    click.echo(
        f"  {sum(made.disputes.values())} disputes: {listing(made.disputes)}; "
        f"{made.history} history entries."
    )


@click.command("create-admin")
@click.argument("login")
@click.option("--name", default="Administrator")
@click.password_option()
def create_admin_command(login: str, name: str, password: str) -> None:
    """Create an HQ admin account (the first account of a real deployment)."""
    try:
        user_service.create_user(
            user_service.NewUser(
                login=login.lower(),
                display_name=name,
                role="admin",
                password=password,
                email=None,
                locale="ru",
                active=True,
                region_ids=[],
                branch_ids=[],
                staff_member_id=None,
            )
        )
    except ServiceError as error:
        _fail(error)
    click.echo(f"Admin {login} created.")


@click.group("import")
def import_group() -> None:
    """Import the network from CSV files (all or nothing)."""


@import_group.command("branches")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_branches_command(path: Path) -> None:
    """Import branches from PATH."""
    try:
        result = imports.import_branches(
            path.read_text(encoding="utf-8"), current_app.config["MAX_IMPORT_ROWS"]
        )
    except ServiceError as error:
        _fail(error)
    click.echo(f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}")


@import_group.command("staff")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_staff_command(path: Path) -> None:
    """Import staff from PATH."""
    try:
        result = imports.import_staff(
            path.read_text(encoding="utf-8"),
            current_app.config["MAX_IMPORT_ROWS"],
            clock.now().date(),
        )
    except ServiceError as error:
        _fail(error)
    click.echo(f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}")


@click.group("checklist")
def checklist_group() -> None:
    """Validate, import and try out checklists."""


@checklist_group.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def checklist_validate_command(paths: tuple[Path, ...]) -> None:
    """Check checklist files; every problem goes to stderr as FILE:LINE: field: message."""
    failed = 0
    for path in paths:
        try:
            checklist = load_checklist_file(path)
        except ChecklistFormatError as error:
            failed += 1
            for problem in error.problems:
                click.echo(problem, err=True)
            continue
        count = sum(1 for _ in checklist.items())
        click.echo(f"{path}: ok ({checklist.slug} v{checklist.version}, {count} items)")
    if failed:
        click.echo(f"{failed} of {len(paths)} file(s) invalid", err=True)
        raise SystemExit(1)


@checklist_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def checklist_import_command(paths: tuple[Path, ...]) -> None:
    """Validate and store checklist files (unchanged files are left alone)."""
    failed = False
    for path in paths:
        try:
            load_checklist_file(path)  # file-level problems (encoding, syntax) with their line
            text = path.read_bytes().decode("utf-8-sig")
            outcome = checklists.import_checklist(text, str(path))
        except ChecklistFormatError as error:
            for problem in error.problems:
                click.echo(problem, err=True)
            failed = True
            continue
        except ServiceError as error:
            failed = True
            click.echo(f"{path}: {error.message}", err=True)
            for problem in error.fields.get("problems", []):
                click.echo(problem, err=True)
            continue
        click.echo(f"{path}: {outcome.action} {outcome.slug} v{outcome.version}")
    if failed:
        raise SystemExit(1)


@checklist_group.command("score")
@click.argument("checklist_path", type=click.Path(path_type=Path))
@click.argument("answers_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def checklist_score_command(checklist_path: Path, answers_path: Path) -> None:
    """Score {"answers": {item_id: value}} against a checklist file and print the JSON result."""
    try:
        checklist = load_checklist_file(checklist_path)
    except ChecklistFormatError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        raise SystemExit(1) from None
    try:
        document = json.loads(answers_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        click.echo(f"{answers_path}: not valid JSON: {error}", err=True)
        raise SystemExit(1) from None
    answers = document.get("answers") if isinstance(document, dict) else None
    if not isinstance(answers, dict):
        click.echo(f'{answers_path}: expected {{"answers": {{item_id: value}}}}', err=True)
        raise SystemExit(1)
    try:
        result = score_audit(checklist, answers)
    except AnswerError as error:
        for item_problem in error.problems:
            click.echo(f"{answers_path}: {item_problem}", err=True)
        raise SystemExit(1) from None
    full = result.to_dict()
    summary = {
        key: full[key] for key in ("score", "sections", "stages", "critical_failed", "roles")
    }
    click.echo(json.dumps(summary, ensure_ascii=False, indent=2))


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="Worker threads.")
def worker_command(workers: int) -> None:
    """Run the background job worker (photo processing) on the configured queue.

    Beside the consumer, a sweep queues again the photos whose job was lost (the queue was down
    at upload, a worker or host was killed): at start, then every PHOTO_SWEEP_SECONDS, whenever
    the queue is empty. Every REPORTS_GC_SECONDS it also deletes the report files older than
    REPORTS_KEEP_DAYS (as ``flask reports gc``).
    """
    from huey.consumer import Consumer

    import auditapp.tasks  # noqa: F401 - registers the tasks
    from auditapp.jobs import huey

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    threading.Thread(target=_sweep_forever, args=(app,), name="photo-sweep", daemon=True).start()
    Consumer(huey, workers=workers, worker_type="thread").run()


def _sweep_forever(app: Flask) -> None:
    """Re-queue stale "processing" photos forever, and expire old report files now and then;
    a failure (queue, database or storage down) is logged and tried again at the next round."""
    import time

    from auditapp.services import photos

    interval = float(app.config["PHOTO_SWEEP_SECONDS"])
    older_than = timedelta(seconds=float(app.config["PHOTO_REQUEUE_AFTER_SECONDS"]))
    reports_every = float(app.config["REPORTS_GC_SECONDS"])
    reports_due = time.monotonic()
    while True:
        if time.monotonic() >= reports_due:
            reports_due = time.monotonic() + reports_every
            _expire_reports(app)
        try:
            with app.app_context():
                queued = photos.requeue_stale(older_than, only_when_idle=True)
            if queued:
                app.logger.warning("queued %d photo(s) again whose job was lost", queued)
        except Exception:  # the next round tries again; the worker must stay up
            app.logger.warning("photo sweep failed; trying again later", exc_info=True)
        time.sleep(interval)


def _expire_reports(app: Flask) -> None:
    """One round of report retention for the worker's sweep (never raises)."""
    from auditapp.services import report_jobs

    try:
        with app.app_context():
            expired = report_jobs.expire(_reports_keep(app))
        if expired:
            app.logger.info("expired %d report job(s) or file(s)", len(expired))
    except Exception:  # the next round tries again; the worker must stay up
        app.logger.warning("report clean-up failed; trying again later", exc_info=True)


def _reports_keep(app: Flask, days: float | None = None) -> timedelta:
    return timedelta(days=float(app.config["REPORTS_KEEP_DAYS"] if days is None else days))


@click.group("photos")
def photos_group() -> None:
    """Photo storage upkeep."""


@photos_group.command("gc")
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
@click.option(
    "--grace-minutes",
    default=60,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Leave objects younger than this (uploads in flight store the file before the row).",
)
def photos_gc_command(dry_run: bool, grace_minutes: float) -> None:
    """Delete stored photo files that no row names (left by crashes between store and commit)."""
    from auditapp.services import photos

    found = deleted = 0
    for orphan in photos.orphans(timedelta(minutes=grace_minutes)):
        found += 1
        click.echo(f"{orphan.key}\t{orphan.modified_at.isoformat()}")
        if not dry_run and photos.delete_orphan(orphan.key):
            deleted += 1
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{found} orphan file(s); {verb} {found if dry_run else deleted}.", err=True)


@photos_group.command("requeue")
@click.option("--older-than-seconds", default=0.0, show_default=True, type=float)
def photos_requeue_command(older_than_seconds: float) -> None:
    """Queue processing again for every photo still "processing" (the worker also sweeps)."""
    from auditapp.services import photos

    queued = photos.requeue_stale(timedelta(seconds=older_than_seconds))
    click.echo(f"queued {queued} photo(s)")


@click.group("reports")
def reports_group() -> None:
    """Report job upkeep."""


@reports_group.command("gc")
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
@click.option(
    "--keep-days",
    type=click.FloatRange(min=0),
    default=None,
    help="Keep files younger than this many days (default: REPORTS_KEEP_DAYS).",
)
def reports_gc_command(dry_run: bool, keep_days: float | None) -> None:
    """Delete report files older than the retention age and mark their jobs expired."""
    from auditapp.services import report_jobs

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = report_jobs.expire(_reports_keep(app, keep_days), dry_run=dry_run)
    for item in found:
        job = str(item.job_id) if item.job_id else "-"
        click.echo(f"{job}\t{item.key or '-'}\t{item.at.isoformat()}")
    verb = "would expire" if dry_run else "expired"
    jobs = sum(1 for item in found if item.job_id)
    click.echo(f"{verb} {jobs} job(s); {len(found) - jobs} file(s) no job names.", err=True)


@click.group("ratings")
def ratings_group() -> None:
    """Rating roll-ups."""


@ratings_group.command("rebuild")
def ratings_rebuild_command() -> None:
    """Recompute every rating roll-up from the released audits (one transaction)."""
    import time

    from auditapp.services import ratings

    started = time.perf_counter()
    made = ratings.rebuild()
    click.echo(
        f"Rebuilt the ratings of {made['audits']} released audits in {made['cells']} "
        f"branch-months ({time.perf_counter() - started:.1f} s)."
    )


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(demo_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(import_group)
    app.cli.add_command(checklist_group)
    app.cli.add_command(worker_command)
    app.cli.add_command(ratings_group)
    app.cli.add_command(photos_group)
    app.cli.add_command(reports_group)
