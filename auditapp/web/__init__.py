"""Serves the PWA shell from ``static/pwa``: the page, the manifest and /sw.js at root scope."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from flask import Blueprint, Response, current_app, send_from_directory

from auditapp.resources import pwa_dir

bp = Blueprint("web", __name__)


def _pwa_dir() -> Path:
    """Where the shell's files are: ``static/pwa`` (see ``auditapp.resources``), or ``PWA_DIR``
    when set (the end-to-end tests serve a copy so they can deploy a new version mid-visit)."""
    configured = current_app.config.get("PWA_DIR")
    return Path(configured) if configured else pwa_dir()


@bp.route("/")
def index() -> Response:
    """The app shell (the PWA routes on the client)."""
    return send_from_directory(_pwa_dir(), "index.html", max_age=0)


@bp.route("/sw.js")
def service_worker() -> Response:
    """The service worker, served from the root so that its scope is the whole app."""
    response = send_from_directory(_pwa_dir(), "sw.js", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/manifest.webmanifest")
def manifest() -> Response:
    """The web app manifest."""
    return send_from_directory(
        _pwa_dir(), "manifest.webmanifest", mimetype="application/manifest+json", max_age=3600
    )


@bp.route("/pwa/<path:filename>")
def asset(filename: str) -> Response:
    """Static assets of the PWA."""
    return send_from_directory(_pwa_dir(), filename, max_age=3600)


#: Headers every response carries unless its view set its own.
SECURITY_HEADERS: Final[tuple[tuple[str, str], ...]] = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
)
_HSTS: Final = ("Strict-Transport-Security", "max-age=31536000")


@bp.after_app_request
def security_headers(response: Response) -> Response:
    """Headers every response carries: no sniffing, no framing, no referrer leaks; the shell
    loads only its own scripts (and HSTS when cookies are Secure, i.e. behind HTTPS)."""
    headers = response.headers
    # One look at the names present, not a ``setdefault`` per header: werkzeug's answers a
    # missing name by raising and catching an exception, several per request on every request.
    present = {name.lower() for name in headers.keys()}
    wanted = SECURITY_HEADERS
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        wanted = (*wanted, _HSTS)
    for name, value in wanted:
        if name.lower() not in present:
            headers.add(name, value)
    return response


@bp.route("/healthz")
def health() -> Response:
    """Liveness probe for the load balancer."""
    return Response("ok", mimetype="text/plain")
