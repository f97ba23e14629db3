"""Order enumeration through the REST channel, as an attacker would try it.

Each guess comes from a new conversation (a fresh sender id), which reset the old
per-conversation counter; the limits now live in the shared database, per order
number and per client address. The client address is the connection's; the stack
runs behind no proxy, so the tests speak for different clients the way our nginx
does, with X-Forwarded-For from a loopback peer (bot/channels/client.py).
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Dict, List

import requests

from bench.stack import TOKEN, Stack

OWNED = "DD202611200001"       # customer C001, phone …8001 (seed data)
OTHER = "DD202611180002"
UNKNOWN = "DD209901019999"     # well-formed, no such order
LOCKED_REPLY = "暂停自助查询"


def sender() -> str:
    return f"sec-{uuid.uuid4().hex[:10]}"


def say(stack: Stack, me: str, text: str, client: str, metadata: Dict = None) -> str:
    body = {"sender": me, "message": text}
    if metadata is not None:
        body["metadata"] = metadata
    response = requests.post(f"{stack.url}/webhooks/rest/webhook", json=body, timeout=60,
                             headers={"X-Forwarded-For": client, **stack.rest_headers})
    assert response.status_code == 200, response.text
    return "\n".join(m.get("text", "") for m in response.json())


def guess(stack: Stack, order_no: str, digits: str, client: str) -> List[str]:
    """One attempt in a brand-new conversation: what the bot said after each step."""
    me = sender()
    return [say(stack, me, text, client) for text in ("查订单", order_no, digits)]


def failures(stack: Stack) -> int:
    with sqlite3.connect(stack.db_path) as connection:
        return connection.execute("SELECT COUNT(*) FROM verification_failures").fetchone()[0]


def test_an_unknown_order_and_wrong_digits_look_the_same(stack: Stack) -> None:
    unknown = guess(stack, UNKNOWN, "1234", "198.51.100.1")
    wrong = guess(stack, OTHER, "1234", "198.51.100.2")
    # Both numbers are taken and the digits asked for; both fail with the same words.
    assert "后四位" in unknown[1] and unknown[1] == wrong[1]
    assert "不一致" in unknown[2] and unknown[2] == wrong[2]
    assert "没有查到" not in "".join(unknown)


def test_new_conversations_do_not_reset_the_count_of_one_order(stack: Stack) -> None:
    before = failures(stack)
    for n in range(10):
        replies = guess(stack, OWNED, f"{n:04d}", f"203.0.113.{n + 1}")
        assert "运输中" not in replies[2] and "顺丰" not in replies[2]
    assert failures(stack) == before + 10
    # The owner, from yet another address and conversation, with the right digits:
    # self-service is locked for this order and a human takes over.
    replies = guess(stack, OWNED, "8001", "192.0.2.44")
    assert LOCKED_REPLY in replies[2] and "顺丰" not in replies[2]
    assert "人工" in replies[2]
    with sqlite3.connect(stack.db_path) as connection:
        summaries = [row[0] for row in connection.execute(
            "SELECT summary FROM tickets WHERE kind = 'handoff'")]
    assert any(f"订单{OWNED}的自助查询已锁定" in s for s in summaries)


def test_one_client_guessing_many_orders_is_stopped(stack: Stack) -> None:
    client = "198.51.100.77"
    for n in range(20):
        guess(stack, f"DD20261101{n:04d}", "0000", client)
    # Now even a real order with the right digits is refused for this address…
    replies = guess(stack, OTHER, phone_last4_of(stack, OTHER), client)
    assert LOCKED_REPLY in replies[2]
    # …while another customer is not affected.
    replies = guess(stack, OTHER, "0000", "198.51.100.78")
    assert LOCKED_REPLY not in replies[2]


def test_a_client_cannot_choose_its_own_address(stack: Stack) -> None:
    """A `client` in the message metadata is overwritten with the connection's."""
    me = sender()
    say(stack, me, "你好", "198.51.100.90", metadata={"client": "10.9.9.9"})
    tracker = requests.get(f"{stack.url}/conversations/{me}/tracker",
                           params={"token": TOKEN}, timeout=30).json()
    [event] = [e for e in tracker["events"] if e.get("event") == "user"]
    assert event["metadata"]["client"] == "198.51.100.90"


def test_a_verification_ends_with_the_request(stack: Stack) -> None:
    """The identity proved for one order does not outlive the form."""
    me = sender()
    client = "198.51.100.120"
    for text in ("帮我查下订单", OTHER):
        say(stack, me, text, client)
    assert OTHER in say(stack, me, phone_last4_of(stack, OTHER), client)
    tracker = requests.get(f"{stack.url}/conversations/{me}/tracker",
                           params={"token": TOKEN}, timeout=30).json()
    assert tracker["slots"].get("verified_order") is None
    assert tracker["slots"].get("phone_last4") is None
    # No customer identity is left behind for later turns or sessions.
    assert tracker["slots"].get("customer_id") is None


def phone_last4_of(stack: Stack, order_no: str) -> str:
    with sqlite3.connect(stack.db_path) as connection:
        phone = connection.execute(
            "SELECT c.phone FROM orders o JOIN customers c ON c.id = o.customer_id "
            "WHERE o.order_no = ?", (order_no,)).fetchone()[0]
    return str(phone)[-4:]
