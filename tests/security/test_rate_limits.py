"""Flooding the assistant from one client, against the real Rasa server with the
shipped limits (tests/security/conftest.py): the flood is refused politely, other
customers and other conversations carry on."""

from __future__ import annotations

import time
import uuid

import requests

from bench.stack import Stack, chat_client, web_session

SLOW = "太快"


def post(stack: Stack, sender: str, client: str) -> requests.Response:
    return requests.post(f"{stack.url}/webhooks/rest/webhook", timeout=60,
                         json={"sender": sender, "message": "你好"},
                         headers={"X-Forwarded-For": client, **stack.rest_headers})


def test_one_conversation_cannot_flood(stack: Stack) -> None:
    me = f"sec-flood-{uuid.uuid4().hex[:8]}"
    answers = [post(stack, me, "192.0.2.10").status_code for _ in range(31)]
    assert answers[:30] == [200] * 30 and answers[30] == 429
    refused = post(stack, me, "192.0.2.10")
    assert refused.status_code == 429 and SLOW in refused.json()["error"]
    assert 0 < int(refused.headers["Retry-After"]) <= 61
    # Another conversation from the same address is still answered.
    assert post(stack, f"{me}-2", "192.0.2.10").status_code == 200


def test_one_address_cannot_flood_with_new_conversations(stack: Stack) -> None:
    codes = [post(stack, f"sec-many-{n}-{uuid.uuid4().hex[:6]}", "192.0.2.11").status_code
             for n in range(121)]
    assert codes[:120] == [200] * 120 and codes[120] == 429
    assert post(stack, f"sec-other-{uuid.uuid4().hex[:6]}", "192.0.2.12").status_code == 200


def test_ratings_and_logins_are_limited_per_address(stack: Stack) -> None:
    for path, body in (("/webhooks/chat/rating",
                        {"session_id": "sec-rating-0001", "expected": 3, "perceived": 4}),
                       ("/webhooks/console/api/login", {"username": "x", "password": "y"})):
        # Logins under a new name each time: the failure lockout (5 per account) is not
        # what is tested here.
        codes = [requests.post(f"{stack.url}{path}", timeout=30,
                               json={**body, "username": f"x{n}"} if "username" in body
                               else body,
                               headers={"X-Forwarded-For": "192.0.2.13"}).status_code
                 for n in range(11)]
        assert 429 not in codes[:10] and codes[10] == 429, (path, codes)


def test_a_socket_flood_gets_a_polite_refusal(stack: Stack) -> None:

    client, replies = chat_client(stack.url)
    try:
        session, _ = web_session(client)
        for _ in range(31):
            client.emit("user_uttered", {"message": "你好", "session_id": session})
            # One packet per poll: engine.io refuses a payload of more than 16 packets.
            time.sleep(0.1)
        texts = []
        while len(texts) < 31:
            texts.append(replies.get(timeout=60).get("text", ""))
        assert sum(SLOW in text for text in texts) >= 1
        assert sum(SLOW not in text for text in texts) >= 30  # the first 30 answered
    finally:
        client.disconnect()
