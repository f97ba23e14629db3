"""The processes of a real stack: Rasa server + action server on free ports.

Shared by the end-to-end tests and the benchmark. Each run gets its own ports,
its own SQLite records and tracker store under a working directory, and stops
exactly the processes it started (by PID).
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import requests

from shop.staff_auth import hash_password

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
# Masks phone numbers and secrets in both servers' logs (shop/privacy.py).
LOGGING_CONFIG = PROJECT_ROOT / "shop" / "logging.yml"
BIN = Path(sys.executable).parent
# The Rasa server as `make run` starts it: `rasa`, without TensorFlow (bot/serve.py).
RASA_SERVER = [str(BIN / "python"), "-m", "bot.serve"]
TOKEN = "e2e-test-token"
STAFF_USER = "小王"  # a manager: the reports and the audit log too
STAFF_PASSWORD = "e2e-staff-password"
AGENT_USER = "小李"  # an agent: tickets, practice and the review queue only
GUESSED_USER = "小张"  # an agent whose password the attack tests guess (and lock)
# The WeChat channels (tests/e2e/test_wechat.py): test credentials only, and the
# platform APIs on a local port of the stack (`platform_port`) where a test may
# serve a fake. The reply window is wide: the e2e tests want the passive reply
# whatever the load; the window itself is unit-tested.
WECHAT_TOKEN = "e2e-wechat-token"
WECHAT_APP_ID = "wxe2e0123456789abc"
WECHAT_AES_KEY = "e2eWeChatEncodingAesKey0123456789abcdefghij"


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


def chat_client(url: str) -> Tuple[Any, "queue.Queue[Any]"]:
    """A socket.io client connected to the web chat (polling, no reconnection) and the
    queue its `bot_uttered` messages arrive in."""
    import socketio

    replies: "queue.Queue[Any]" = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("bot_uttered", replies.put)
    client.connect(url, transports=["polling"], wait_timeout=10)
    return client, replies


def web_session(client: Any, session_id: Optional[str] = None, token: Optional[str] = None,
                timeout: float = 30.0) -> Tuple[str, str]:
    """Asks a connected socket.io client's server for a web chat session (as the widget
    does): the (session id, signature) it confirms — a new one unless `token` is the
    signature of `session_id`."""
    confirmed: "queue.Queue[Any]" = queue.Queue()
    client.on("session_confirm", confirmed.put)
    client.emit("session_request", {"session_id": session_id, "session_token": token})
    data = confirmed.get(timeout=timeout)
    return data["session_id"], data["session_token"]


class Stack:
    """The two servers of one test run, with helpers to talk to them."""

    def __init__(
        self,
        workdir: Path,
        extra_env: Optional[Dict[str, str]] = None,
        endpoints: Optional[Path] = None,
        credentials: Optional[Path] = None,
        debug: bool = False,
        logging_config: Optional[Path] = LOGGING_CONFIG,
    ) -> None:
        self.workdir = workdir
        # Both servers log at DEBUG (e.g. to check what reaches the logs), and read
        # `logging_config` (None: Rasa's default logging, no masking).
        self.log_args = (["--debug"] if debug else []) + (
            ["--logging-config-file", str(logging_config)] if logging_config else []
        )
        # The benchmark tries variants: other endpoints or channels, extra variables.
        self.endpoints = endpoints or PROJECT_ROOT / "endpoints.yml"
        self.credentials = credentials or PROJECT_ROOT / "credentials.yml"
        self.rasa_port = free_port()
        self.actions_port = free_port()
        self.platform_port = free_port()
        self.db_path = workdir / "shop.db"
        self.env = {
            **os.environ,
            "RASA_PORT": str(self.rasa_port),
            "ACTIONS_PORT": str(self.actions_port),
            "DATABASE_URL": f"sqlite:///{self.db_path}",
            "TRACKER_STORE_URL": f"sqlite:///{workdir / 'tracker.db'}",
            # Erasure rewrites reports and exports here, never in the checkout.
            "EXPORT_DIRS": str(workdir),
            "RASA_TELEMETRY_ENABLED": "false",
            # As scripts/run.sh has it: a secret of the environment, kept out of logs.
            "RASA_AUTH_TOKEN": TOKEN,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": str(PROJECT_ROOT),
            "STAFF_ACCOUNTS": f"{STAFF_USER}:{hash_password(STAFF_PASSWORD)};"
                              f"{AGENT_USER}:{hash_password(STAFF_PASSWORD)};"
                              f"{GUESSED_USER}:{hash_password(STAFF_PASSWORD)}",
            "STAFF_MANAGERS": STAFF_USER,
            "STAFF_ACCOUNTS_FILE": str(workdir / "staff_accounts.yml"),
            "STAFF_TOKEN_SECRET": "e2e-staff-token-secret",
            # Test clients speak from loopback without a client address: no rate limits
            # unless a suite asks for them (tests/security passes the defaults).
            "RATE_LIMIT_ADDRESS_PER_MINUTE": "0",
            "RATE_LIMIT_CONVERSATION_PER_MINUTE": "0",
            "RATE_LIMIT_FORM_PER_MINUTE": "0",
            "WECHAT_APP_ID": WECHAT_APP_ID,
            "WECHAT_APP_SECRET": "e2e-wechat-secret",
            "WECHAT_TOKEN": WECHAT_TOKEN,
            "WECHAT_ENCODING_AES_KEY": WECHAT_AES_KEY,
            "WECHAT_API_BASE": f"http://127.0.0.1:{self.platform_port}",
            "WECHAT_REPLY_WINDOW_SECONDS": "20",
            "WECHAT_API_BACKOFF_SECONDS": "0.1",
            **(extra_env or {}),
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
            [str(BIN / "python"), "-m", "shop.db.seed"], cwd=PROJECT_ROOT, env=self.env,
            check=True, capture_output=True,
        )

    def spawn_actions(self) -> subprocess.Popen:
        """Starts the action server without waiting for it."""
        self.actions = self._spawn(
            [str(BIN / "rasa"), "run", "actions", "--port", str(self.actions_port),
             "--actions", "actions", *self.log_args],
            "actions.log",
        )
        return self.actions

    def start_actions(self) -> None:
        self.spawn_actions()
        wait_for(f"http://127.0.0.1:{self.actions_port}/health", 90, self.actions)

    def stop_actions(self) -> None:
        stop(self.actions)
        self.actions = None

    def spawn_rasa(self) -> subprocess.Popen:
        """Starts the Rasa server without waiting for it."""
        self.rasa = self._spawn(
            [*RASA_SERVER, "run", "--model", str(MODEL), "--port", str(self.rasa_port),
             "--credentials", str(self.credentials), "--endpoints", str(self.endpoints),
             "--enable-api", "--auth-token", TOKEN, *self.log_args],
            "rasa.log",
        )
        return self.rasa

    def start_rasa(self) -> None:
        self.spawn_rasa()
        wait_for(f"{self.url}/status?token={TOKEN}", 180, self.rasa)

    def stop_rasa(self) -> None:
        stop(self.rasa)
        self.rasa = None

    @property
    def rest_headers(self) -> Dict[str, str]:
        """The REST integration token's header, when the stack has one (REST_TOKEN)."""
        token = self.env.get("REST_TOKEN", "")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def say(self, sender: str, message: Any) -> List[Dict[str, Any]]:
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            headers=self.rest_headers, timeout=60,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def texts(self, sender: str, message: Any) -> str:
        return "\n".join(m.get("text", "") for m in self.say(sender, message))

    def practice(self, trainee: str, scenario: Optional[str] = None) -> str:
        """The /practice payload with an invitation code a trainer made for `trainee`
        in the console (as a trainer would: logged in, POST …/invitations)."""
        api = f"{self.url}/webhooks/console/api"
        login = requests.post(f"{api}/login", timeout=30,
                              json={"username": STAFF_USER, "password": STAFF_PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        made = requests.post(f"{api}/practice/invitations", json={"trainee": trainee},
                             headers=headers, timeout=30)
        assert made.status_code == 200, made.text
        extra = f', "scenario": "{scenario}"' if scenario else ""
        return f'/practice{{"invitation": "{made.json()["code"]}"{extra}}}'


@contextmanager
def running_stack(workdir: Path, **options: Any) -> Iterator[Stack]:
    """A seeded stack, both servers up; stopped by PID whatever happens."""
    if not MODEL.exists():
        raise FileNotFoundError(f"{MODEL} is missing: run `make train` first")
    running = Stack(workdir, **options)
    try:
        running.seed()
        running.start_actions()
        running.start_rasa()
        yield running
    finally:
        stop(running.rasa)
        stop(running.actions)
