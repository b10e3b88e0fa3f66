"""Background jobs (huey): a SQLite queue by default, Redis when scaled out, inline in tests.

Tasks are plain functions that take ids, open an app context and call a service, so a job that
runs twice does no harm (each service call checks what is already done). ``auditapp/tasks.py``
registers them here by name and services queue them by that name (``enqueue``): the services
never import the tasks that import them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey

huey: Huey = SqliteHuey("auditapp", filename=":memory:", immediate=True)
_app: Flask | None = None
# Task name -> the huey task; filled by auditapp/tasks.py, which create_app imports.
_tasks: dict[str, Any] = {}


def make_huey(url: str, immediate: bool) -> Huey:
    """The queue named by ``url``: ``sqlite:///path`` or ``redis://host:port/db``."""
    if url.startswith("redis://") or url.startswith("rediss://"):
        return RedisHuey("auditapp", url=url, immediate=immediate)
    if url.startswith("sqlite:///"):
        filename = url[len("sqlite:///") :]
        if filename != ":memory:":
            # The queue file may be the first thing in instance/ (or in its configured directory).
            Path(filename).parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey("auditapp", filename=filename, immediate=immediate)
    raise ValueError(f"unsupported HUEY_URL {url!r}: use sqlite:///PATH or redis://HOST:PORT/DB")


def init_app(app: Flask) -> None:
    """Point the module-level queue at this app's configuration."""
    global _app
    _app = app
    # Tasks are registered on the module-level object, so it is re-pointed in place.
    if app.config["HUEY_IMMEDIATE"]:
        huey.immediate = True  # huey swaps in an in-memory storage
        return
    huey.immediate = False
    huey.storage = make_huey(app.config["HUEY_URL"], immediate=False).storage


def app_for_jobs() -> Flask:
    """The app the worker runs tasks in (the consumer builds it with ``create_app``)."""
    global _app
    if has_app_context():
        # Immediate mode (tests, scripts): run in a fresh context of the same app, with its own
        # database session, as a worker would.
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _app is None:
        from auditapp import create_app

        _app = create_app()
    return _app


def task(name: str, **settings: Any) -> Callable[[Callable[..., None]], Any]:
    """Make ``func`` a huey task (``settings``: retries, retry_delay) queued as ``name``."""

    def register(func: Callable[..., None]) -> Any:
        if name in _tasks:
            raise ValueError(f"a task is already registered as {name!r}")
        _tasks[name] = huey.task(**settings)(func)
        return _tasks[name]

    return register


def pending() -> int:
    """How many jobs wait in the queue (raises if the queue cannot be reached)."""
    return int(huey.pending_count())


def enqueue(name: str, *args: Any) -> None:
    """Queue the task registered as ``name``; in immediate mode it runs now, in this process."""
    if name not in _tasks:
        raise LookupError(f"no task registered as {name!r} (auditapp.tasks is not imported)")
    _tasks[name](*args)
