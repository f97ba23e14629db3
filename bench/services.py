"""Standard infrastructure for the scale-out tests: PostgreSQL, Redis and nginx.

PostgreSQL is the machine's server (started when installed but down); every run
works in throw-away databases it drops afterwards. Redis and nginx run as our own
processes on free ports with their files under a working directory, so parallel
runs never share state, and they are stopped by PID.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from string import Template
from typing import Iterator, List, Optional, Sequence

from bench.stack import PROJECT_ROOT, free_port, stop

POSTGRES_SERVER = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432"
)
NGINX_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx.conf.template"


class ServiceUnavailable(RuntimeError):
    """A service the test needs is not installed or could not be started."""


# ------------------------------------------------------------------ PostgreSQL


def postgres_reachable(server: str = POSTGRES_SERVER) -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(f"{server}/postgres", future=True)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def ensure_postgres(server: str = POSTGRES_SERVER) -> None:
    """Starts the local cluster when PostgreSQL is installed but not running."""
    if postgres_reachable(server):
        return
    versions = sorted(os.path.basename(p) for p in glob.glob("/etc/postgresql/*"))
    if not versions or shutil.which("pg_ctlcluster") is None:
        raise ServiceUnavailable("PostgreSQL is not installed on this machine")
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
        check=False, capture_output=True,
    )
    for _ in range(30):
        if postgres_reachable(server):
            return
        time.sleep(1)
    raise ServiceUnavailable("PostgreSQL is installed but could not be started")


@contextmanager
def throwaway_databases(count: int, server: str = POSTGRES_SERVER) -> Iterator[List[str]]:
    """`count` new, empty databases (their URLs), dropped afterwards whatever happens."""
    from sqlalchemy import create_engine, text

    ensure_postgres(server)
    names = [f"cs_scale_{os.getpid()}_{uuid.uuid4().hex[:8]}" for _ in range(count)]
    # pre-ping: a PostgreSQL restart in between (make bench-faults) leaves stale connections.
    admin = create_engine(f"{server}/postgres", future=True, isolation_level="AUTOCOMMIT",
                          pool_pre_ping=True)
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield [f"{server}/{name}" for name in names]
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ----------------------------------------------------------------------- Redis


def _wait_port(port: int, process: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceUnavailable(f"process on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise ServiceUnavailable(f"nothing listens on port {port} after {timeout:.0f} s")


class RedisServer:
    """A private redis-server (no persistence) on a free port."""

    def __init__(self, workdir: Path, port: Optional[int] = None) -> None:
        if shutil.which("redis-server") is None:
            raise ServiceUnavailable("redis-server is not installed on this machine")
        self.workdir = workdir
        self.port = port or free_port()
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> "RedisServer":
        log = open(self.workdir / f"redis-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        _wait_port(self.port, self.process)
        return self

    def stop(self) -> None:
        stop(self.process)
        self.process = None


# ----------------------------------------------------------------------- nginx


def nginx_binary() -> str:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.path.exists(candidate):
            return candidate
    raise ServiceUnavailable("nginx is not installed: run `make nginx`")


# Who may reach Rasa's HTTP API through nginx (the deployment default: loopback).
API_FROM_LOOPBACK = "allow 127.0.0.1; allow ::1; deny all;"


def render_nginx_config(
    workdir: Path, rasa_ports: Sequence[int], action_ports: Sequence[int],
    rasa_listen: int, actions_listen: int, api_access: str = API_FROM_LOOPBACK,
) -> Path:
    """deploy/nginx.conf.template with these upstreams, files under `workdir`."""
    def servers(ports: Sequence[int]) -> str:
        return "\n".join(f"        server 127.0.0.1:{port};" for port in ports)

    # safe_substitute: nginx's own $variables stay as they are.
    text = Template(NGINX_TEMPLATE.read_text(encoding="utf-8")).safe_substitute(
        prefix=str(workdir), rasa_servers=servers(rasa_ports),
        action_servers=servers(action_ports), rasa_listen=rasa_listen,
        actions_listen=actions_listen, api_access=api_access,
    )
    if "${" in text:
        raise ValueError("deploy/nginx.conf.template has a placeholder nobody fills")
    path = workdir / "nginx.conf"
    path.write_text(text, encoding="utf-8")
    return path


class Nginx:
    """nginx in the foreground with a generated configuration, stopped by PID."""

    def __init__(self, workdir: Path, rasa_ports: Sequence[int],
                 action_ports: Sequence[int], api_access: str = API_FROM_LOOPBACK) -> None:
        self.binary = nginx_binary()
        self.workdir = workdir
        self.rasa_listen = free_port()
        self.actions_listen = free_port()
        (workdir / "nginx-temp").mkdir(parents=True, exist_ok=True)
        self.config = render_nginx_config(workdir, rasa_ports, action_ports,
                                          self.rasa_listen, self.actions_listen, api_access)
        self.access_log = workdir / "nginx-access.log"
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> "Nginx":
        log = open(self.workdir / "nginx.log", "ab")
        # As root, workers would switch to `nobody`, who cannot write our temp dirs.
        directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
        self.process = subprocess.Popen(
            [self.binary, "-p", str(self.workdir), "-c", str(self.config), "-g", directives],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        _wait_port(self.rasa_listen, self.process)
        return self

    def reload(self) -> None:
        """SIGHUP to the master: new workers take over, old ones finish their requests."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGHUP)

    def stop(self) -> None:
        stop(self.process)
        self.process = None
