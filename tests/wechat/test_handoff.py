"""Staff replies in the console reach WeChat customers through the send API."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from types import SimpleNamespace

import pytest
import requests
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import live
from bot.channels.wechat.official_account import OfficialAccountInput
from bot.console import tickets
from bot.console.channel import StaffConsoleInput
from shop import staff_auth
from shop.config import PROJECT_ROOT, settings
from shop.db import repository
from shop.db.engine import session_scope
from shop.staff_auth import StaffDirectory, hash_password
from wechat.conftest import oa_settings
from wechat.simulator import Assistant

STAFF, PASSWORD = "小李", "console-pw"


@pytest.fixture
def staff_directory(tmp_path, monkeypatch) -> StaffDirectory:
    directory = StaffDirectory(replace(
        settings, staff_accounts=f"{STAFF}:{hash_password(PASSWORD)}",
        staff_token_secret="wechat-handoff-test-secret-0123456789",
        staff_accounts_file=tmp_path / "accounts.yml", var_dir=tmp_path,
    ))
    monkeypatch.setattr(staff_auth, "staff_directory", lambda: directory)
    return directory


@pytest.fixture(scope="module")
def rasa_domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def ticket_for(conversation_id: str) -> int:
    with session_scope() as session:
        return repository.tickets.create_ticket(session=session, kind="handoff",
                                        conversation_id=conversation_id, summary="转人工").id


class SocketServer:
    """Stands in for the web chat's socket.io server: records what it emits."""

    def __init__(self) -> None:
        self.emitted: list = []

    async def emit(self, event: str, data: dict, room: str = "", **_: object) -> None:
        self.emitted.append((room, event, data.get("text")))


def test_console_reply_to_a_wechat_customer_goes_through_the_send_api(
    db, fake_api, serve, staff_directory, rasa_domain, monkeypatch
):
    sockets = SocketServer()
    monkeypatch.setattr(live, "_server", sockets)
    agent = SimpleNamespace(domain=rasa_domain, tracker_store=InMemoryTrackerStore(rasa_domain),
                            lock_store=InMemoryLockStore())
    wechat = OfficialAccountInput(oa_settings(fake_api))
    server = serve([wechat, StaffConsoleInput()], Assistant(), agent)
    customers = {"wechat:oWeChatCustomer": "wechat", "web-session-0001": "socketio"}
    for conversation_id, channel in customers.items():
        tracker = DialogueStateTracker.from_events(
            conversation_id, [UserUttered("转人工", input_channel=channel)])
        server.run(agent.tracker_store.save(tracker))
    api = server.url("/webhooks/console/api")
    token = requests.post(f"{api}/login", json={"username": STAFF, "password": PASSWORD},
                          timeout=30).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    for conversation_id in customers:
        ticket = ticket_for(conversation_id)
        reply = requests.post(f"{api}/tickets/{ticket}/reply", headers=headers,
                              json={"text": "您好，我是人工客服小李，马上帮您处理"}, timeout=30)
        assert reply.status_code == 200, reply.text

    # The WeChat customer got the "staff joined" notice, then the reply, in order;
    # the web customer's lines went to socket.io, never to WeChat.
    assert fake_api.wait_for(lambda: len(fake_api.texts()) == 2)
    assert fake_api.texts() == [f"人工客服 {STAFF} 已接入", "您好，我是人工客服小李，马上帮您处理"]
    assert {body["touser"] for body in fake_api.sent("/cgi-bin/message/custom/send")} == {
        "oWeChatCustomer"}
    assert ("web-session-0001", "bot_uttered", "您好，我是人工客服小李，马上帮您处理") \
        in sockets.emitted
    assert {room for room, _, _ in sockets.emitted} == {"web-session-0001", live.STAFF_ROOM}
    # …and the line is in the conversation's transcript like any staff line.
    tracker = server.run(agent.tracker_store.retrieve("wechat:oWeChatCustomer"))
    assert tracker.latest_bot_utterance.metadata == {"staff": STAFF}


def test_push_routes_by_input_channel(fake_api):
    wechat = OfficialAccountInput(oa_settings(fake_api))
    live.register_outbound("wechat", wechat.push)

    async def pushes() -> list:
        return [
            await live.to_customer("wechat:oCustomer", {"text": "您的退款已到账"},
                                   channel="wechat"),
            await live.to_customer("web-1", {"text": "x"}, channel="socketio"),  # no socket.io
            await live.to_customer("not-a-wechat-id", {"text": "x"}, channel="wechat"),
        ]

    assert asyncio.run(pushes()) == [True, False, False]
    assert fake_api.texts() == ["您的退款已到账"]


def test_push_failure_is_reported_not_raised(fake_api):
    wechat = OfficialAccountInput(oa_settings(fake_api))
    live.register_outbound("wechat", wechat.push)
    fake_api.plan("/cgi-bin/message/custom/send",
                  (200, {"errcode": 45015, "errmsg": "response out of time limit"}))
    sent = asyncio.run(live.to_customer("wechat:oCustomer", {"text": "晚了"}, channel="wechat"))
    assert sent is False


def test_console_says_when_a_reply_could_not_reach_the_customer(
    db, fake_api, serve, staff_directory, rasa_domain
):
    agent = SimpleNamespace(domain=rasa_domain, tracker_store=InMemoryTrackerStore(rasa_domain),
                            lock_store=InMemoryLockStore())
    wechat = OfficialAccountInput(oa_settings(fake_api))
    server = serve([wechat, StaffConsoleInput()], Assistant(), agent)
    tracker = DialogueStateTracker.from_events(
        "wechat:oSilentCustomer", [UserUttered("转人工", input_channel="wechat")])
    server.run(agent.tracker_store.save(tracker))
    api = server.url("/webhooks/console/api")
    token = requests.post(f"{api}/login", json={"username": STAFF, "password": PASSWORD},
                          timeout=30).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    ticket = ticket_for("wechat:oSilentCustomer")
    # WeChat refuses every send: the customer has not written for over 48 hours.
    refusal = (200, {"errcode": 45015, "errmsg": "response out of time limit"})
    fake_api.plan("/cgi-bin/message/custom/send", *[refusal] * 6)
    reply = requests.post(f"{api}/tickets/{ticket}/reply", headers=headers,
                          json={"text": "您好，我是小李"}, timeout=30)
    assert reply.status_code == 502
    assert reply.json()["error"] == tickets.UNDELIVERED
    stored = server.run(agent.tracker_store.retrieve("wechat:oSilentCustomer"))
    assert stored.latest_bot_utterance.text == "您好，我是小李"  # kept in the transcript
