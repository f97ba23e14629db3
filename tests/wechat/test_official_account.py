"""The Official Account channel against the simulated WeChat platform."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any, Dict, List
from urllib.parse import urlencode

import pytest
import requests

from bot.channels.wechat.messages import MAX_TEXT_BYTES, parse_xml
from wechat.simulator import (
    ACCOUNT,
    NON_TEXT,
    Assistant,
    event_xml,
    message_xml,
    new_msg_id,
    text_xml,
)

SEND = "/cgi-bin/message/custom/send"
OPENID = "oUserSimulated0001"
# Plaintext mode is an account without an EncodingAESKey (the fixture's default);
# safe mode is one with it, and then plaintext callbacks are refused.
PLAIN = {"encoding_aes_key": ""}


def domain_agent(domain: Dict[str, Any]) -> Any:
    """Just enough of a Rasa agent for the channel: the real domain's responses."""
    return SimpleNamespace(domain=SimpleNamespace(responses=domain["responses"]))


# ================================================================ verification


def test_url_verification_echoes_echostr(official_account):
    oa = official_account()
    reply = oa.platform.verify("5927782489442352469")
    assert reply.status_code == 200 and reply.text == "5927782489442352469"


def test_url_verification_with_a_bad_signature_is_forbidden(official_account):
    oa = official_account()
    assert oa.platform.verify(token="not-our-token").status_code == 403


def test_url_verification_works_without_an_aes_key(official_account):
    oa = official_account(encoding_aes_key="")
    assert oa.platform.verify("abc").text == "abc"


def test_unconfigured_channel_answers_503(official_account):
    oa = official_account(token="")
    assert oa.platform.verify().status_code == 503


# ================================================================ round trips


def test_plain_text_gets_a_passive_reply(official_account):
    oa = official_account(**PLAIN)
    reply = oa.platform.post_plain(text_xml(OPENID, "小米14多少钱"), OPENID)
    assert reply.status_code == 200
    fields = parse_xml(reply.text)
    assert fields["ToUserName"] == OPENID and fields["FromUserName"] == ACCOUNT
    assert fields["MsgType"] == "text" and fields["Content"] == "收到：小米14多少钱"
    [message] = oa.assistant.seen
    assert message.sender_id == f"wechat:{OPENID}" and message.input_channel == "wechat"


def test_safe_mode_round_trip_is_encrypted_both_ways(official_account):
    oa = official_account()
    reply = oa.platform.post_safe(text_xml(OPENID, "查订单"), OPENID)
    assert reply.status_code == 200
    assert "查订单" not in reply.text and "<Encrypt>" in reply.text
    fields = oa.platform.open_reply(reply.text)
    assert fields["ToUserName"] == OPENID and fields["Content"] == "收到：查订单"


def test_conversation_id_is_stable_per_user(official_account):
    oa = official_account()
    for text in ("你好", "查订单"):
        oa.platform.post_safe(text_xml(OPENID, text), OPENID)
    oa.platform.post_safe(text_xml("oAnotherUser", "你好"), "oAnotherUser")
    assert [m.sender_id for m in oa.assistant.seen] == [
        f"wechat:{OPENID}", f"wechat:{OPENID}", "wechat:oAnotherUser"]


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(lambda p, xml: p.post_plain(xml, OPENID, bad_signature=True),
                     id="plain-bad-signature"),
        pytest.param(lambda p, xml: p.post_safe(xml, OPENID, bad_msg_signature=True),
                     id="safe-bad-msg-signature"),
        pytest.param(lambda p, xml: p.post_safe(xml, OPENID, app_id="wxSomeoneElse00000"),
                     id="safe-wrong-appid"),
    ],
)
def test_forged_messages_are_forbidden_and_not_processed(official_account, send, request):
    plain = "plain" in request.node.callspec.id
    oa = official_account(**(PLAIN if plain else {}))
    assert send(oa.platform, text_xml(OPENID, "你好")).status_code == 403
    assert oa.assistant.seen == []


def test_safe_mode_without_an_aes_key_is_refused(official_account):
    oa = official_account(encoding_aes_key="")
    assert oa.platform.post_safe(text_xml(OPENID, "你好"), OPENID).status_code == 403
    assert oa.assistant.seen == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("not xml at all", id="not-xml"),
        pytest.param('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
                     "<xml><Content>&lol;</Content></xml>", id="entity-declaration"),
        pytest.param("<html><body/></html>", id="wrong-root"),
    ],
)
def test_bad_xml_is_refused(official_account, body):
    oa = official_account(**PLAIN)
    assert oa.platform.post_plain(body, OPENID).status_code == 400
    assert oa.assistant.seen == []


@pytest.mark.parametrize("age_seconds, status", [
    (120, 200),  # two minutes of clock skew: accepted
    (2 * 86400, 403),  # a captured message replayed after its MsgId claim expired
    (-3600, 403),  # an hour in the future
])
@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_signed_but_stale_messages_are_refused(official_account, age_seconds, status, mode):
    oa = official_account(**(PLAIN if mode == "plain" else {}))
    when = str(int(time.time()) - age_seconds)
    xml = text_xml(OPENID, "旧消息", msg_id=f"71{age_seconds + 10**6}{len(mode)}")
    post = oa.platform.post_plain if mode == "plain" else oa.platform.post_safe
    reply = post(xml, OPENID, timestamp=when)
    assert reply.status_code == status
    assert oa.assistant.texts == (["旧消息"] if status == 200 else [])


def test_url_verification_with_a_stale_timestamp_is_forbidden(official_account):
    oa = official_account()
    stale = oa.platform.verify("echo-old", timestamp=str(int(time.time()) - 86400))
    assert stale.status_code == 403


# ================================================================ duplicates


def test_replayed_msgid_is_processed_once(official_account):
    oa = official_account()
    xml = text_xml(OPENID, "你好", msg_id="7000000000000000001")
    first = oa.platform.post_safe(xml, OPENID)
    again = oa.platform.post_safe(xml, OPENID)  # the same delivery, a new request
    assert oa.platform.open_reply(first.text)["Content"] == "收到：你好"
    assert again.text == "success"
    assert oa.assistant.texts == ["你好"]


def test_retry_during_processing_is_not_processed_again(official_account):
    oa = official_account(Assistant(delay=1.0), **PLAIN)
    xml = text_xml(OPENID, "在吗", msg_id="7000000000000000002")
    results: Dict[str, Any] = {}
    first = threading.Thread(target=lambda: results.update(first=oa.platform.post_plain(xml)))
    first.start()
    time.sleep(0.3)  # WeChat retries while the first delivery is still being answered
    started = time.monotonic()
    retry = oa.platform.post_plain(xml)
    assert retry.text == "success" and time.monotonic() - started < 0.8
    first.join(10)
    assert parse_xml(results["first"].text)["Content"] == "收到：在吗"
    assert oa.assistant.texts == ["在吗"]


def test_duplicate_events_are_recognised_by_sender_and_time(official_account, fake_api):
    oa = official_account(**PLAIN)
    xml = event_xml(OPENID, "subscribe", create_time=1700000000)
    assert "收到：/greet" in oa.platform.post_plain(xml).text
    assert oa.platform.post_plain(xml).text == "success"
    assert oa.assistant.texts == ["/greet"]


# ================================================================ late answers


def test_slow_answer_goes_through_the_send_api(official_account, fake_api):
    oa = official_account(Assistant(delay=1.0), reply_window_seconds=0.3)
    started = time.monotonic()
    reply = oa.platform.post_safe(text_xml(OPENID, "退货怎么办"), OPENID)
    assert reply.text == "success" and time.monotonic() - started < 0.9
    assert fake_api.texts() == []  # not yet: the assistant is still thinking
    assert fake_api.wait_for(lambda: fake_api.texts() == ["收到：退货怎么办"])
    [sent] = fake_api.sent(SEND)
    assert sent["touser"] == OPENID and sent["msgtype"] == "text"


def test_turn_of_several_messages_is_one_passive_reply_in_order(official_account):
    oa = official_account(Assistant(lambda text: [{"text": "第一条"}, {"text": "第二条"}]), **PLAIN)
    reply = oa.platform.post_plain(text_xml(OPENID, "你好"))
    assert parse_xml(reply.text)["Content"] == "第一条\n\n第二条"


def test_buttons_become_text_options(official_account):
    answer = [{"text": "没太理解", "buttons": [{"title": "查订单", "payload": "/order_status"},
                                              {"title": "转人工", "payload": "/request_human"}]}]
    oa = official_account(Assistant(lambda text: answer), **PLAIN)
    reply = oa.platform.post_plain(text_xml(OPENID, "啊？"))
    assert parse_xml(reply.text)["Content"] == "没太理解\n【查订单】【转人工】"


def test_long_answer_is_split_on_sentences_and_sent_through_the_api(official_account, fake_api):
    sentence = "这款空调采用变频压缩机，制冷快、噪音低，一晚上只用一度电。"
    long_text = sentence * 120  # about 10 000 bytes
    oa = official_account(Assistant(lambda text: [{"text": long_text}, {"text": "还有问题吗？"}]),
                          **PLAIN)
    assert oa.platform.post_plain(text_xml(OPENID, "介绍一下")).text == "success"
    oa.settle()
    texts = fake_api.texts()
    assert len(texts) >= 6 and texts[-1] == "还有问题吗？"
    assert all(len(t.encode("utf-8")) <= MAX_TEXT_BYTES for t in texts)
    assert all(t.endswith("。") for t in texts[:-1])  # cut at sentence ends
    assert "".join(texts[:-1]) == long_text


def test_no_answer_means_success_and_nothing_sent(official_account, fake_api):
    # e.g. a paused conversation a staff member already attends: the guard stays quiet.
    oa = official_account(Assistant(lambda text: []), **PLAIN)
    oa.channel._handler = oa.assistant  # without the guard, which would apologise
    assert oa.platform.post_plain(text_xml(OPENID, "人呢")).text == "success"
    oa.settle()
    assert fake_api.calls == []


def test_a_failing_turn_still_gets_the_guard_apology(official_account):
    def broken(text: str) -> List[Dict[str, Any]]:
        raise RuntimeError("action server down")

    oa = official_account(Assistant(broken), **PLAIN)
    reply = oa.platform.post_plain(text_xml(OPENID, "查订单"))
    assert "抱歉" in parse_xml(reply.text)["Content"]


# ================================================================ other messages


@pytest.mark.parametrize("kind", sorted(NON_TEXT))
def test_non_text_messages_get_the_text_only_notice(official_account, domain, kind):
    oa = official_account(agent=domain_agent(domain))
    fields = dict(NON_TEXT[kind], MsgId=new_msg_id())
    reply = oa.platform.post_safe(message_xml(OPENID, kind, fields), OPENID)
    expected = domain["responses"]["utter_text_only"][0]["text"]
    assert oa.platform.open_reply(reply.text)["Content"] == expected
    assert "文字" in expected
    assert oa.assistant.seen == []


def test_text_only_notice_has_a_fallback_without_a_domain(official_account):
    oa = official_account(**PLAIN)
    fields = dict(NON_TEXT["image"], MsgId=new_msg_id())
    reply = oa.platform.post_plain(message_xml(OPENID, "image", fields))
    assert "文字" in parse_xml(reply.text)["Content"]


def test_recognised_voice_is_treated_as_text(official_account):
    oa = official_account(**PLAIN)
    fields = {"MediaId": "m", "Format": "amr", "Recognition": "我要退货", "MsgId": new_msg_id()}
    reply = oa.platform.post_plain(message_xml(OPENID, "voice", fields))
    assert parse_xml(reply.text)["Content"] == "收到：我要退货"


def test_subscribe_greets_and_other_events_are_quiet(official_account, fake_api):
    oa = official_account(**PLAIN)
    greeting = oa.platform.post_plain(event_xml(OPENID, "subscribe"))
    assert parse_xml(greeting.text)["Content"] == "收到：/greet"
    for event in ("unsubscribe", "VIEW", "LOCATION"):
        assert oa.platform.post_plain(event_xml(OPENID, event)).text == "success"
    assert oa.assistant.texts == ["/greet"]


def test_a_retry_reaching_another_server_is_not_answered_twice(official_account, db):
    """Production runs several Rasa servers: the claim in the shared database decides."""
    first_server, second_server = official_account(**PLAIN), official_account(**PLAIN)
    xml = text_xml(OPENID, "你好", msg_id="7000000000000000099")
    answered = first_server.platform.post_plain(xml, OPENID)
    retried = second_server.platform.post_plain(xml, OPENID)
    assert parse_xml(answered.text)["Content"] == "收到：你好"
    assert retried.text == "success"
    assert first_server.assistant.texts == ["你好"] and second_server.assistant.texts == []


def test_a_replayed_signed_callback_is_taken_once(official_account, db):
    """The same signed request again (timestamp and nonce included), within the
    freshness window: answered with "success" and not processed a second time."""
    oa = official_account(**PLAIN)
    timestamp = str(int(time.time()))
    query = oa.platform._query(timestamp, nonce="replay-1", openid=OPENID)
    url = f"{oa.platform.url}?{urlencode(query)}"
    first = requests.post(url, data=text_xml(OPENID, "你好", msg_id="9001").encode("utf-8"),
                          timeout=30)
    again = requests.post(url, data=text_xml(OPENID, "你好", msg_id="9002").encode("utf-8"),
                          timeout=30)
    assert first.status_code == again.status_code == 200
    assert again.text == "success"
    assert oa.assistant.texts == ["你好"]


def test_with_an_aes_key_plaintext_callbacks_are_refused(official_account):
    """Safe mode is the account's setting, not the request's: a signed plaintext
    callback (no encrypt_type) is refused and not processed."""
    oa = official_account()
    assert oa.platform.post_plain(text_xml(OPENID, "你好"), OPENID).status_code == 403
    assert oa.assistant.seen == []
    assert oa.platform.post_safe(text_xml(OPENID, "你好"), OPENID).status_code == 200

