"""The WeCom 微信客服 channel against the simulated platform."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any, Callable, Optional, Set

import pytest

from bot import live
from bot.channels.wechat.settings import WeComSettings
from bot.channels.wechat.wecom import WeComInput, parse_conversation_id
from shop.db import repository
from shop.db.engine import session_scope
from wechat.conftest import api_settings
from wechat.simulator import (
    AES_KEY,
    CORP_ID,
    KF_ID,
    TOKEN,
    Assistant,
    ChannelServer,
    WeComPlatform,
    kf_text,
)

SYNC, SEND = "/cgi-bin/kf/sync_msg", "/cgi-bin/kf/send_msg"
TRANS = "/cgi-bin/kf/service_state/trans"
CUSTOMER = "wmCustomerSimulated01"


def settings(api: Any, **overrides: Any) -> WeComSettings:
    values = dict(corp_id=CORP_ID, secret="kf-secret", token=TOKEN, encoding_aes_key=AES_KEY,
                  api=api_settings(api))
    values.update(overrides)
    return WeComSettings(**values)


class Pauses:
    """A tracker store that only knows which conversations are paused."""

    def __init__(self) -> None:
        self.paused: Set[str] = set()

    async def retrieve(self, sender_id: str) -> Any:
        return SimpleNamespace(is_paused=lambda: sender_id in self.paused)


class WeCom:
    def __init__(self, channel: WeComInput, server: ChannelServer, assistant: Assistant) -> None:
        self.channel, self.server, self.assistant = channel, server, assistant
        self.platform = WeComPlatform(server.url("/webhooks/wecom/webhook"))

    def event(self, **kwargs: Any) -> str:
        """A kf_msg_or_event callback; waits until its sync has finished."""
        reply = self.platform.kf_event(**kwargs)
        self.server.run(self.channel.tasks.wait())
        assert reply.status_code == 200
        return reply.text


@pytest.fixture
def wecom(db, fake_api, serve) -> Callable[..., WeCom]:
    def start(assistant: Optional[Assistant] = None, agent: Any = None,
              **overrides: Any) -> WeCom:
        assistant = assistant or Assistant()
        channel = WeComInput(settings(fake_api, **overrides))
        return WeCom(channel, serve([channel], assistant, agent), assistant)

    return start


def saved_cursor() -> Optional[str]:
    with session_scope() as session:
        return repository.channels.get_channel_cursor(
            session=session, channel="wecom", account=KF_ID)


# ================================================================ verification


def test_url_verification_echoes_the_decrypted_echostr(wecom):
    reply = wecom().platform.verify("1616140317555161061")
    assert reply.status_code == 200 and reply.text == "1616140317555161061"


@pytest.mark.parametrize("kwargs", [{"bad": True}, {"corp_id": "wwSomebodyElse00000"}],
                         ids=["bad-signature", "other-corp"])
def test_url_verification_refusals(wecom, kwargs):
    assert wecom().platform.verify(**kwargs).status_code == 403


@pytest.mark.parametrize("kwargs", [{"bad": True}, {"corp_id": "wwSomebodyElse00000"}],
                         ids=["bad-signature", "other-corp"])
def test_forged_callbacks_are_refused_and_sync_nothing(wecom, fake_api, kwargs):
    channel = wecom()
    assert channel.platform.kf_event(**kwargs).status_code == 403
    assert fake_api.count(SYNC) == 0


def test_unconfigured_channel_answers_503(wecom):
    assert wecom(token="").platform.verify().status_code == 503


# ================================================================ messages


def test_customer_text_is_answered_with_send_msg(wecom, fake_api):
    fake_api.kf_messages[KF_ID] = [kf_text(CUSTOMER, "小米14多少钱")]
    channel = wecom()
    assert channel.event(token="SYNC-TOKEN-1") == "success"
    [sync] = fake_api.sent(SYNC)
    assert sync["token"] == "SYNC-TOKEN-1" and sync["open_kfid"] == KF_ID and "cursor" not in sync
    [sent] = fake_api.sent(SEND)
    assert sent["touser"] == CUSTOMER and sent["open_kfid"] == KF_ID
    assert sent["msgtype"] == "text" and sent["text"] == {"content": "收到：小米14多少钱"}
    [message] = channel.assistant.seen
    assert message.sender_id == f"wecom:{KF_ID}:{CUSTOMER}" and message.input_channel == "wecom"
    assert saved_cursor() == "1"
    assert fake_api.count("/cgi-bin/gettoken") == 1
    token_call = next(c for c in fake_api.calls if c.path == "/cgi-bin/gettoken")
    assert token_call.query == {"corpid": CORP_ID, "corpsecret": "kf-secret"}


def test_cursor_survives_a_restart(wecom, fake_api):
    fake_api.kf_messages[KF_ID] = [kf_text(CUSTOMER, "第一"), kf_text(CUSTOMER, "第二")]
    first = wecom()
    first.event()
    first.server.stop()
    fake_api.kf_messages[KF_ID].append(kf_text(CUSTOMER, "第三"))
    restarted = wecom()  # a new process: nothing in memory, same database
    restarted.event()
    assert restarted.assistant.texts == ["第三"]
    assert [b.get("cursor") for b in fake_api.sent(SYNC)] == [None, "2"]
    assert fake_api.texts(SEND) == ["收到：第一", "收到：第二", "收到：第三"]
    assert saved_cursor() == "3"


def test_pages_are_followed_and_the_cursor_saved_per_page(wecom, fake_api):
    fake_api.page_size = 2
    fake_api.kf_messages[KF_ID] = [kf_text(CUSTOMER, str(n)) for n in range(5)]
    channel = wecom()
    channel.event()
    assert channel.assistant.texts == ["0", "1", "2", "3", "4"]
    assert [b.get("cursor") for b in fake_api.sent(SYNC)] == [None, "2", "4"]
    assert saved_cursor() == "5"


def test_redelivered_msgids_are_answered_once(wecom, fake_api):
    message = kf_text(CUSTOMER, "你好", msgid="MSG-ONCE")
    fake_api.kf_messages[KF_ID] = [message, dict(message)]  # the platform repeats it
    channel = wecom()
    channel.event()
    # a crash before the cursor was saved: the same page is read again after restart
    with session_scope() as session:
        repository.channels.save_channel_cursor(session=session, channel="wecom", account=KF_ID,
                                       cursor="0")
    wecom().event()
    assert channel.assistant.texts == ["你好"]
    assert fake_api.texts(SEND) == ["收到：你好"]


def test_events_during_a_sync_are_not_lost(wecom, fake_api):
    fake_api.kf_messages[KF_ID] = [kf_text(CUSTOMER, "一")]
    channel = wecom(Assistant(delay=0.5))
    channel.platform.kf_event()
    time.sleep(0.2)  # the first sync is answering; a new message arrives meanwhile
    fake_api.kf_messages[KF_ID].append(kf_text(CUSTOMER, "二"))
    channel.platform.kf_event()
    channel.server.run(channel.channel.tasks.wait())
    assert channel.assistant.texts == ["一", "二"]


@pytest.mark.parametrize(
    "message",
    [
        pytest.param(kf_text(CUSTOMER, "客服说的话", origin=5), id="servicer"),
        pytest.param(kf_text(CUSTOMER, "系统消息", origin=4), id="system"),
        pytest.param(kf_text(CUSTOMER, "三天前的话", send_time=int(time.time()) - 86400),
                     id="stale-history"),
    ],
)
def test_messages_not_for_the_assistant(wecom, fake_api, message):
    fake_api.kf_messages[KF_ID] = [message]
    channel = wecom()
    channel.event()
    assert channel.assistant.seen == [] and fake_api.sent(SEND) == []
    assert saved_cursor() == "1"


def test_non_text_gets_the_text_only_notice(wecom, fake_api, domain):
    image = dict(kf_text(CUSTOMER, ""), msgtype="image", image={"media_id": "m"})
    del image["text"]
    fake_api.kf_messages[KF_ID] = [image]
    agent = SimpleNamespace(domain=SimpleNamespace(responses=domain["responses"]))
    channel = wecom(agent=agent)
    channel.event()
    assert fake_api.texts(SEND) == [domain["responses"]["utter_text_only"][0]["text"]]
    assert channel.assistant.seen == []


def test_failed_send_is_retried(wecom, fake_api):
    fake_api.kf_messages[KF_ID] = [kf_text(CUSTOMER, "在吗")]
    fake_api.plan(SEND, (500, {}), (200, {"errcode": 42001, "errmsg": "expired"}))
    wecom().event()
    assert fake_api.texts(SEND) == ["收到：在吗"] and fake_api.count(SEND) == 3


def test_failed_sync_keeps_the_cursor_for_the_next_event(wecom, fake_api):
    fake_api.kf_messages[KF_ID] = [kf_text(CUSTOMER, "你好")]
    fake_api.plan(SYNC, *[(200, {"errcode": 95007, "errmsg": "invalid msg token"})])
    channel = wecom()
    channel.event()
    assert saved_cursor() is None and channel.assistant.seen == []
    channel.event()
    assert channel.assistant.texts == ["你好"]


# ================================================================ handoff


def test_handoff_moves_the_session_to_the_configured_servicer(wecom, fake_api):
    pauses = Pauses()
    me = f"wecom:{KF_ID}:{CUSTOMER}"

    def answer(text: str) -> list:
        if text == "转人工":
            pauses.paused.add(me)  # what the handoff action does to the tracker
            return [{"text": "已为您转接人工客服"}]
        return [{"text": f"收到：{text}"}]

    fake_api.kf_messages[KF_ID] = [kf_text(CUSTOMER, "转人工")]
    channel = wecom(Assistant(answer), agent=SimpleNamespace(tracker_store=Pauses()),
                    servicer_userid="zhangsan")
    channel.server.app.ctx.agent.tracker_store = pauses
    channel.event()
    assert fake_api.texts(SEND) == ["已为您转接人工客服"]
    assert fake_api.sent(TRANS) == [{"open_kfid": KF_ID, "external_userid": CUSTOMER,
                                     "service_state": 3, "servicer_userid": "zhangsan",
                                     "_ok": True}]
    # From now on the WeCom servicer answers; the assistant stays out.
    fake_api.kf_messages[KF_ID].append(kf_text(CUSTOMER, "人呢"))
    channel.event()
    assert channel.assistant.texts == ["转人工"] and len(fake_api.sent(SEND)) == 1


def test_without_a_servicer_staff_replies_go_out_through_send_msg(fake_api):
    channel = WeComInput(settings(fake_api))
    live.register_outbound("wecom", channel.push)
    pushed = asyncio.run(live.to_customer(f"wecom:{KF_ID}:{CUSTOMER}",
                                          {"text": "人工客服小王为您服务", "staff": "小王"},
                                          channel="wecom"))
    assert pushed and fake_api.texts(SEND) == ["人工客服小王为您服务"]
    assert fake_api.sent(SEND)[0]["touser"] == CUSTOMER


def test_conversation_ids():
    assert parse_conversation_id(f"wecom:{KF_ID}:{CUSTOMER}") == (KF_ID, CUSTOMER)
    assert parse_conversation_id("wechat:oX") is None
    assert parse_conversation_id("wecom:only-one-part") is None


def test_message_claims_are_pruned_after_a_week(db):
    from datetime import timedelta

    from shop import deadlines

    now = deadlines.utcnow()
    with session_scope() as session:
        assert repository.channels.claim_channel_message(
            session=session, channel="wecom", msg_id="old",
                                                now=now - timedelta(days=8))
        assert repository.channels.claim_channel_message(
            session=session, channel="wecom", msg_id="new",
                                                now=now)
        assert not repository.channels.claim_channel_message(session=session, channel="wecom",
                                                    msg_id="new")
        # another channel's ids are its own
        assert repository.channels.claim_channel_message(
            session=session, channel="other", msg_id="new")
    with session_scope() as session:
        removed = repository.channels.prune_channel_messages(session=session, channel="wecom",
                                                    before=now - timedelta(days=7))
    assert removed == 1
    with session_scope() as session:
        assert repository.channels.claim_channel_message(
            session=session, channel="wecom", msg_id="old")
        assert not repository.channels.claim_channel_message(session=session, channel="wecom",
                                                    msg_id="new")


WELCOME = "/cgi-bin/kf/send_msg_on_event"


def enter_session(code: str = "WELCOME-CODE-1", age: int = 0,
                  customer: str = CUSTOMER) -> dict:
    """An enter_session event as sync_msg lists it (origin 4)."""
    event = {"event_type": "enter_session", "open_kfid": KF_ID, "external_userid": customer,
             "scene": "123"}
    if code:
        event["welcome_code"] = code
    message = kf_text(customer, "", origin=4, send_time=int(time.time()) - age)
    del message["text"]
    return dict(message, msgtype="event", event=event)


def test_entering_customer_is_greeted_with_the_welcome_code(wecom, fake_api):
    fake_api.kf_messages[KF_ID] = [enter_session()]
    channel = wecom(Assistant(lambda text: [{"text": "亲，您好～有什么可以帮您？"}]))
    channel.event()
    [welcome] = fake_api.sent(WELCOME)
    assert welcome["code"] == "WELCOME-CODE-1" and welcome["msgtype"] == "text"
    assert welcome["text"] == {"content": "亲，您好～有什么可以帮您？"}
    [message] = channel.assistant.seen
    assert message.text == "/greet" and message.sender_id == f"wecom:{KF_ID}:{CUSTOMER}"
    assert fake_api.sent(SEND) == []


@pytest.mark.parametrize("event", [
    pytest.param(enter_session(code=""), id="no-welcome-code"),  # chatted within 48 h
    pytest.param(enter_session(age=60), id="code-expired"),
    pytest.param(dict(enter_session(), event={"event_type": "msg_send_fail"}), id="other-event"),
])
def test_other_events_are_not_greeted(wecom, fake_api, event):
    fake_api.kf_messages[KF_ID] = [event]
    channel = wecom()
    channel.event()
    assert channel.assistant.seen == [] and fake_api.sent(WELCOME) == []
    assert fake_api.sent(SEND) == []


def test_a_refused_welcome_code_falls_back_to_send_msg(wecom, fake_api):
    fake_api.kf_messages[KF_ID] = [enter_session()]
    fake_api.plan(WELCOME, (200, {"errcode": 95018, "errmsg": "invalid welcome code"}))
    channel = wecom(Assistant(lambda text: [{"text": "您好"}]))
    channel.event()
    assert fake_api.texts(SEND) == ["您好"]
