"""Privacy end to end: one customer never sees another's data, and neither server's
log holds a raw phone number or a secret — even at DEBUG, where Rasa logs every
message, slot and tracker.

Its own stack (module scope) with both servers at --debug and shop/logging.yml, so
the logs hold exactly this module's traffic.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Dict, Iterator

import pytest
import requests

from e2e.conftest import STAFF_PASSWORD, STAFF_USER, TOKEN, Stack, running_stack

PHONE = "13800138001"  # C001 王丽, the owner of order DD202611200001
OTHER_PHONE = "15912345678"
STAFF_TOKEN_SECRET = "e2e-staff-token-secret"  # bench/stack.py's test value


@pytest.fixture(scope="module")
def debug_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("privacy"), debug=True) as running:
        assert STAFF_TOKEN_SECRET == running.env["STAFF_TOKEN_SECRET"]
        yield running


@pytest.fixture(scope="module")
def traffic(debug_stack: Stack) -> Dict[str, str]:
    """Customer B verifies an order and leaves numbers; A tries B's order; staff work."""
    stack = debug_stack
    # Some integrations use the customer's phone as the conversation id: A's does,
    # and the action server logs A's failed verifications under it.
    b, a = f"e2e-b-{uuid.uuid4().hex[:8]}", f"tel-{OTHER_PHONE}"
    seen = {"b": b, "a": a}
    stack.texts(b, "查订单")
    stack.texts(b, "DD202611200001")
    seen["b_verified"] = stack.texts(b, "8001")
    seen["b_numbers"] = stack.texts(b, f"我的手机号是{PHONE}，备用号码 {OTHER_PHONE[:3]} "
                                       f"{OTHER_PHONE[3:7]} {OTHER_PHONE[7:]}，请回电")
    # A knows B's order number, not B's phone (with it, the check passes: by design).
    seen["a_start"] = stack.texts(a, "查订单")
    seen["a_order"] = stack.texts(a, "DD202611200001")
    seen["a_wrong"] = stack.texts(a, "1234")
    # ... and tries again with a whole (wrong) number and B's order in one message.
    seen["a_again"] = stack.texts(a, f"我的手机{OTHER_PHONE}，订单DD202611200001到哪了")
    # A customer pasting secrets into the chat (they must not reach a log either).
    stack.texts(a, f"token={TOKEN} password={STAFF_PASSWORD} {STAFF_TOKEN_SECRET}")
    # Staff and the HTTP API: the token in the query, the password in a body.
    login = requests.post(f"{stack.url}/webhooks/console/api/login",
                          json={"username": STAFF_USER, "password": STAFF_PASSWORD}, timeout=30)
    seen["staff_token"] = login.json()["token"]
    requests.get(f"{stack.url}/webhooks/console/api/queue",
                 headers={"Authorization": f"Bearer {seen['staff_token']}"}, timeout=30)
    requests.get(f"{stack.url}/conversations/{b}/tracker", params={"token": TOKEN}, timeout=30)
    requests.post(f"{stack.url}/model/parse", params={"token": TOKEN},
                  json={"text": f"电话{PHONE}"}, timeout=30)
    return seen


def test_another_customers_conversation_needs_the_token(debug_stack: Stack,
                                                        traffic: Dict[str, str]) -> None:
    b = traffic["b"]
    for token in (None, "", "wrong-token", TOKEN.upper()):
        params = {"token": token} if token is not None else None
        for method, path in (("GET", "tracker"), ("GET", "story"), ("POST", "predict"),
                             ("POST", "messages"), ("POST", "execute")):
            reply = requests.request(method, f"{debug_stack.url}/conversations/{b}/{path}",
                                     params=params, json={"text": "x", "sender": "user",
                                                          "name": "utter_greet"}, timeout=30)
            assert reply.status_code in (401, 403), (method, path, token, reply.status_code)
            assert "8001" not in reply.text and "DD202611200001" not in reply.text


def test_a_customer_never_sees_another_customers_data(traffic: Dict[str, str]) -> None:
    assert "运输中" in traffic["b_verified"]  # B, verified, gets the status
    assert "不一致" in traffic["a_wrong"]
    for key in ("a_start", "a_order", "a_wrong", "a_again"):
        reply = traffic[key]
        assert "运输中" not in reply and "顺丰" not in reply, (key, reply)
        assert "王丽" not in reply and PHONE not in reply and "8001" not in reply, (key, reply)


def test_logs_hold_no_phone_number_and_no_secret(debug_stack: Stack,
                                                 traffic: Dict[str, str]) -> None:
    rasa_log = (debug_stack.workdir / "rasa.log").read_text(encoding="utf-8", errors="replace")
    actions_log = (debug_stack.workdir / "actions.log").read_text(encoding="utf-8",
                                                                 errors="replace")
    # The messages and ids were logged (DEBUG), masked — by both servers.
    assert "138****8001" in rasa_log and "159****5678" in rasa_log
    assert "tel-159****5678" in actions_log
    for name, log in (("rasa.log", rasa_log), ("actions.log", actions_log)):
        for secret in (PHONE, OTHER_PHONE, f"{OTHER_PHONE[:3]} {OTHER_PHONE[3:7]}", TOKEN,
                       STAFF_PASSWORD, STAFF_TOKEN_SECRET, traffic["staff_token"]):
            assert secret not in log, f"{secret!r} in {name}"


def test_an_erased_customer_appears_nowhere_in_the_databases(debug_stack: Stack,
                                                             traffic: Dict[str, str]) -> None:
    """PIPL deletion from the console, with both servers running: afterwards the phone
    number and the name are in no row and no byte of either database (last in this
    module: it erases the customer the other tests talk about)."""
    stack = debug_stack
    assert "TK" in stack.texts(traffic["b"], "转人工")  # a ticket naming the customer
    headers = {"Authorization": f"Bearer {traffic['staff_token']}"}
    files = [stack.db_path, stack.workdir / "tracker.db"]
    assert any(PHONE.encode() in database.read_bytes() for database in files)
    reply = requests.post(f"{stack.url}/webhooks/console/api/customers/C001/erase",
                          json={"confirm": "C001"}, headers=headers, timeout=60)
    assert reply.status_code == 200, reply.text
    assert reply.json()["conversations"] >= 2  # B's, and A's attempts on B's order
    for database in files:
        with sqlite3.connect(database) as connection:
            dump = "\n".join(connection.iterdump())
        raw = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
        for identifier in (PHONE, "王丽", json.dumps("王丽")[1:-1]):
            assert identifier not in dump, (database.name, identifier)
            assert identifier.encode() not in raw, (database.name, identifier)
    # The assistant still answers; the queue no longer names the customer.
    assert stack.texts(f"e2e-after-{uuid.uuid4().hex[:6]}", "你好").strip()
    queue = requests.get(f"{stack.url}/webhooks/console/api/queue", headers=headers, timeout=30)
    assert queue.status_code == 200 and "王丽" not in queue.text
