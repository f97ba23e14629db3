"""An unexpected failure inside our own routes: a polite Chinese JSON answer, never a
trace — the web chat's routes through the app-wide handler (bot/channels/errors.py),
the staff console's API through its own guard (503)."""

from __future__ import annotations

import dataclasses
import os
from typing import Dict, Iterator

import pytest
import requests

from bot.channels.errors import UNEXPECTED
from e2e.conftest import STAFF_PASSWORD, STAFF_USER, Stack
from shop.config import settings
from shop.staff_auth import chart_token


@pytest.fixture
def records_gone(stack: Stack) -> Iterator[None]:
    """The records database vanishes (every query fails), then comes back."""
    backup = stack.db_path.with_suffix(".errors.bak")
    os.replace(stack.db_path, backup)
    try:
        yield
    finally:
        stack.db_path.unlink(missing_ok=True)  # SQLite may have made an empty one
        os.replace(backup, stack.db_path)


def assert_polite(reply: requests.Response, status: int) -> None:
    assert reply.status_code == status, reply.text[:300]
    assert reply.headers["Content-Type"].startswith("application/json")
    body = reply.json()
    assert set(body) == {"error"} and "稍后" in body["error"]
    assert "Traceback" not in reply.text and "sqlite" not in reply.text.lower()


# The stack's test secret is short; production secrets are generated long.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_web_chat_route_failure_is_a_polite_json_error(stack: Stack,
                                                        records_gone: None) -> None:
    # A valid chart link (signed with the stack's secret): the route gets as far as
    # the records, which fail — an exception no handler in the route expects.
    config = dataclasses.replace(settings, staff_token_secret=stack.env["STAFF_TOKEN_SECRET"])
    link = chart_token("e2e学员", config=config)
    reply = requests.get(f"{stack.url}/webhooks/chat/practice/chart.png", params={"t": link},
                         timeout=30)
    assert_polite(reply, 500)
    assert reply.json()["error"] == UNEXPECTED


@pytest.fixture
def staff_headers(stack: Stack) -> Dict[str, str]:
    login = requests.post(f"{stack.url}/webhooks/console/api/login",
                          json={"username": STAFF_USER, "password": STAFF_PASSWORD}, timeout=30)
    return {"Authorization": f"Bearer {login.json()['token']}"}


def test_staff_console_failure_is_a_polite_json_error(
    stack: Stack, staff_headers: Dict[str, str], records_gone: None
) -> None:
    api = f"{stack.url}/webhooks/console/api"
    for path in ("queue", "tickets/1", "practice", "reports"):
        assert_polite(requests.get(f"{api}/{path}", headers=staff_headers, timeout=60), 503)
    assert_polite(requests.post(f"{api}/tickets/1/note", json={"text": "备注"},
                                headers=staff_headers, timeout=30), 503)


def test_unknown_pages_and_bad_methods_stay_client_errors(stack: Stack) -> None:
    for method, path in (("GET", "/webhooks/chat/static/../../../etc/passwd"),
                         ("GET", "/webhooks/chat/static/" + "x" * 5000),
                         ("DELETE", "/webhooks/rest/webhook"),
                         ("GET", "/webhooks/console/api/nothing-here")):
        reply = requests.request(method, f"{stack.url}{path}", timeout=30)
        assert 400 <= reply.status_code < 500, (path, reply.status_code)
        assert "Traceback" not in reply.text and "root:" not in reply.text
