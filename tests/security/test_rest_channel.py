"""REST is for server-to-server integrations: without the integration token a message
is refused, and no REST caller can write into a WeChat or WeCom conversation — where
the bot's answer would also be read back — against the real Rasa server."""

from __future__ import annotations

import requests

from bench.stack import Stack

WEBHOOK = "/webhooks/rest/webhook"


def send(stack: Stack, sender: str, headers: dict) -> requests.Response:
    return requests.post(f"{stack.url}{WEBHOOK}", json={"sender": sender, "message": "你好"},
                         headers=headers, timeout=60)


def test_rest_needs_the_integration_token(stack: Stack) -> None:
    assert stack.rest_headers  # the security stack runs REST as production does
    for headers in ({}, {"Authorization": "Bearer wrong-token"},
                    {"Authorization": stack.rest_headers["Authorization"][7:]}):
        refused = send(stack, "sec-rest-no-token", headers)
        assert refused.status_code == 401 and "令牌" in refused.json()["error"]
    assert send(stack, "sec-rest-token", stack.rest_headers).json()


def test_rest_cannot_address_another_channels_conversation(stack: Stack) -> None:
    for sender in ("wechat:o6_victim_openid", "WeCom:wkAbc:wmVictim", "wecom:x"):
        refused = send(stack, sender, stack.rest_headers)
        assert refused.status_code == 400 and "其他渠道" in refused.json()["error"], sender
