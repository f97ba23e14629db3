"""End to end: signed WeChat callbacks against the real Rasa server and model.

The stack runs with test WeChat credentials (bench/stack.py) and its platform API
pointed at a local fake (`stack.platform_port`), so staff replies sent through the
customer-service API can be checked.
"""

from __future__ import annotations

import uuid
from typing import Iterator

import pytest
import requests
from wechat.simulator import (
    NON_TEXT,
    FakeApi,
    OfficialAccountPlatform,
    event_xml,
    message_xml,
    new_msg_id,
    text_xml,
)

from bench.stack import WECHAT_AES_KEY, WECHAT_APP_ID, WECHAT_TOKEN
from e2e.conftest import STAFF_PASSWORD, STAFF_USER, Stack


def openid() -> str:
    return f"oE2E{uuid.uuid4().hex[:20]}"


@pytest.fixture(scope="module")
def platform(stack: Stack) -> OfficialAccountPlatform:
    return OfficialAccountPlatform(f"{stack.url}/webhooks/wechat/webhook", token=WECHAT_TOKEN,
                                   app_id=WECHAT_APP_ID, aes_key=WECHAT_AES_KEY)


@pytest.fixture(scope="module")
def wechat_api(stack: Stack) -> Iterator[FakeApi]:
    api = FakeApi(port=stack.platform_port).start()
    yield api
    api.stop()


def test_url_verification(platform: OfficialAccountPlatform) -> None:
    assert platform.verify("e2e-echo").text == "e2e-echo"
    assert platform.verify(token="wrong").status_code == 403


def test_a_plaintext_callback_is_refused_in_safe_mode(
    platform: OfficialAccountPlatform,
) -> None:
    """The stack's account has an EncodingAESKey: plaintext is not the request's call."""
    me = openid()
    assert platform.post_plain(text_xml(me, "小米14多少钱"), me, timeout=60).status_code == 403


def test_a_message_gets_a_real_answer_as_passive_xml(
    platform: OfficialAccountPlatform,
) -> None:
    me = openid()
    reply = platform.post_safe(text_xml(me, "小米14多少钱"), me, timeout=60)
    assert reply.status_code == 200, reply.text
    fields = platform.open_reply(reply.text)
    assert fields["ToUserName"] == me and fields["MsgType"] == "text"
    assert "3,999" in fields["Content"]


def test_safe_mode_message_gets_an_encrypted_real_answer(
    platform: OfficialAccountPlatform,
) -> None:
    me = openid()
    reply = platform.post_safe(text_xml(me, "你好"), me, timeout=60)
    assert reply.status_code == 200 and "<Encrypt>" in reply.text
    assert "客服" in platform.open_reply(reply.text)["Content"]


def test_new_follower_is_greeted_and_pictures_get_the_text_only_notice(
    platform: OfficialAccountPlatform,
) -> None:
    me = openid()
    greeting = platform.post_safe(event_xml(me, "subscribe"), me, timeout=60)
    assert "客服" in platform.open_reply(greeting.text)["Content"]
    picture = message_xml(me, "image", dict(NON_TEXT["image"], MsgId=new_msg_id()))
    notice = platform.open_reply(platform.post_safe(picture, me, timeout=60).text)["Content"]
    assert "只支持文字消息" in notice  # utter_text_only, from the trained domain


def test_console_reply_reaches_the_wechat_customer(
    stack: Stack, platform: OfficialAccountPlatform, wechat_api: FakeApi
) -> None:
    me = openid()
    handoff = platform.post_safe(text_xml(me, "转人工"), me, timeout=60)
    assert "工单" in platform.open_reply(handoff.text)["Content"]

    api = f"{stack.url}/webhooks/console/api"
    token = requests.post(f"{api}/login", json={"username": STAFF_USER,
                                                 "password": STAFF_PASSWORD},
                          timeout=30).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    queue = requests.get(f"{api}/queue", headers=headers, timeout=30).json()["tickets"]
    [ticket] = [t for t in queue if t["conversation_id"] == f"wechat:{me}"]
    reply = requests.post(f"{api}/tickets/{ticket['id']}/reply", headers=headers,
                          json={"text": "您好，我是人工客服，请问需要什么帮助？"}, timeout=30)
    assert reply.status_code == 200, reply.text

    def delivered() -> list:
        return [b["text"]["content"] for b in wechat_api.sent("/cgi-bin/message/custom/send")
                if b["touser"] == me]

    assert wechat_api.wait_for(lambda: len(delivered()) == 2, timeout=30)
    assert delivered() == [f"人工客服 {STAFF_USER} 已接入",
                           "您好，我是人工客服，请问需要什么帮助？"]
