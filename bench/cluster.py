"""The production profile as processes on one machine: N Rasa servers and N action
servers behind nginx, PostgreSQL for the records and the trackers, Redis for the locks
and rate limits. Used by the scale-out tests (tests/scale) and `make bench-faults`.

PostgreSQL is the machine's server (throw-away databases); Redis and nginx are our
own processes on free ports. Every process is stopped by PID.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests

from bench.services import Nginx, RedisServer
from bench.stack import (
    BIN,
    LOGGING_CONFIG,
    MODEL,
    PROJECT_ROOT,
    RASA_SERVER,
    TOKEN,
    free_port,
    stop,
    wait_for,
)

PRODUCTION_ENDPOINTS = PROJECT_ROOT / "endpoints.production.yml"
# Rating and login posts per client address and minute, across the replicas.
FORM_LIMIT = 6
# Where each server says it is up: the Kubernetes probes use the same paths
# (deploy/kubernetes/, checked by tests/deploy/test_kubernetes.py). Rasa listens only
# once its model is loaded.
RASA_HEALTH = "/"
ACTIONS_HEALTH = "/health"
ACTIONS_WEBHOOK = "/webhook"


def profile_env(records_url: str, tracker_store_url: str, actions_url: str,
                redis_port: int) -> Dict[str, str]:
    """The production profile's variables as this test sets them (the Kubernetes
    ConfigMap and Secret must provide the same names)."""
    return {
        "DATABASE_URL": records_url,
        "TRACKER_STORE_URL": tracker_store_url,
        "ACTION_SERVER_URL": actions_url,
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(redis_port),
        "REDIS_DB": "0",
        "REDIS_KEY_PREFIX": "scale",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "STAFF_TOKEN_SECRET": "scale-test-token-secret-0123456789",
        # Every simulated customer comes from loopback: no message limits here. The
        # form limit is on, in Redis, shared by the replicas (test_rate_limits.py).
        "RATE_LIMIT_ADDRESS_PER_MINUTE": "0",
        "RATE_LIMIT_CONVERSATION_PER_MINUTE": "0",
        "RATE_LIMIT_FORM_PER_MINUTE": str(FORM_LIMIT),
        "RATE_LIMIT_STORE": "redis",
    }


class Cluster:
    """N Rasa servers and N action servers sharing PostgreSQL, Redis and nginx."""

    def __init__(self, workdir: Path, records_url: str, trackers_url: str,
                 size: int = 2) -> None:
        self.workdir = workdir
        self.rasa_ports = [free_port() for _ in range(size)]
        self.action_ports = [free_port() for _ in range(size)]
        self.redis = RedisServer(workdir)
        self.nginx = Nginx(workdir, self.rasa_ports, self.action_ports)
        # Rasa's tracker store speaks plain psycopg2 URLs.
        tracker_store_url = trackers_url.replace("postgresql+psycopg2://", "postgresql://")
        self.env = {
            **os.environ,
            **profile_env(records_url, tracker_store_url,
                          f"http://127.0.0.1:{self.nginx.actions_listen}{ACTIONS_WEBHOOK}",
                          self.redis.port),
            "PYTHONPATH": str(PROJECT_ROOT),
            "STAFF_ACCOUNTS_FILE": str(workdir / "staff_accounts.yml"),
        }
        self.processes: List[subprocess.Popen] = []
        self.rasa: List[Optional[subprocess.Popen]] = [None] * size
        self.actions: List[Optional[subprocess.Popen]] = [None] * size

    @property
    def url(self) -> str:
        """The load balancer, where customers and channels connect."""
        return f"http://127.0.0.1:{self.nginx.rasa_listen}"

    def _spawn(self, args: List[str], log_name: str) -> subprocess.Popen:
        log = open(self.workdir / log_name, "ab")
        process = subprocess.Popen(args, cwd=PROJECT_ROOT, env=self.env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def start(self) -> None:
        self.redis.start()
        self.nginx.start()
        subprocess.run([str(BIN / "python"), "-m", "shop.db.seed"], cwd=PROJECT_ROOT,
                       env=self.env, check=True, capture_output=True)
        for index in range(len(self.action_ports)):
            self.spawn_actions(index)
        # One Rasa server first: it creates the tracker tables the other then finds.
        self.start_rasa(0)
        for index in range(1, len(self.rasa_ports)):
            self.start_rasa(index)
        for index, port in enumerate(self.action_ports):
            wait_for(f"http://127.0.0.1:{port}{ACTIONS_HEALTH}", 120, self.actions[index])

    def spawn_actions(self, index: int) -> None:
        port = self.action_ports[index]
        self.actions[index] = self._spawn(
            [str(BIN / "rasa"), "run", "actions", "--port", str(port), "--actions", "actions",
             "--logging-config-file", str(LOGGING_CONFIG)], f"actions-{port}.log")

    def start_actions(self, index: int) -> None:
        self.spawn_actions(index)
        wait_for(f"http://127.0.0.1:{self.action_ports[index]}{ACTIONS_HEALTH}", 120,
                 self.actions[index])

    def kill_actions(self, index: int) -> None:
        """SIGKILL to one action server."""
        self._kill(self.actions[index])
        self.actions[index] = None

    def start_rasa(self, index: int) -> None:
        port = self.rasa_ports[index]
        self.rasa[index] = self._spawn(
            [*RASA_SERVER, "run", "--model", str(MODEL), "--port", str(port),
             "--credentials", "credentials.yml", "--endpoints", str(PRODUCTION_ENDPOINTS),
             "--enable-api", "--auth-token", TOKEN,
             "--logging-config-file", str(LOGGING_CONFIG)],
            f"rasa-{port}.log",
        )
        wait_for(f"http://127.0.0.1:{port}{RASA_HEALTH}", 240, self.rasa[index])

    def kill_rasa(self, index: int) -> None:
        """SIGKILL to one Rasa server's process group (a crash, not a shutdown)."""
        self._kill(self.rasa[index])
        self.rasa[index] = None

    @staticmethod
    def _kill(process: Optional[subprocess.Popen]) -> None:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)

    def stop(self) -> None:
        for process in self.processes:
            stop(process)
        self.nginx.stop()
        self.redis.stop()

    def say(self, sender: str, text: str, base: Optional[str] = None) -> List[Dict[str, Any]]:
        response = requests.post(f"{base or self.url}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": text}, timeout=120)
        assert response.status_code == 200, response.text
        return response.json()

    def tracker(self, sender: str) -> Dict[str, Any]:
        response = requests.get(f"{self.url}/conversations/{sender}/tracker",
                                params={"token": TOKEN}, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()

    def log(self, name: str) -> str:
        return (self.workdir / name).read_text(encoding="utf-8", errors="replace")
