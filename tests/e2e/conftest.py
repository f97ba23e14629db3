"""A real stack for end-to-end tests: Rasa server + action server on free ports.

Each run gets its own ports, its own SQLite records and tracker store under a
temporary directory, and stops exactly the processes it started (by PID).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests

from bot.staff_auth import hash_password

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
BIN = Path(sys.executable).parent
TOKEN = "e2e-test-token"
STAFF_USER = "小王"
STAFF_PASSWORD = "e2e-staff-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, timeout: float = 120.0, process: Optional[subprocess.Popen] = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not come up in {timeout:.0f} s")


def stop(process: Optional[subprocess.Popen]) -> None:
    """Stops a process we started, and its children, by PID."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class Stack:
    """The two servers of one test run, with helpers to talk to them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.rasa_port = free_port()
        self.actions_port = free_port()
        self.db_path = workdir / "shop.db"
        self.env = {
            **os.environ,
            "RASA_PORT": str(self.rasa_port),
            "ACTIONS_PORT": str(self.actions_port),
            "DATABASE_URL": f"sqlite:///{self.db_path}",
            "TRACKER_STORE_URL": f"sqlite:///{workdir / 'tracker.db'}",
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": str(PROJECT_ROOT),
            "STAFF_ACCOUNTS": f"{STAFF_USER}:{hash_password(STAFF_PASSWORD)}",
            "STAFF_ACCOUNTS_FILE": str(workdir / "staff_accounts.yml"),
            "STAFF_TOKEN_SECRET": "e2e-staff-token-secret",
        }
        self.rasa: Optional[subprocess.Popen] = None
        self.actions: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def _spawn(self, args: List[str], log_name: str) -> subprocess.Popen:
        log = open(self.workdir / log_name, "ab")
        return subprocess.Popen(
            args, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def seed(self) -> None:
        subprocess.run(
            [str(BIN / "python"), "-m", "actions.db.seed"], cwd=PROJECT_ROOT, env=self.env,
            check=True, capture_output=True,
        )

    def start_actions(self) -> None:
        self.actions = self._spawn(
            [str(BIN / "rasa"), "run", "actions", "--port", str(self.actions_port),
             "--actions", "actions"],
            "actions.log",
        )
        wait_for(f"http://127.0.0.1:{self.actions_port}/health", 90, self.actions)

    def stop_actions(self) -> None:
        stop(self.actions)
        self.actions = None

    def start_rasa(self) -> None:
        self.rasa = self._spawn(
            [str(BIN / "rasa"), "run", "--model", str(MODEL), "--port", str(self.rasa_port),
             "--credentials", "credentials.yml", "--endpoints", "endpoints.yml",
             "--enable-api", "--auth-token", TOKEN],
            "rasa.log",
        )
        wait_for(f"{self.url}/status?token={TOKEN}", 180, self.rasa)

    def say(self, sender: str, message: Any) -> List[Dict[str, Any]]:
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def texts(self, sender: str, message: Any) -> str:
        return "\n".join(m.get("text", "") for m in self.say(sender, message))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    running = Stack(tmp_path_factory.mktemp("stack"))
    try:
        running.seed()
        running.start_actions()
        running.start_rasa()
        yield running
    finally:
        stop(running.rasa)
        stop(running.actions)
