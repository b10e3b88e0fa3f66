"""The ``flask --app auditapp ...`` commands: demo data, users, CSV imports."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app

from auditapp.services import demo, imports
from auditapp.services import users as user_service
from auditapp.services.errors import ServiceError


def _fail(error: ServiceError) -> None:
    click.echo(f"error: {error.message}", err=True)
    for line in error.fields.get("summary", []):
        click.echo(f"  {line}", err=True)
    raise SystemExit(1)


@click.command("demo")
def demo_command() -> None:
    """Load the demo network and users and print their credentials."""
    if demo.has_data():
        click.echo("The database already holds a network; the demo was not loaded again.")
        return
    logins = demo.load_demo(date.today())
    click.echo("Demo loaded. Sign in at http://127.0.0.1:5000 with:")
    click.echo(f"  {'login':<16} {'password':<26} {'role':<10} scope")
    for item in logins:
        click.echo(f"  {item.login:<16} {item.password:<26} {item.role:<10} {item.scope}")


@click.command("create-admin")
@click.argument("login")
@click.option("--name", default="Administrator")
@click.password_option()
def create_admin_command(login: str, name: str, password: str) -> None:
    """Create an HQ admin account (the first account of a real deployment)."""
    try:
        user_service.create_user(
            {
                "login": login.lower(),
                "display_name": name,
                "role": "admin",
                "password": password,
                "email": None,
                "locale": "ru",
                "active": True,
                "region_ids": [],
                "branch_ids": [],
                "staff_member_id": None,
            }
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
            path.read_text(encoding="utf-8"), current_app.config["MAX_IMPORT_ROWS"], date.today()
        )
    except ServiceError as error:
        _fail(error)
    click.echo(f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(demo_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(import_group)
