#!/usr/bin/env python3
"""The two commands of the quick start, needing only Python 3.11+ on the machine.

    python3 dev.py start   install, migrate, load the demo, serve on http://127.0.0.1:5000
    python3 dev.py test    install, lint, type-check, scan (bandit) and run the whole test suite

Both create ``.venv`` beside this file and install the project into it (again only when
``pyproject.toml`` or ``setup.py`` changed). ``start`` serves with gunicorn (the development
server on Windows, where gunicorn does not run) and the photo worker beside it, with a local
secret key kept in ``instance/secret_key``. ``test`` runs the suite on SQLite, and a second time
on PostgreSQL when ``TEST_DATABASE_URL`` is set (e.g. postgresql://postgres@127.0.0.1:5432/test);
the install tests (wheel, deploy sequence) do not use the database and run in the first pass only,
the cluster tests (tests/cluster: nginx, gunicorn hosts, Redis, S3, PostgreSQL) in the second.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
ADDRESS = ("127.0.0.1", "5000")


def local_env() -> dict[str, str]:
    """The environment of the app's processes on this machine: without ``SECRET_KEY`` the app
    refuses to start unless told that a key kept in ``instance/secret_key`` is fine."""
    return {**os.environ, "AUDITAPP_LOCAL_SECRET_KEY": "true"}


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    """Run a command from the project root; stop with its exit status if it fails."""
    print("+", " ".join(str(a) for a in args), flush=True)
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def install(extras: str) -> None:
    """Create the virtual environment and install the project with ``extras``."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs before anything checks
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
        run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    build_files = (ROOT / "pyproject.toml").read_bytes() + (ROOT / "setup.py").read_bytes()
    digest = hashlib.sha256(build_files + extras.encode()).hexdigest()
    stamp = VENV / ".auditapp-installed"
    if stamp.exists() and stamp.read_text() == digest:
        return
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", f".[{extras}]" if extras else ".")
    stamp.write_text(digest)


def flask(*args: str) -> None:
    """Run ``flask --app auditapp ARGS`` in the virtual environment."""
    run(PYTHON, "-m", "flask", "--app", "auditapp", *args, env=local_env())


def server_command() -> list[str]:
    """gunicorn as in production (two workers, access log on the terminal); on Windows, where
    gunicorn does not run, Flask's development server."""
    host, port = ADDRESS
    if os.name == "nt":
        flask_run = ["-m", "flask", "--app", "auditapp", "run", "--host", host, "--port", port]
        return [str(PYTHON), *flask_run]
    return [
        str(BIN / "gunicorn"),
        "--workers",
        "2",
        "--bind",
        f"{host}:{port}",
        "--access-logfile",
        "-",
        "auditapp:create_app()",
    ]


def start() -> None:
    """Install, migrate, load the demo (once) and serve the app with the photo worker."""
    install("")
    flask("db", "upgrade")
    flask("demo")
    # The worker re-encodes uploaded photos; it runs beside the web server and stops with it.
    worker = subprocess.Popen(
        [str(PYTHON), "-m", "flask", "--app", "auditapp", "worker", "--workers", "1"],
        cwd=ROOT,
        env=local_env(),
    )
    try:
        print(f"serving on http://{ADDRESS[0]}:{ADDRESS[1]} (Ctrl+C stops)", flush=True)
        run(*server_command(), env=local_env())
    except KeyboardInterrupt:
        pass
    finally:
        worker.terminate()
        worker.wait(timeout=10)


def test() -> None:
    """Install with the test tools, lint, type-check, and run the suite on each database."""
    install("test,dev")
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    run(BIN / "mypy", "auditapp")
    run(BIN / "mypy", "--strict", "--follow-imports=silent", "auditapp/domain")
    # Medium and high findings fail the build; each low one is listed in docs/security.md.
    run(BIN / "bandit", "--quiet", "--recursive", "--severity-level", "medium", "auditapp")
    run(
        PYTHON,
        "-m",
        "flask",
        "--app",
        "auditapp",
        "checklist",
        "validate",
        *sorted(str(p) for p in (ROOT / "checklists").glob("*.yaml")),
        env=local_env(),
    )
    sqlite_env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    print("== tests on SQLite (with the install tests: wheel, deploy sequence)", flush=True)
    pytest = [PYTHON, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider"]
    # The cluster tests need PostgreSQL: they run in the second pass only.
    run(*pytest, "-m", "not cluster", *sys.argv[2:], env=sqlite_env)
    if os.environ.get("TEST_DATABASE_URL"):
        # The install tests use no test database; the first pass ran them already.
        print("== tests on PostgreSQL (without the install tests, with the cluster)", flush=True)
        run(*pytest, "-m", "not install", *sys.argv[2:])


if __name__ == "__main__":
    commands = {"start": start, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]]()
