"""The app the end-to-end tests run under gunicorn: the test configuration from
``AUDITAPP_E2E_CONFIG`` (JSON), on the test's migrated database."""

from __future__ import annotations

import json
import os

from flask import Flask

from auditapp import create_app


def app() -> Flask:
    """Build the app for gunicorn (``tests.e2e.serve:app()``)."""
    return create_app(json.loads(os.environ["AUDITAPP_E2E_CONFIG"]))
