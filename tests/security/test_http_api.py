"""Rasa's HTTP API as production exposes it (bot/serve.py api_args): a Rasa server of
its own started with the production arguments refuses the query-string token and
takes only a signed JWT in the Authorization header; other origins get no CORS."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Iterator

import jwt
import pytest
import requests

from bench.stack import MODEL, PROJECT_ROOT, RASA_SERVER, free_port, stop, wait_for
from bot.serve import api_args

SECRET = "production-jwt-secret-" + "x" * 20
ORIGIN = "https://shop.example.com"


@pytest.fixture(scope="module")
def production_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    workdir: Path = tmp_path_factory.mktemp("production-api")
    env = {**os.environ, "APP_ENV": "production", "RASA_JWT_SECRET": SECRET,
           "CORS_ORIGINS": ORIGIN, "RASA_TELEMETRY_ENABLED": "false",
           "PYTHONPATH": str(PROJECT_ROOT)}
    log = open(workdir / "rasa.log", "ab")
    process = subprocess.Popen(
        [*RASA_SERVER, "run", "--model", str(MODEL), "--port", str(port),
         *api_args(env)],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/", 120, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


def admin_token(secret: str = SECRET) -> str:
    now = int(time.time())
    return jwt.encode({"user": {"username": "ops", "role": "admin"}, "iat": now,
                       "exp": now + 300}, secret, algorithm="HS256")


def test_production_api_takes_its_token_only_in_a_header(production_api: str) -> None:
    status = f"{production_api}/status"
    assert requests.get(status, timeout=30).status_code == 401
    # A token in the URL (it would end up in proxy logs and browser history) is refused.
    assert requests.get(status, params={"token": SECRET}, timeout=30).status_code == 401
    forged = {"Authorization": f"Bearer {admin_token('another-secret-' + 'y' * 30)}"}
    assert requests.get(status, headers=forged, timeout=30).status_code == 401
    good = requests.get(status, headers={"Authorization": f"Bearer {admin_token()}"},
                        timeout=30)
    assert good.status_code == 200 and "model_file" in good.json()


def test_production_api_allows_only_configured_origins(production_api: str) -> None:
    url = f"{production_api}/status"
    headers = {"Authorization": f"Bearer {admin_token()}"}
    shop = requests.get(url, headers={**headers, "Origin": ORIGIN}, timeout=30)
    assert shop.headers.get("Access-Control-Allow-Origin") == ORIGIN
    evil = requests.get(url, headers={**headers, "Origin": "https://evil.example"}, timeout=30)
    assert evil.headers.get("Access-Control-Allow-Origin") in (None, "")
