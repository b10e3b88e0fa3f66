"""auditapp: mystery-shopper service audits. ``create_app`` builds the Flask application."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config -> extensions -> blueprints -> error handlers -> commands."""
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    from auditapp.config import load_config

    load_config(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the extension objects to this app."""
    from auditapp import auth, jobs
    from auditapp.extensions import csrf, db, limiter, login_manager, migrate
    from auditapp.resources import migrations_dir

    db.init_app(app)
    migrate.init_app(app, db, directory=str(migrations_dir()), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    auth.init_app(app)
    jobs.init_app(app)
    import auditapp.tasks  # noqa: F401 - registers the tasks the services queue by name


def register_blueprints(app: Flask) -> None:
    """Mount the API (with its OpenAPI document and JSON errors) and the PWA shell."""
    from auditapp.api import init_app as init_api
    from auditapp.web import bp as web_bp

    init_api(app)
    app.register_blueprint(web_bp)


def register_commands(app: Flask) -> None:
    """Register the ``flask`` CLI groups."""
    from auditapp.cli import init_app as init_cli

    init_cli(app)
