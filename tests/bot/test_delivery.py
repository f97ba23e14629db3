"""Exactly-once web chat delivery (bot/channels/delivery.py): claims in the shared
database, the tracker as the record of what was handled, and the takeover of a claim
whose taker died."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace
from typing import List, Optional

import pytest
from conftest import NOW
from rasa.shared.core.events import UserUttered

from bot.channels import delivery
from bot.channels.claims import DeliveryClaims
from shop import deadlines


class Trackers:
    """A tracker store holding one conversation's user messages."""

    def __init__(self) -> None:
        self.events: List[UserUttered] = []

    async def retrieve(self, _: str) -> Optional[SimpleNamespace]:
        return SimpleNamespace(events=self.events)


@pytest.fixture
def agent(db, clock, monkeypatch) -> SimpleNamespace:
    monkeypatch.setattr(delivery, "_claims", DeliveryClaims(delivery.CHANNEL, delivery.KEEP))
    return SimpleNamespace(tracker_store=Trackers())


def admit(agent: SimpleNamespace, message_id: str = "m-0000000001") -> str:
    return asyncio.run(delivery.admit(agent, "s1", message_id))


def test_first_delivery_is_processed_a_resend_of_a_handled_one_is_not(agent):
    assert admit(agent) == delivery.PROCESS
    agent.tracker_store.events.append(UserUttered("你好", message_id="m-0000000001"))
    assert admit(agent) == delivery.DUPLICATE
    assert admit(agent, "m-0000000002") == delivery.PROCESS  # another message


def test_a_resend_while_the_first_is_still_handled_waits(agent):
    assert admit(agent) == delivery.PROCESS
    assert admit(agent) == delivery.IN_PROGRESS


def test_a_claim_whose_taker_died_is_taken_over_once(agent, monkeypatch):
    assert admit(agent) == delivery.PROCESS  # claimed at NOW, never stored: it died
    later = NOW + timedelta(seconds=delivery.STALE_SECONDS + 1)
    monkeypatch.setattr(deadlines, "utcnow", lambda: later)
    assert admit(agent) == delivery.PROCESS
    assert admit(agent) == delivery.IN_PROGRESS  # the takeover is claimed anew


def test_the_database_down_means_processing_not_losing(agent, monkeypatch, caplog):
    async def broken(*_args, **_kwargs) -> bool:
        raise OSError("database unreachable")

    monkeypatch.setattr(delivery.claims(), "claim", broken)
    assert admit(agent) == delivery.PROCESS
    assert "processing anyway" in caplog.text


@pytest.mark.parametrize("data, expected", [
    ({"message_id": "0123456789abcdef"}, "0123456789abcdef"),
    ({"message_id": "short"}, None),
    ({"message_id": "x" * 65}, None),
    ({"message_id": "bad id!!"}, None),
    ({"message_id": 12345678}, None),
    ({}, None),
    ("not a dict", None),
])
def test_message_ids_are_checked(data, expected):
    assert delivery.message_id_of(data) == expected


# ------------------------------------------------------------------ REST resends


def rest_message(text: str = "小米14多少钱"):
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    return UserMessage(text, CollectingOutputChannel(), "s1", input_channel="rest")


def answered(agent: SimpleNamespace, message_id: str, text: str) -> None:
    from rasa.shared.core.events import BotUttered
    agent.tracker_store.events += [
        UserUttered("小米14多少钱", message_id=message_id),
        BotUttered(text, data={"buttons": [{"title": "转人工", "payload": "/request_human"}]}),
        UserUttered("谢谢", message_id="m-later-000"),
        BotUttered("不客气"),
    ]


def test_a_rest_resend_gets_the_stored_answer_without_handling_it_again(agent):
    handled = []

    async def handle(message) -> None:
        handled.append(message.message_id)

    first = rest_message()
    asyncio.run(delivery.handle_once(agent, first, "m-0000000001", handle))
    assert handled == ["m-0000000001"] and first.message_id == "m-0000000001"
    answered(agent, "m-0000000001", "小米14现在售价 3,999 元")
    again = rest_message()
    asyncio.run(delivery.handle_once(agent, again, "m-0000000001", handle))
    assert handled == ["m-0000000001"]  # not handled twice
    assert again.output_channel.messages == [{
        "recipient_id": "s1", "text": "小米14现在售价 3,999 元",
        "buttons": [{"title": "转人工", "payload": "/request_human"}]}]


def test_a_rest_resend_during_the_first_delivery_waits_for_its_answer(agent, monkeypatch):
    monkeypatch.setattr(delivery, "POLL_SECONDS", 0.05)
    handled = []

    async def handle(message) -> None:
        handled.append(message.message_id)

    async def scenario() -> list:
        assert await delivery.admit(agent, "s1", "m-0000000001") == delivery.PROCESS
        resend = rest_message()
        waiting = asyncio.create_task(
            delivery.handle_once(agent, resend, "m-0000000001", handle))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # the first delivery is still being handled
        answered(agent, "m-0000000001", "3,999 元")
        await asyncio.wait_for(waiting, 5)
        return resend.output_channel.messages

    messages = asyncio.run(scenario())
    assert handled == [] and [m["text"] for m in messages] == ["3,999 元"]


def test_a_message_that_could_not_be_stored_is_released_for_its_resend(agent):
    async def failing(message) -> bool:
        return False  # the guard's verdict: a reply went out, the tracker was not saved

    with pytest.raises(delivery.NotHandled):
        asyncio.run(delivery.handle_once(agent, rest_message(), "m-0000000001", failing))
    # Released: the resend is handled at once, not after the 15 s takeover.
    assert admit(agent) == delivery.PROCESS
