"""A cluster on this machine, as separate processes on 127.0.0.1: PostgreSQL, Redis, an S3 server
(moto's standalone server), two gunicorn app hosts, one photo worker and nginx in front.

Used by tests/cluster/ and by ``bench/cluster.py``. PostgreSQL and Redis are either the
machine's (a database and Redis db numbers of the cluster's own, dropped and flushed at the end)
or private instances in a temporary directory (``PrivatePostgres``, ``PrivateRedis``) for the
tests that stop and restart them. Every process gets a free port; nothing here touches the
machine's services beyond its own database and db numbers.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import http.server
import io
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
PASSWORD = "correct-horse-battery"
SECRET_KEY = "cluster-test-secret-key-the-same-on-every-host"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
ITEMS = 60


class ComponentMissing(RuntimeError):
    """A component cannot be started on this machine (not installed); the reason says which."""


def missing_components() -> list[str]:
    """What this machine lacks to run a cluster, each with how to get it."""
    missing = []
    if not Path(NGINX).exists():
        missing.append("nginx (apt-get install nginx)")
    if not Path(REDIS_SERVER).exists():
        missing.append("redis-server (apt-get install redis-server)")
    if not (PG_BIN / "initdb").exists():
        missing.append(f"PostgreSQL 15 binaries in {PG_BIN} (apt-get install postgresql-15)")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        missing.append("pg_dump and pg_restore (apt-get install postgresql-client)")
    if not (BIN / "moto_server").exists():
        missing.append("moto's server (pip install 'moto[server]', in the test extras)")
    if not (BIN / "gunicorn").exists():
        missing.append("gunicorn")
    return missing


def free_port() -> int:
    """A TCP port nobody listens on now (the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.05) -> None:
    """Poll ``check`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            if check():
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Process:
    """A child process in its own process group, its output in a log file."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None):
        self.name, self.argv, self.log, self.env = name, argv, log, env
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        """Start (again); the log is appended to."""
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=ROOT,
                start_new_session=True,  # its own group: a kill -9 takes its children too
            )
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def pids(self) -> list[int]:
        """The group's processes now (the master and its workers)."""
        if self.popen is None:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    if int(fields[2]) == self.popen.pid:  # process group id
                        found.append(int(entry.name))
        return found

    def kill9(self) -> None:
        """``kill -9`` the whole group, as a crash would."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM the group, then SIGKILL what is left after ``timeout``."""
        if self.popen is None or self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)  # stragglers of the group

    def tail(self, lines: int = 40) -> str:
        """The end of the log, for a failure message."""
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of ``pids`` and of their waited-for children, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / ticks


# PostgreSQL ------------------------------------------------------------------------------------


class PrivatePostgres:
    """A PostgreSQL 15 instance of its own (initdb in a temp dir), trust auth on 127.0.0.1.

    PostgreSQL refuses to run as root: as root, the cluster belongs to the ``postgres`` user
    and lives in a directory of its own under the system's temp dir (the test's own temp dir
    is private to root)."""

    def __init__(self, directory: Path) -> None:
        self.as_root = os.geteuid() == 0
        if self.as_root:
            import pwd
            import tempfile

            directory = Path(tempfile.mkdtemp(prefix="auditapp-pg-"))
            owner = pwd.getpwnam("postgres")
            os.chown(directory, owner.pw_uid, owner.pw_gid)
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.log = directory / "postgres.log"

    def _run(self, argv: list[str]) -> None:
        if self.as_root:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=self.directory)

    def _ctl(self, *args: str) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200 -c fsync=off -c full_page_writes=off"
        )
        pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log)]
        self._run([*pg_ctl, "-o", options, *args])

    def start(self) -> PrivatePostgres:
        if not self.data.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            self._run(
                [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"]
                + ["-E", "UTF8", "--no-sync", "--locale=C.UTF-8"]
            )
        self._ctl("-w", "start")
        return self

    def stop(self) -> None:
        self._ctl("-w", "-m", "fast", "stop")

    def remove(self) -> None:
        """Stop (if running) and delete the instance's files."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def base_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


@contextlib.contextmanager
def scratch_database(base_url: str) -> Iterator[str]:
    """A database of its own on the server of ``base_url``, dropped afterwards."""
    name = f"cluster_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        sa.make_url(base_url).set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=True,  # the server may have been restarted meanwhile
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = sa.make_url(base_url).set(drivername="postgresql+psycopg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


# Redis -----------------------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of its own on a free port, no persistence (the sweep re-queues lost jobs)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--dir", str(directory), "--save", "", "--appendonly", "no"]
        self.process = Process("redis", argv, directory / "redis.log")

    def start(self) -> PrivateRedis:
        self.process.start()
        wait_until(lambda: port_open(self.port), 10, "redis-server")
        return self

    def stop(self) -> None:
        self.process.stop()
        wait_until(lambda: not port_open(self.port), 10, "redis-server to stop")

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


# S3 --------------------------------------------------------------------------------------------


class MotoS3:
    """moto's standalone S3 server (a real HTTP endpoint), in memory."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        argv = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]
        self.process = Process("moto", argv, directory / "moto.log", env={**os.environ, **AWS_ENV})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoS3:
        self.process.start()
        wait_until(lambda: port_open(self.port), 30, "moto_server")
        return self

    def stop(self) -> None:
        self.process.stop()

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )

    def keys(self, bucket: str) -> dict[str, bytes]:
        """Every object of ``bucket`` with its bytes."""
        client, found = self.client(), {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                body = client.get_object(Bucket=bucket, Key=entry["Key"])["Body"]
                found[entry["Key"]] = body.read()
        return found


class FaultyProxy:
    """An HTTP proxy in front of the S3 server that answers 500 while ``failing`` is set."""

    def __init__(self, target_port: int) -> None:
        self.failing = False
        self.refused = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if proxy.failing:
                    proxy.refused += 1
                    error = (
                        b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError'
                        b"</Code><Message>injected</Message></Error>"
                    )
                    self.send_response(500)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    self.wfile.write(error)
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", target_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultyProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# Data ------------------------------------------------------------------------------------------


def checklist_yaml(items: int = ITEMS) -> str:
    """A bilingual checklist of ``items`` items over the three stages (yes/no and scales)."""
    stages = ("pre_purchase", "purchase", "after_sale")
    lines = [
        "checklist: cluster-visit",
        "version: 1",
        'title: {ru: "Визит (кластер)", en: "Visit (cluster)"}',
        "standard:",
        "  code: STD-CL-01",
        '  title: {ru: "Стандарт обслуживания", en: "Service standard"}',
        "applies_to: [store, restaurant, hotel, service_centre]",
        "channel: visit",
        "sections:",
    ]
    per_section = -(-items // len(stages))
    number = 0
    for index, stage in enumerate(stages):
        lines += [
            f"  - id: s{index}",
            f"    stage: {stage}",
            f'    title: {{ru: "Раздел {index}", en: "Section {index}"}}',
            "    items:",
        ]
        for _ in range(per_section):
            if number == items:
                break
            number += 1
            lines += [
                f"      - id: q{number:02d}",
                f'        clause: "{index + 1}.{number}"',
                f'        text: {{ru: "Пункт {number}?", en: "Item {number}?"}}',
            ]
            if number % 4 == 0:
                lines += ["        type: scale", "        min: 1", "        max: 5"]
            else:
                lines += ["        type: yes_no"]
    return "\n".join(lines) + "\n"


def answers_for(seed: int, items: int = ITEMS) -> dict[str, Any]:
    """Valid answers to every item, varied by ``seed`` (so scores differ between visits)."""
    rng = random.Random(seed)
    return {
        f"q{n:02d}": rng.randint(1, 5) if n % 4 == 0 else rng.random() < 0.85
        for n in range(1, items + 1)
    }


@dataclass
class Visit:
    """One assignment a shopper will submit."""

    shopper: str
    assignment_id: int
    branch_id: int


@dataclass
class Seeded:
    """What ``seed`` made: shoppers' logins and visits, and the HQ logins."""

    visits: dict[str, list[Visit]]
    admin: str = "admin"
    branches: list[int] = field(default_factory=list)


def seed(database_url: str, workdir: Path, shoppers: int, visits_each: int) -> Seeded:
    """Migrate ``database_url`` and load the fixture network (tests/support), the 60-item
    checklist, and ``visits_each`` open assignments for each of ``shoppers`` shoppers."""
    from flask_migrate import upgrade

    from auditapp import create_app
    from auditapp.extensions import db
    from auditapp.models import Assignment, Branch, User, Wave, wave_branch
    from auditapp.services import checklists
    from auditapp.services.waves import due_at
    from tests.support import app_config, build_network, make_user

    app = create_app(app_config(database_url, workdir))
    with app.app_context():
        upgrade()
        network = build_network()
        outcome = checklists.import_checklist(checklist_yaml(), "cluster.yaml")
        admin = db.session.get(User, network.users["admin"])
        assert admin is not None
        branches = {b.id: b for b in db.session.execute(sa.select(Branch)).scalars()}
        branch_ids = sorted(branches)
        logins = [f"cl_shopper{n:02d}" for n in range(shoppers)]
        shopper_ids = {login: make_user(login, "shopper") for login in logins}
        today = date.today()
        start, end = today - timedelta(days=3), today + timedelta(days=20)
        waves_needed = -(-visits_each // len(branch_ids))
        wave_ids = []
        for number in range(waves_needed):
            wave = Wave(
                name=f"Кластер {number}",
                checklist_version_id=outcome.id,
                starts_on=start,
                ends_on=end,
                visits_per_branch=shoppers,
                day_parts=[],
                created_by_id=admin.id,
            )
            db.session.add(wave)
            db.session.flush()
            wave_ids.append(wave.id)
            db.session.execute(
                sa.insert(wave_branch), [{"wave_id": wave.id, "branch_id": b} for b in branch_ids]
            )
        visits: dict[str, list[Visit]] = {}
        for login in logins:
            rows = []
            for n in range(visits_each):
                wave_id, branch_id = wave_ids[n // len(branch_ids)], branch_ids[n % len(branch_ids)]
                rows.append(
                    Assignment(
                        wave_id=wave_id,
                        branch_id=branch_id,
                        shopper_id=shopper_ids[login],
                        window_start=start,
                        window_end=end,
                        due_at=due_at(branches[branch_id], end),
                    )
                )
            db.session.add_all(rows)
            db.session.flush()
            visits[login] = [Visit(login, a.id, a.branch_id) for a in rows]
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return Seeded(visits=visits, branches=branch_ids)


_JPEGS: dict[tuple[int, tuple[int, int]], bytes] = {}


def photo_bytes(seed: int, size: tuple[int, int] = (1024, 768)) -> bytes:
    """A camera-like JPEG, unique for ``seed``: a few base pictures, each made unique by a
    comment segment (so every upload is a different file, as on a phone)."""
    from tests.support import jpeg_bytes

    key = (seed % 4, size)
    if key not in _JPEGS:
        _JPEGS[key] = jpeg_bytes(seed % 4 + 1000 * size[0], size)
    base = _JPEGS[key]
    comment = f"auditapp cluster photo {seed} {uuid.uuid4()}".encode()
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return base[:2] + segment + base[2:]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# The cluster -----------------------------------------------------------------------------------


NGINX_CONF = """
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 2048; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream app {{
        {servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 40m;
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # A host that refuses the connection (down, restarting) is skipped; a request a
            # host took and then lost is never re-sent by nginx (the client retries it).
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


# gunicorn 27 opens a control socket in ~/.gunicorn by default: one path for every host.
_NO_CONTROL_SOCKET = (
    ["--no-control-socket"]
    if "--no-control-socket"
    in subprocess.run(
        [str(BIN / "gunicorn"), "--help"], capture_output=True, text=True, check=False
    ).stdout
    else []
)


class Cluster:
    """Two gunicorn hosts and a photo worker on the given database, queue, limiter and bucket,
    with nginx in front at ``url``."""

    def __init__(
        self,
        directory: Path,
        database_url: str,
        huey_url: str,
        ratelimit_url: str,
        s3_endpoint: str,
        bucket: str,
        *,
        hosts: int = 2,
        web_workers: int = 2,
        login_rate_limit: str = "10000 per minute",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.database_url, self.bucket = database_url, bucket
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AUDITAPP_")},
            **AWS_ENV,
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET_KEY,
            "AUDITAPP_PHOTO_STORAGE_URL": f"s3://{bucket}/photos",
            "AUDITAPP_S3_ENDPOINT_URL": s3_endpoint,
            "AUDITAPP_HUEY_URL": huey_url,
            "AUDITAPP_RATELIMIT_STORAGE_URI": ratelimit_url,
            "AUDITAPP_PROXY_COUNT": "1",
            "AUDITAPP_LOGIN_RATE_LIMIT": json.dumps(login_rate_limit),
            "AUDITAPP_PHOTO_SWEEP_SECONDS": "1",
            "AUDITAPP_PHOTO_REQUEUE_AFTER_SECONDS": "3",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.env.pop("TEST_DATABASE_URL", None)
        self.host_ports = [free_port() for _ in range(hosts)]
        self.hosts = [
            Process(
                f"host{n}",
                [str(BIN / "gunicorn"), "--workers", str(web_workers), "--bind", f"127.0.0.1:{p}"]
                + ["--forwarded-allow-ips", "127.0.0.1", "--graceful-timeout", "3"]
                + ["--timeout", "60", *_NO_CONTROL_SOCKET, "auditapp:create_app()"],
                directory / f"host{n}.log",
                self.env,
            )
            for n, p in enumerate(self.host_ports)
        ]
        self.worker = Process(
            "worker",
            [str(BIN / "flask"), "--app", "auditapp", "worker", "--workers", "1"],
            directory / "worker.log",
            self.env,
        )
        self.port = free_port()
        servers = "\n        ".join(
            f"server 127.0.0.1:{p} max_fails=1 fail_timeout=1s;" for p in self.host_ports
        )
        conf = directory / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=directory, servers=servers, port=self.port))
        self.nginx = Process(
            "nginx",
            [NGINX, "-e", str(directory / "nginx-error.log"), "-c", str(conf)],
            directory / "nginx.log",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def host_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.host_ports[n]}"

    def healthy(self, n: int) -> bool:
        try:
            return requests.get(f"{self.host_url(n)}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def start_host(self, n: int, wait: bool = True) -> None:
        self.hosts[n].start()
        if wait:
            self.wait_host(n)

    def wait_host(self, n: int, timeout: float = 60) -> None:
        try:
            wait_until(lambda: self.healthy(n), timeout, f"app host {n}", every=0.1)
        except TimeoutError as error:
            raise TimeoutError(f"{error}\n{self.hosts[n].tail()}") from None

    def start(self) -> Cluster:
        for n in range(len(self.hosts)):
            self.start_host(n, wait=False)
        self.worker.start()
        self.nginx.start()
        for n in range(len(self.hosts)):
            self.wait_host(n)
        wait_until(lambda: port_open(self.port), 20, f"nginx\n{self.nginx.tail()}")
        return self

    def stop(self) -> None:
        for process in (self.nginx, self.worker, *self.hosts):
            process.stop()

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``flask --app auditapp ARGS`` with the cluster's environment."""
        return subprocess.run(
            [str(BIN / "flask"), "--app", "auditapp", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=check,
            timeout=300,
        )

    def engine(self) -> sa.Engine:
        return sa.create_engine(sa.make_url(self.database_url), pool_pre_ping=True)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.tail(25)}" for p in (*self.hosts, self.worker, self.nginx)
        )


# The client ------------------------------------------------------------------------------------

RETRYABLE = {429, 502, 503, 504}


class Shopper:
    """A phone app signed in through nginx: a cookie session, the CSRF token, and retries
    with the same client ids until the server acknowledges (as the PWA's outbox does)."""

    def __init__(self, base_url: str, login: str, timeout: float = 60) -> None:
        self.base_url, self.login_name, self.timeout = base_url, login, timeout
        self.http = requests.Session()
        self.csrf = ""
        self.retries = 0
        self.statuses: dict[int, int] = {}
        self.upstreams: list[str] = []
        # Each 5xx answer: (status, the error code of the JSON body or None, Retry-After).
        self.server_errors: list[tuple[int, str | None, str | None]] = []

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One attempt; raises requests' connection errors."""
        headers = kwargs.pop("headers", {})
        if self.csrf and method != "GET":
            headers["X-CSRFToken"] = self.csrf
        response = self.http.request(
            method, self.base_url + path, headers=headers, timeout=self.timeout, **kwargs
        )
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        self.upstreams.append(response.headers.get("X-Upstream", ""))
        if response.status_code >= 500:
            code = None
            with contextlib.suppress(ValueError, KeyError, TypeError):
                code = response.json()["error"]["code"]
            self.server_errors.append(
                (response.status_code, code, response.headers.get("Retry-After"))
            )
        return response

    def until_acknowledged(
        self, method: str, path: str, give_up_after: float = 180, **kwargs: Any
    ) -> requests.Response:
        """Send until a final answer (not a 5xx, 429 or lost connection); retries back off a
        little, with jitter, as the PWA does."""
        deadline = time.monotonic() + give_up_after
        delay = 0.05
        while True:
            body = kwargs.get("files")
            if body:  # rewind the uploaded file for a retry
                for value in body.values():
                    if isinstance(value, tuple) and hasattr(value[1], "seek"):
                        value[1].seek(0)
            try:
                response = self.request(method, path, **kwargs)
                if response.status_code not in RETRYABLE and response.status_code < 500:
                    return response
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method} {path}: no acknowledgement in {give_up_after} s")
            self.retries += 1
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 1.0)

    def login(self, password: str = PASSWORD) -> requests.Response:
        response = self.until_acknowledged(
            "POST", "/api/v1/auth/login", json={"login": self.login_name, "password": password}
        )
        if response.status_code == 200:
            self.csrf = response.json()["csrf_token"]
        return response

    def save_draft(self, audit_uuid: str, visit: Visit, answers: dict[str, Any]) -> Any:
        return self.until_acknowledged(
            "PUT",
            f"/api/v1/audits/{audit_uuid}/draft",
            json={"assignment_id": visit.assignment_id, "answers": answers},
        )

    def upload(
        self, audit_uuid: str, visit: Visit, item_id: str, data: bytes, photo_uuid: str
    ) -> requests.Response:
        return self.until_acknowledged(
            "POST",
            f"/api/v1/audits/{audit_uuid}/photos",
            data={
                "assignment_id": str(visit.assignment_id),
                "item_id": item_id,
                "photo_uuid": photo_uuid,
            },
            files={"file": ("photo.jpg", io.BytesIO(data), "image/jpeg")},
        )

    def submit(self, audit_uuid: str, body: dict[str, Any]) -> requests.Response:
        return self.until_acknowledged("POST", f"/api/v1/audits/{audit_uuid}/submit", json=body)


def submission_body(visit: Visit, seed_value: int) -> dict[str, Any]:
    """A complete submit body for the 60-item checklist."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    return {
        "assignment_id": visit.assignment_id,
        "answers": answers_for(seed_value),
        "visit_started_at": start.isoformat(),
        "visit_ended_at": (start + timedelta(minutes=25)).isoformat(),
        "geo": {"lat": 55.0005, "lon": 37.0005, "accuracy_m": 20},
        "staff": [],
    }


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered) + 0.5)) - 1))]


# Runs shared by the tests and bench/cluster.py -------------------------------------------------


@dataclass
class Acknowledged:
    """What the server acknowledged for one visit: the photo and the submission."""

    visit: Visit
    audit_uuid: str
    answers: dict[str, Any]
    photo_uuid: str
    photo_id: int
    photo_sha: str
    audit_id: int


@dataclass
class CrashReport:
    """The outcome of a crash run."""

    acknowledged: list[Acknowledged]
    kills: list[tuple[float, int]]
    seconds: float
    retries: int
    statuses: dict[int, int]


def run_visits_with_kills(
    cluster: Cluster, seeded: Seeded, seed_value: int = 14, clients: int = 8
) -> CrashReport:
    """Every seeded visit (a photo, then the submission) by ``clients`` shopper threads through
    nginx, retrying until acknowledged, while an app host is ``kill -9``-ed at random moments
    (seeded) and started again at once, as a supervisor would."""
    rng = random.Random(seed_value)
    # The schedule: (which host, seconds after it serves again). A host is killed only once it
    # serves again, as a crash-looping host would be taken out of rotation by its supervisor.
    schedule = [(rng.randrange(len(cluster.hosts)), rng.uniform(0.2, 2.0)) for _ in range(10000)]
    queue = [visit for visits in seeded.visits.values() for visit in visits]
    by_shopper: dict[str, list[Visit]] = {}
    for visit in queue:
        by_shopper.setdefault(visit.shopper, []).append(visit)
    acknowledged: list[Acknowledged] = []
    errors: list[BaseException] = []
    kills: list[tuple[float, int]] = []
    done = threading.Event()
    lock = threading.Lock()
    shoppers: list[Shopper] = []
    started = time.monotonic()

    def shop(login: str, visits: list[Visit]) -> None:
        try:
            shopper = Shopper(cluster.url, login)
            shoppers.append(shopper)
            assert shopper.login().status_code == 200
            for visit in visits:
                number = visit.assignment_id
                audit_uuid, photo_uuid = str(uuid.uuid4()), str(uuid.uuid4())
                data = photo_bytes(number, (640, 480))
                upload = shopper.upload(audit_uuid, visit, "q03", data, photo_uuid)
                assert upload.status_code in (200, 201), upload.text
                body = submission_body(visit, number)
                submitted = shopper.submit(audit_uuid, body)
                assert submitted.status_code in (200, 201), submitted.text
                with lock:
                    acknowledged.append(
                        Acknowledged(
                            visit,
                            audit_uuid,
                            body["answers"],
                            photo_uuid,
                            upload.json()["id"],
                            sha256(data),
                            submitted.json()["id"],
                        )
                    )
        except BaseException as error:  # reported by the caller
            errors.append(error)

    def kill() -> None:
        for host, delay in schedule:
            while not cluster.healthy(host):
                if done.wait(0.05):
                    return
            if done.wait(delay):
                return
            cluster.hosts[host].kill9()
            kills.append((time.monotonic() - started, host))
            cluster.start_host(host, wait=False)

    groups = list(by_shopper.items())
    threads = [
        threading.Thread(target=shop, args=(login, visits), daemon=True)
        for login, visits in groups[:clients]
    ]
    killer = threading.Thread(target=kill, daemon=True)
    for thread in threads:
        thread.start()
    killer.start()
    for thread in threads:
        thread.join()
    done.set()
    killer.join()
    seconds = time.monotonic() - started
    for n in range(len(cluster.hosts)):
        cluster.wait_host(n)
    if errors:
        raise errors[0]
    statuses: dict[int, int] = {}
    for shopper in shoppers:
        for status, count in shopper.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    return CrashReport(
        acknowledged,
        kills,
        seconds,
        sum(s.retries for s in shoppers),
        dict(sorted(statuses.items())),
    )


@dataclass
class LoadReport:
    """The outcome of a load run."""

    seconds: float
    submissions: int
    uploads: int
    latencies: dict[str, list[float]]
    errors: dict[str, int]
    host_cpu: float
    worker_cpu: float
    nginx_cpu: float
    database_cpu: float | None = None

    def summary(self) -> dict[str, Any]:
        """The figures: throughput, p50/p99 per request kind, errors, CPU per submission."""
        visits = max(self.submissions, 1)
        return {
            "seconds": round(self.seconds, 1),
            "submissions": self.submissions,
            "photo_uploads": self.uploads,
            "submissions_per_s": round(self.submissions / self.seconds, 2),
            "latency_ms": {
                kind: {
                    "n": len(values),
                    "p50": round(percentile(values, 0.5) * 1000),
                    "p99": round(percentile(values, 0.99) * 1000),
                }
                for kind, values in self.latencies.items()
            },
            "errors": self.errors,
            "cpu_s_per_visit": {
                "app_hosts": round(self.host_cpu / visits, 4),
                "photo_worker": round(self.worker_cpu / visits, 4),
                "nginx": round(self.nginx_cpu / visits, 4),
                **(
                    {"postgresql": round(self.database_cpu / visits, 4)}
                    if self.database_cpu is not None
                    else {}
                ),
            },
        }


def run_load(
    cluster: Cluster,
    seeded: Seeded,
    seconds: float,
    photos_each: int = 3,
    photo_size: tuple[int, int] = (1280, 960),
    database_pids: Callable[[], list[int]] | None = None,
    drain_timeout: float = 0,
) -> LoadReport:
    """Every seeded shopper at once, each visiting in a loop for ``seconds``: a draft, then
    ``photos_each`` photos, then the submission of all the checklist's answers. Requests are
    not retried: any answer other than 2xx counts as an error. With ``drain_timeout`` the
    worker's CPU is counted until it has processed every photo."""
    latencies: dict[str, list[float]] = {"draft": [], "photo": [], "submit": []}
    errors: dict[str, int] = {}
    lock = threading.Lock()
    counts = {"submissions": 0, "uploads": 0}
    deadline = float("inf")  # set once everyone is signed in

    def timed(kind: str, shopper: Shopper, method: str, path: str, **kwargs: Any) -> bool:
        begun = time.perf_counter()
        try:
            status = str(shopper.request(method, path, **kwargs).status_code)
        except requests.RequestException as error:
            status = type(error).__name__
        elapsed = time.perf_counter() - begun
        with lock:
            if status.startswith("2"):
                latencies[kind].append(elapsed)
                return True
            errors[f"{kind} {status}"] = errors.get(f"{kind} {status}", 0) + 1
        return False

    shoppers = []
    for login in seeded.visits:
        shopper = Shopper(cluster.url, login)
        assert shopper.login().status_code == 200
        shoppers.append(shopper)
    # Photos made before the clock starts: the load generator must not compete for the CPU.
    pictures = {n: photo_bytes(n, photo_size) for n in range(4)}

    def shop(shopper: Shopper) -> None:
        for number, visit in enumerate(seeded.visits[shopper.login_name]):
            if time.monotonic() > deadline:
                return
            audit_uuid = str(uuid.uuid4())
            body = submission_body(visit, visit.assignment_id)
            half = dict(list(body["answers"].items())[:30])
            path = f"/api/v1/audits/{audit_uuid}"
            draft = {"assignment_id": visit.assignment_id, "answers": half}
            timed("draft", shopper, "PUT", f"{path}/draft", json=draft)
            for index in range(photos_each):
                base = pictures[(number + index) % 4]
                tag = f"{visit.assignment_id}-{index}".encode()
                data = base[:2] + b"\xff\xfe" + (len(tag) + 2).to_bytes(2, "big") + tag + base[2:]
                fields = {
                    "assignment_id": str(visit.assignment_id),
                    "item_id": f"q{index + 1:02d}",
                    "photo_uuid": str(uuid.uuid4()),
                }
                upload = {"file": ("photo.jpg", data, "image/jpeg")}
                if timed("photo", shopper, "POST", f"{path}/photos", data=fields, files=upload):
                    with lock:
                        counts["uploads"] += 1
            if timed("submit", shopper, "POST", f"{path}/submit", json=body):
                with lock:
                    counts["submissions"] += 1
        raise RuntimeError(f"{shopper.login_name} ran out of visits: seed more")

    def pid_groups() -> list[list[int]]:
        # Taken again at the end: a process started meanwhile counts whole, one that ended
        # was reaped into its parent's cutime/cstime.
        return [
            [pid for host in cluster.hosts for pid in host.pids()],
            cluster.worker.pids(),
            cluster.nginx.pids(),
            database_pids() if database_pids else [],
        ]

    before = [cpu_seconds(p) for p in pid_groups()]
    started = time.monotonic()
    deadline = started + seconds
    failures: list[BaseException] = []

    def guarded(shopper: Shopper) -> None:
        try:
            shop(shopper)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=guarded, args=(s,), daemon=True) for s in shoppers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    after = [cpu_seconds(p) for p in pid_groups()]
    if failures:
        raise failures[0]
    if drain_timeout:
        # The worker may lag behind the uploads: count its CPU until it has caught up.
        wait_photos_processed(cluster, timeout=drain_timeout)
        after[1] = cpu_seconds(pid_groups()[1])
    used = [b - a for a, b in zip(before, after, strict=True)]
    return LoadReport(
        elapsed,
        counts["submissions"],
        counts["uploads"],
        latencies,
        errors,
        used[0],
        used[1],
        used[2],
        used[3] if database_pids else None,
    )


def postgres_pids(data_directory: Path) -> list[int]:
    """The postmaster of ``data_directory`` and its children (backends, background writers)."""
    postmaster = int((data_directory / "postmaster.pid").read_text().split()[0])
    members = [postmaster]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == postmaster:  # parent pid
                    members.append(int(entry.name))
    return members


def wait_photos_processed(cluster: Cluster, timeout: float = 180) -> None:
    """Until no photo is "processing" (the worker and its sweep have done every job)."""
    engine = cluster.engine()

    def none_left() -> bool:
        with engine.connect() as conn:
            return not conn.execute(
                sa.text("SELECT count(*) FROM audit_photo WHERE status = 'processing'")
            ).scalar_one()

    try:
        wait_until(none_left, timeout, f"the worker to process every photo\n{cluster.logs()}", 0.5)
    finally:
        engine.dispose()


def account(cluster: Cluster, s3: MotoS3, report: CrashReport) -> dict[str, int]:
    """Compare what was acknowledged with what the database and the bucket hold: lost answers,
    lost photos, duplicates, photo rows whose files are missing or differ, and files no row
    names (before any clean-up)."""
    engine = cluster.engine()
    with engine.connect() as conn:
        audits = conn.execute(
            sa.text("SELECT id, client_uuid, assignment_id, status, answers FROM audit")
        ).all()
        photos = conn.execute(
            sa.text(
                "SELECT id, client_uuid, audit_id, sha256, status, original_key, display_key,"
                " thumb_key FROM audit_photo"
            )
        ).all()
    engine.dispose()
    objects = s3.keys(cluster.bucket)
    audit_by_uuid = {str(a.client_uuid): a for a in audits}
    photo_by_uuid = {str(p.client_uuid): p for p in photos}
    lost_answers = lost_photos = 0
    for ack in report.acknowledged:
        audit = audit_by_uuid.get(ack.audit_uuid)
        if (
            audit is None
            or audit.id != ack.audit_id
            or audit.status != "submitted"
            or audit.answers != ack.answers
        ):
            lost_answers += 1
        photo = photo_by_uuid.get(ack.photo_uuid)
        if photo is None or photo.id != ack.photo_id or photo.sha256 != ack.photo_sha:
            lost_photos += 1
    per_assignment: dict[int, int] = {}
    for audit in audits:
        per_assignment[audit.assignment_id] = per_assignment.get(audit.assignment_id, 0) + 1
    named = set()
    missing_files = 0
    for photo in photos:
        for key in (photo.original_key, photo.display_key, photo.thumb_key):
            if key:
                named.add(f"photos/{key}")
        original = objects.get(f"photos/{photo.original_key}")
        if original is None or sha256(original) != photo.sha256:
            missing_files += 1
        if photo.status == "ready" and not (
            f"photos/{photo.display_key}" in objects and f"photos/{photo.thumb_key}" in objects
        ):
            missing_files += 1
    return {
        "acknowledged_visits": len(report.acknowledged),
        "audits": len(audits),
        "photos": len(photos),
        "lost_answers": lost_answers,
        "lost_photos": lost_photos,
        "duplicate_audits": sum(n - 1 for n in per_assignment.values())
        + len(audits)
        - len({a.client_uuid for a in audits}),
        "duplicate_photos": len(photos) - len({p.client_uuid for p in photos}),
        "extra_photos": len(photos) - len(report.acknowledged),
        "photos_not_ready": sum(1 for p in photos if p.status != "ready"),
        "missing_or_wrong_files": missing_files,
        "orphan_files": len(set(objects) - named),
    }
