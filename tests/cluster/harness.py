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
    """A PostgreSQL 15 instance of its own (initdb in a temp dir), trust auth on 127.0.0.1."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.log = directory / "postgres.log"

    def _ctl(self, *args: str) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200 -c fsync=off -c full_page_writes=off"
        )
        subprocess.run(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options]
            + list(args),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> PrivatePostgres:
        if not self.data.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"]
                + ["-E", "UTF8", "--no-sync", "--locale=C.UTF-8"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        self._ctl("-w", "start")
        return self

    def stop(self) -> None:
        self._ctl("-w", "-m", "fast", "stop")

    def restart(self) -> None:
        self._ctl("-w", "-m", "fast", "restart")

    def base_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


@contextlib.contextmanager
def scratch_database(base_url: str) -> Iterator[str]:
    """A database of its own on the server of ``base_url``, dropped afterwards."""
    name = f"cluster_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        sa.make_url(base_url).set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = sa.make_url(base_url).set(drivername="postgresql+psycopg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
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
                + ["--timeout", "60", "auditapp:create_app()"],
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
            "nginx", [NGINX, "-e", str(directory / "nginx-error.log"), "-c", str(conf)],
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
