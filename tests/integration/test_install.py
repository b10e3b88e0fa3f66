"""A new user's first hour, run for real in subprocesses: the docs/deploy.md sequence on a fresh
copy of the code, the secret-key rule, and a wheel installed into a fresh venv outside the
checkout (migrate, load the demo, serve ``/`` and the OpenAPI document).

These tests need no test database (each builds its own under ``tmp_path``) and no network (pip
installs from the machine's configured mirrors, as a user's pip would). They are marked
``install``; ``dev.py test`` runs them in its SQLite pass.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.install

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
# What a fresh clone does not have: the .gitignore'd files and the git metadata.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "instance",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    "media",
    "_bundled",
)
PASSWORD = "Deploy-test-password-2026"


def fresh_copy(target: Path) -> Path:
    """The code as a fresh clone has it (no venv, no instance/, no build output)."""
    shutil.copytree(ROOT, target, ignore=NOT_IN_A_CLONE)
    return target


def clean_env(**variables: str) -> dict[str, str]:
    """This process's environment without any app configuration, plus ``variables``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AUDITAPP_", "FLASK_"))
        and key not in ("SECRET_KEY", "DATABASE_URL", "TEST_DATABASE_URL", "PYTHONPATH")
    }
    env.update(variables)
    return env


def run(
    command: list[str | Path], cwd: Path, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run ``command``; fail the test with its output when it fails."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (
        f"{' '.join(str(p) for p in command)} exited {result.returncode}\n"
        f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    )
    return result


def flask_cli(*args: str) -> list[str | Path]:
    """``flask --app auditapp ARGS`` with this venv's Python; run in a copy, ``-m`` imports the
    copy's ``auditapp`` (the current directory comes first on ``sys.path``)."""
    return [sys.executable, "-m", "flask", "--app", "auditapp", *args]


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(url: str, data: dict[str, Any] | None = None) -> tuple[int, bytes]:
    """GET (or POST JSON ``data``) ``url``; the status and body, also for error statuses."""
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@contextmanager
def serving(command: list[str | Path], cwd: Path, env: dict[str, str], port: int) -> Iterator[str]:
    """Start a server; yield its base URL once ``/healthz`` answers; stop it afterwards."""
    server = subprocess.Popen(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                output = server.stdout.read() if server.stdout else ""
                pytest.fail(f"server exited {server.returncode}:\n{output[-3000:]}")
            try:
                if http(base + "/healthz") == (200, b"ok"):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "server did not answer /healthz within 60 s"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.communicate(timeout=30)  # also closes the pipe


def documented_variables() -> set[str]:
    """The variables of the configuration table in docs/deploy.md (a row may name several)."""
    first_cells = re.findall(r"^\| (`[A-Z0-9_]+`[^|]*)\|", DEPLOY_DOC.read_text("utf-8"), re.M)
    return {name for cell in first_cells for name in re.findall(r"`([A-Z0-9_]+)`", cell)}


# 1. The deploy.md sequence on a fresh copy --------------------------------------------------


def deploy_environment(tmp: Path, every_variable: bool) -> dict[str, str]:
    """SECRET_KEY alone (everything else at its default, under instance/), or every variable
    of docs/deploy.md, each pointing into directories that do not exist yet."""
    if not every_variable:
        return {"SECRET_KEY": "deploy-test-secret-key"}
    srv = tmp / "srv"
    return {
        "DATABASE_URL": f"sqlite:///{srv / 'db' / 'auditapp.db'}",
        "SECRET_KEY": "deploy-test-secret-key",
        "AUDITAPP_PHOTO_STORAGE_URL": str(srv / "photos"),
        # Read only when photos go to S3; set as the table lists it, it must not get in the way.
        "AUDITAPP_S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "AUDITAPP_HUEY_URL": f"sqlite:///{srv / 'queue' / 'jobs.db'}",
        "AUDITAPP_RATELIMIT_STORAGE_URI": "memory://",
        "AUDITAPP_SESSION_COOKIE_SECURE": "true",
        "AUDITAPP_DISPUTE_WINDOW_DAYS": "7",
        "AUDITAPP_PROXY_COUNT": "1",
        "AUDITAPP_SESSION_LIFETIME_HOURS": "8",
        "AUDITAPP_REMEMBER_LIFETIME_DAYS": "14",
        "AUDITAPP_API_TOKEN_MAX_DAYS": "30",
    }


def test_the_deploy_environment_sets_every_documented_variable(tmp_path: Path) -> None:
    """If docs/deploy.md documents a new variable, the sequence below must set it too."""
    assert set(deploy_environment(tmp_path, every_variable=True)) == documented_variables()


@pytest.mark.parametrize("every_variable", [False, True], ids=["secret-key-only", "every-variable"])
def test_deploy_sequence_runs_on_a_fresh_copy(tmp_path: Path, every_variable: bool) -> None:
    """migrate, import the checklists, create the admin, serve with gunicorn, run the worker:
    each step works on a fresh copy, creating the directories it needs."""
    code = fresh_copy(tmp_path / "code")
    variables = deploy_environment(tmp_path, every_variable)
    env = clean_env(**variables)

    run(flask_cli("db", "upgrade"), code, env)
    checklists = sorted(f"checklists/{p.name}" for p in (code / "checklists").glob("*.yaml"))
    imported = run(flask_cli("checklist", "import", *checklists), code, env)
    assert len(checklists) == 5 and imported.stdout.count("\n") >= len(checklists)
    run(flask_cli("create-admin", "hq.admin", "--password", PASSWORD), code, env)

    port = free_port()
    gunicorn = [
        VENV_BIN / "gunicorn",
        "-w",
        "1",
        "-b",
        f"127.0.0.1:{port}",
        "--forwarded-allow-ips=*",
        "auditapp:create_app()",
    ]
    with serving(gunicorn, code, env, port) as base:
        status, page = http(base + "/")
        assert status == 200 and b'<link rel="manifest"' in page
        status, body = http(
            base + "/api/v1/auth/login", {"login": "hq.admin", "password": PASSWORD}
        )
        assert status == 200, body
        assert json.loads(body)["login"] == "hq.admin"

    worker = subprocess.Popen(
        [str(p) for p in flask_cli("worker", "--workers", "2")],
        cwd=code,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    queue_file = (
        tmp_path / "srv" / "queue" / "jobs.db" if every_variable else code / "instance" / "jobs.db"
    )
    try:
        deadline = time.monotonic() + 30
        while not queue_file.exists() and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # still running a moment after opening its queue
        assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
    finally:
        worker.terminate()
        worker.communicate(timeout=30)  # also closes the pipe
    assert queue_file.exists()

    if every_variable:
        assert (tmp_path / "srv" / "db" / "auditapp.db").is_file()
        assert not (code / "instance" / "auditapp.db").exists()
    else:
        # The copy's own code ran (its instance/ was made), with the given key, not a new one.
        assert (code / "instance" / "auditapp.db").is_file()
        assert not (code / "instance" / "secret_key").exists()


# 3. SECRET_KEY ------------------------------------------------------------------------------


def test_create_app_refuses_a_deployment_without_secret_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Outside debug and testing, no SECRET_KEY means no app, and the message names it."""
    from auditapp import create_app
    from auditapp.config import MissingSecretKey

    for name in ("SECRET_KEY", "AUDITAPP_LOCAL_SECRET_KEY", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(MissingSecretKey, match="SECRET_KEY is not set"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.db'}"})
    assert not (tmp_path / "app.db").exists()


def _dev_module() -> Any:
    """dev.py, imported from the checkout."""
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_without_secret_key_refuses_unless_local_key_or_debug(tmp_path: Path) -> None:
    """``flask db upgrade`` with no SECRET_KEY stops with a message naming it; with dev.py's
    environment (a local key) or in debug mode it migrates and keeps a key in instance/."""
    code = fresh_copy(tmp_path / "code")
    refused = subprocess.run(
        [str(p) for p in flask_cli("db", "upgrade")],
        cwd=code,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode != 0
    assert "SECRET_KEY is not set" in refused.stderr
    assert not (code / "instance" / "secret_key").exists()

    local = _dev_module().local_env()
    env = clean_env(**{k: v for k, v in local.items() if k.startswith("AUDITAPP_")})
    assert env["AUDITAPP_LOCAL_SECRET_KEY"] == "true"
    run(flask_cli("db", "upgrade"), code, env)
    key_file = code / "instance" / "secret_key"
    assert len(key_file.read_text()) >= 40
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the owner only

    debug_code = fresh_copy(tmp_path / "debug")
    run(flask_cli("--debug", "db", "upgrade"), debug_code, clean_env())
    assert (debug_code / "instance" / "secret_key").is_file()


def test_dev_start_serves_with_gunicorn_on_posix() -> None:
    """``dev.py start`` serves with gunicorn (the development server only on Windows)."""
    command = _dev_module().server_command()
    if os.name == "nt":
        assert command[1:5] == ["-m", "flask", "--app", "auditapp"]
    else:
        assert Path(command[0]).name == "gunicorn"
        assert command[-1] == "auditapp:create_app()"


# 2. A wheel installed outside the checkout --------------------------------------------------

CHECK_INSTALLED_APP = """
import json, auditapp
from auditapp import create_app
from auditapp.resources import migrations_dir, pwa_dir, checklists_dir
client = create_app().test_client()
index = client.get("/")
spec = client.get("/api/v1/openapi.json")
worker_script = client.get("/sw.js")
print(json.dumps({
    "package": auditapp.__file__,
    "resources": [str(migrations_dir()), str(pwa_dir()), str(checklists_dir())],
    "index": [index.status_code, index.get_data(as_text=True)],
    "openapi": [spec.status_code, spec.get_json()],
    "sw": worker_script.status_code,
}))
"""


def test_wheel_installs_outside_the_checkout_and_runs(tmp_path: Path) -> None:
    """Build the wheel, install it into a fresh venv, and from a directory outside the checkout
    migrate, load the demo and serve ``/`` and ``/api/v1/openapi.json``."""
    source = fresh_copy(tmp_path / "source")
    dist = tmp_path / "dist"
    env = clean_env()
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", dist, source], tmp_path, env)
    (wheel,) = dist.glob("auditapp-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("migrations", "static/pwa", "checklists"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                relative = path.relative_to(ROOT).as_posix()
                assert f"auditapp/_bundled/{relative}" in names, relative
    # The PDFs' Cyrillic font and its licence are package data (auditapp/adapters/pdf.py).
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE-DejaVu.txt"):
        assert f"auditapp/fonts/{name}" in names, name

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], tmp_path, env)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    run([bin_dir / "python", "-m", "pip", "install", "--quiet", wheel], tmp_path, env)

    site = tmp_path / "site"  # where the user runs the commands: no checkout anywhere near
    site.mkdir()
    app_env = clean_env(SECRET_KEY="wheel-test-secret-key")
    run([bin_dir / "flask", "--app", "auditapp", "db", "upgrade"], site, app_env)
    demo = run([bin_dir / "flask", "--app", "auditapp", "demo"], site, app_env)
    assert "Demo loaded" in demo.stdout and "admin" in demo.stdout

    checked = run([bin_dir / "python", "-c", CHECK_INSTALLED_APP], site, app_env)
    report = json.loads(checked.stdout.strip().splitlines()[-1])
    assert Path(report["package"]).resolve().is_relative_to(venv.resolve())
    for directory in report["resources"]:
        assert Path(directory).resolve().is_relative_to(venv.resolve()), directory
    status, page = report["index"]
    assert status == 200 and '<link rel="manifest"' in page
    status, spec = report["openapi"]
    assert status == 200 and spec["info"]["title"] == "auditapp"
    assert any(path.startswith("/api/v1/audits") for path in spec["paths"])
    assert report["sw"] == 200
    # The database went to the installed app's instance folder, created on the way.
    assert any(venv.glob("var/auditapp-instance/auditapp.db"))


def test_a_process_losing_the_race_for_the_local_key_uses_the_winners(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gunicorn's workers create the app at the same moment. A worker that saw no key file but
    finds one when it writes (another worker was first) takes that key: no error, no second
    key, no half-written file left behind."""
    from auditapp import config

    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "secret_key").write_text("key-of-the-first-worker")
    # What the losing worker saw a moment earlier: no key yet.
    monkeypatch.setattr(config.Path, "exists", lambda self: False)
    assert config._local_secret_key(str(instance)) == "key-of-the-first-worker"
    assert [p.name for p in instance.iterdir()] == ["secret_key"]


def test_the_local_key_is_written_whole_and_private(tmp_path: Path) -> None:
    """The first start writes a long random key readable by its owner only, and the next
    start reads the same key back."""
    from auditapp.config import _local_secret_key

    first = _local_secret_key(str(tmp_path / "instance"))
    assert len(first) >= 40
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0
    assert _local_secret_key(str(tmp_path / "instance")) == first
