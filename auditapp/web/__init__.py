"""Serves the PWA shell from ``static/pwa``: the page, the manifest and /sw.js at root scope."""

from __future__ import annotations

from pathlib import Path

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


@bp.after_app_request
def security_headers(response: Response) -> Response:
    """Headers every response carries: no sniffing, no framing, no referrer leaks; the shell
    loads only its own scripts."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


@bp.route("/healthz")
def health() -> Response:
    """Liveness probe for the load balancer."""
    return Response("ok", mimetype="text/plain")
