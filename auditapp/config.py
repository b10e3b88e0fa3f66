"""Configuration: defaults < instance/config.py < environment < test config.

Environment variables: ``DATABASE_URL``, ``SECRET_KEY`` and anything prefixed ``AUDITAPP_``
(``AUDITAPP_MEDIA_DIR``, ``AUDITAPP_PHOTO_STORAGE_URL``, ``AUDITAPP_RATELIMIT_STORAGE_URI``,
``AUDITAPP_HUEY_URL``, ...). Values prefixed ``AUDITAPP_`` are parsed as JSON when they can be,
so ``AUDITAPP_DISPUTE_WINDOW_DAYS=7`` is the integer 7.

``SECRET_KEY`` must be given outside debug and testing: every host of a deployment must sign
with the same key, so none may invent its own. For one machine, ``AUDITAPP_LOCAL_SECRET_KEY=true``
(what ``dev.py start`` sets) keeps a generated key in ``instance/secret_key`` instead.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.engine import make_url


def default_config(instance_path: str) -> dict[str, Any]:
    """Safe defaults for local use: everything lives under ``instance/``."""
    instance = Path(instance_path)
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'auditapp.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MEDIA_DIR": str(instance / "media"),
        # Photo storage: a local directory by default, ``s3://bucket/prefix`` in a cluster.
        "PHOTO_STORAGE_URL": "",
        # Background jobs (huey): SQLite file by default, ``redis://...`` when scaled out.
        "HUEY_URL": f"sqlite:///{instance / 'jobs.db'}",
        "HUEY_IMMEDIATE": False,
        # The worker's sweep: every PHOTO_SWEEP_SECONDS it queues again the photos still
        # "processing" PHOTO_REQUEUE_AFTER_SECONDS after upload (their job was lost).
        "PHOTO_SWEEP_SECONDS": 60,
        "PHOTO_REQUEUE_AFTER_SECONDS": 300,
        # Report jobs' files (comparisons, bundles) are kept REPORTS_KEEP_DAYS after they were
        # built, then deleted and their jobs marked "expired" (410); the worker's sweep does it
        # every REPORTS_GC_SECONDS, ``flask reports gc`` by hand.
        "REPORTS_KEEP_DAYS": 7,
        "REPORTS_GC_SECONDS": 3600,
        # Generate and keep a key in instance/secret_key when SECRET_KEY is not set: for one
        # machine only (dev.py start); a deployment refuses to start without SECRET_KEY.
        "LOCAL_SECRET_KEY": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Redis down: Flask-Limiter counts in each process's memory until it is back, instead of
        # failing every limited request; the database sign-in throttle holds throughout.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_ENABLED": True,
        "LOGIN_RATE_LIMIT": "10 per minute",
        # Failed sign-ins counted in the database, so the limits hold across workers and hosts
        # (see docs/security.md; a partial mapping overrides only the keys it names).
        "LOGIN_THROTTLE": {},
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto (0: none, so
        # a client cannot choose the address its sign-in attempts are counted under).
        "PROXY_COUNT": 0,
        # Absolute lifetime of a sign-in, whatever the activity: the cookie session, and the
        # remember-me cookie when "remember" was ticked. Sign-out and a password change end both.
        "SESSION_LIFETIME_HOURS": 12,
        "REMEMBER_LIFETIME_DAYS": 30,
        # Longest lifetime of an API token; a request for a longer one is refused.
        "API_TOKEN_MAX_DAYS": 90,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_CHECK_DEFAULT": False,  # the API checks CSRF itself for cookie sessions
        "WTF_CSRF_HEADERS": ["X-CSRFToken", "X-CSRF-Token"],
        # A little above the 40 MB photo limit, so an oversized photo gets the clearer message.
        "MAX_CONTENT_LENGTH": 42 * 1024 * 1024,
        # JSON bodies (drafts, submissions, a checklist's YAML sent for import) are small; only
        # photos need the 42 MB above. A bigger JSON body is refused before it is parsed.
        "MAX_JSON_BYTES": 4 * 1024 * 1024,
        "MAX_IMPORT_ROWS": 20000,
        "DISPUTE_WINDOW_DAYS": 14,
        "ARGON2_TIME_COST": 3,
        "ARGON2_MEMORY_COST": 65536,
        # flask-smorest / OpenAPI
        "API_TITLE": "auditapp",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "JSON_SORT_KEYS": False,
    }


def _local_secret_key(instance_path: str) -> str:
    """A random key kept in ``instance/secret_key`` so local sessions survive restarts."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole to a private file, then linked into place: gunicorn's workers start at the
    # same moment, and each must end up with the one key that won, never a half-written file.
    draft = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another process was first; use its key
    finally:
        os.unlink(draft)
    return path.read_text().strip()


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Apply the configuration layers in order; the last one wins."""
    app.config.from_mapping(default_config(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("AUDITAPP")
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if test_config:
        app.config.from_mapping(test_config)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    # Accept the URLs hosting platforms hand out and pick the psycopg 3 driver for them.
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len(prefix) :]
    if not app.config.get("SECRET_KEY"):
        if not (app.debug or app.testing or app.config["LOCAL_SECRET_KEY"]):
            raise MissingSecretKey()
        app.config["SECRET_KEY"] = _local_secret_key(app.instance_path)
    if not app.config.get("PHOTO_STORAGE_URL"):
        app.config["PHOTO_STORAGE_URL"] = app.config["MEDIA_DIR"]
    _make_sqlite_directory(app.config["SQLALCHEMY_DATABASE_URI"])


class MissingSecretKey(RuntimeError):
    """Raised by ``create_app`` when a deployment has no ``SECRET_KEY``."""

    def __init__(self) -> None:
        """The message says what to set, and the local alternative."""
        super().__init__(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
            "value, the same on every host (e.g. python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'). On a single development machine, "
            "AUDITAPP_LOCAL_SECRET_KEY=true keeps a generated key in instance/secret_key instead "
            "(dev.py start does this)."
        )


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``sqlite:///path``), or None for other databases and memory."""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _make_sqlite_directory(url: str) -> None:
    """Create the directory of a SQLite database file, so ``flask db upgrade`` works on a fresh
    checkout (``instance/``) or with a ``DATABASE_URL`` into a directory not made yet."""
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
