"""Oversized request bodies are refused before anything parses them."""

from __future__ import annotations

import json
import uuid

import requests

from bench.stack import TOKEN, Stack

TOO_LARGE = {"error": "请求内容过大，请缩短后再发送"}


def post(stack: Stack, path: str, size: int) -> requests.Response:
    body = json.dumps({"sender": f"sec-{uuid.uuid4().hex[:8]}", "message": "长" * size},
                      ensure_ascii=False).encode("utf-8")
    return requests.post(f"{stack.url}{path}", data=body, timeout=60,
                         headers={"Content-Type": "application/json", **stack.rest_headers})


def test_a_body_over_64_kb_gets_413_in_chinese(stack: Stack) -> None:
    response = post(stack, "/webhooks/rest/webhook", 30_000)  # ~90 KB of UTF-8
    assert response.status_code == 413 and response.json() == TOO_LARGE
    response = post(stack, f"/model/parse?token={TOKEN}", 30_000)
    assert response.status_code == 413 and response.json() == TOO_LARGE
    # The server is still there for everyone else.
    assert requests.get(f"{stack.url}/webhooks/rest/", timeout=30).status_code == 200


def test_a_body_over_sanics_own_limit_is_refused_too(stack: Stack) -> None:
    response = post(stack, "/webhooks/rest/webhook", 400_000)  # ~1.2 MB
    assert response.status_code == 413


def test_a_long_message_under_the_limit_is_answered(stack: Stack) -> None:
    response = post(stack, "/webhooks/rest/webhook", 20_000)  # ~60 KB
    assert response.status_code == 200 and response.json()
