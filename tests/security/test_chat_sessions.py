"""Attack: taking over a web chat conversation by its id.

Before, the browser picked its session id and the server joined any id a client
named: whoever learnt an id (a log line, an alert, a screenshot, `csWidget.sessionId`)
could read the bot's and staff's replies to that customer and write into the
conversation. Now the server issues the id with a signature only that browser holds.
"""

from __future__ import annotations

import time
from typing import Any, Iterator, List

import pytest
import requests

from bench.stack import TOKEN, Stack, chat_client, web_session


class Browser:
    """A socket.io client as the widget uses it, collecting what the server sends."""

    def __init__(self, stack: Stack) -> None:
        self.client, self.replies = chat_client(stack.url)

    def say(self, session_id: str, text: str) -> str:
        """Every bubble of the answer (the first, then whatever follows within 1.5 s)."""
        self.client.emit("user_uttered", {"message": text, "session_id": session_id})
        first = self.replies.get(timeout=60)
        return "\n".join(r.get("text") or "" for r in [first, *self.heard(1.5)])

    def heard(self, seconds: float) -> List[Any]:
        time.sleep(seconds)
        found = []
        while not self.replies.empty():
            found.append(self.replies.get_nowait())
        return found


@pytest.fixture
def victim(stack: Stack) -> Iterator[Browser]:
    browser = Browser(stack)
    yield browser
    browser.client.disconnect()


@pytest.fixture
def attacker(stack: Stack) -> Iterator[Browser]:
    browser = Browser(stack)
    yield browser
    browser.client.disconnect()


def user_texts(stack: Stack, session_id: str) -> List[str]:
    tracker = requests.get(f"{stack.url}/conversations/{session_id}/tracker",
                           params={"token": TOKEN}, timeout=30).json()
    return [e.get("text") for e in tracker.get("events", []) if e.get("event") == "user"]


def test_a_known_session_id_does_not_open_the_conversation(stack: Stack, victim: Browser,
                                                           attacker: Browser) -> None:
    session_id, token = web_session(victim.client)
    assert "2,999" in victim.say(session_id, "风尊空调多少钱")

    # The attacker names the victim's id: the server issues the attacker a new session.
    stolen, _ = web_session(attacker.client, session_id)
    assert stolen != session_id
    forged, _ = web_session(attacker.client, session_id, "0" * 64)
    assert forged != session_id
    # Writing into the victim's conversation is refused, politely.
    assert "会话已失效" in attacker.say(session_id, "我的订单改地址到北京")
    # The victim's next answers reach the victim only.
    assert victim.say(session_id, "小米14多少钱")
    assert attacker.heard(1.5) == []
    assert user_texts(stack, session_id) == ["风尊空调多少钱", "小米14多少钱"]


def test_the_browser_holding_the_signature_continues_its_conversation(
        stack: Stack, victim: Browser) -> None:
    session_id, token = web_session(victim.client)
    assert victim.say(session_id, "你好")
    victim.client.disconnect()
    # A reload: a new connection shows the stored id and signature.
    again = Browser(stack)
    try:
        assert web_session(again.client, session_id, token) == (session_id, token)
        assert "3,999" in again.say(session_id, "小米14多少钱")
    finally:
        again.client.disconnect()
    assert user_texts(stack, session_id) == ["你好", "小米14多少钱"]


def test_only_the_owner_rates_a_conversation(stack: Stack, victim: Browser) -> None:
    session_id, token = web_session(victim.client)
    assert victim.say(session_id, "你好")
    url = f"{stack.url}/webhooks/chat/rating"
    # A different address each time: the per-address form limit is not under test.
    forged = requests.post(url, json={"session_id": session_id, "expected": 5, "perceived": 1},
                           headers={"X-Forwarded-For": "192.0.2.31"}, timeout=30)
    assert forged.status_code == 403 and "本人" in forged.json()["error"]
    mine = requests.post(url, json={"session_id": session_id, "session_token": token,
                                    "expected": 4, "perceived": 5},
                         headers={"X-Forwarded-For": "192.0.2.32"}, timeout=30)
    assert mine.status_code == 200, mine.text
