"""Stored conversations for the review-queue tests: scripted Rasa sessions saved in a
real SQLTrackerStore (SQLite file in tmp_path), and the misses a scan must find."""


from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from conftest import DOMAIN_PATH, NOW
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

START = NOW - timedelta(hours=3)
DEFAULT = "不好意思，我没太理解您的意思 🙏 能换个说法再说一次吗？"
OFFER = "看来我没能很好地解决您的疑虑，要不要我帮您转接人工客服，让专人为您详细介绍？"


class Script:
    """One sender's events with increasing timestamps, shaped as Rasa stores them."""

    def __init__(self, start: datetime) -> None:
        self.time = start.replace(tzinfo=timezone.utc).timestamp()
        self.events: List[Event] = []
        self.saved = 0

    def _add(self, event: Event) -> "Script":
        self.time += 5
        event.timestamp = self.time
        self.events.append(event)
        return self

    def session(self) -> "Script":
        self._add(ActionExecuted("action_session_start"))
        self._add(SessionStarted())
        return self._add(ActionExecuted("action_listen"))

    def user(self, text: str, intent: str, confidence: float = 0.99,
             ranking: Optional[List[Any]] = None) -> "Script":
        ranked = [{"name": n, "confidence": c} for n, c in (ranking or [(intent, confidence)])]
        parse = {"intent": {"name": intent, "confidence": confidence},
                 "intent_ranking": ranked, "entities": [], "text": text}
        return self._add(UserUttered(text, intent=parse["intent"], parse_data=parse))

    def bot(self, action: str, text: str, utter: Optional[str] = None,
            buttons: Optional[List[Dict[str, str]]] = None, *after: Event) -> "Script":
        self._add(ActionExecuted(action))
        self._add(BotUttered(text, data={"buttons": buttons} if buttons else {},
                             metadata={"utter_action": utter} if utter else {}))
        for event in after:
            self._add(event)
        return self._add(ActionExecuted("action_listen"))


def save(path: Path, scripts: Dict[str, Script]) -> None:
    """Stores the trackers through Rasa's own SQLTrackerStore, as Rasa does: the stored
    tracker is retrieved, the script's new events are added, and it is saved."""
    domain = Domain.load(str(DOMAIN_PATH))
    store = SQLTrackerStore(domain=domain, dialect="sqlite", db=str(path))
    for sender, script in scripts.items():
        tracker = asyncio.run(store.retrieve(sender))
        if tracker is None:
            tracker = DialogueStateTracker(sender, domain.slots)
        for event in script.events[script.saved:]:
            tracker.update(event)
        asyncio.run(store.save(tracker))
        script.saved = len(script.events)
    store.engine.dispose()


def conversations() -> Dict[str, Script]:
    greeted = lambda start: Script(start).session().user("你好", "greet") \
        .bot("utter_greet", "亲，您好！", "utter_greet")  # noqa: E731
    return {
        # Not understood (nlu_fallback); the customer then clicks the offered 转人工.
        "c1-fallback": greeted(START).user(
            "热水器打不着火", "nlu_fallback", 0.45,
            [("nlu_fallback", 0.45), ("complain", 0.19), ("goodbye", 0.18)])
        .bot("action_fallback", DEFAULT, "utter_default",
             [{"title": "转人工", "payload": "/request_human"}])
        .user("/request_human", "request_human", 1.0),
        # 0.46 is above the 0.45 threshold; 0.44 is below.
        "c2-low": greeted(START + timedelta(minutes=10))
        .user("降价了能退差价吗", "return_refund", 0.46)
        .bot("action_return", "请提供订单号", "utter_ask_order_no")
        .user("买完第二天就降价了 退差价", "objection_price", 0.44)
        .bot("action_handle_objection", "理解您的心情")
        .user("好吧", "affirm"),
        # A confident but wrong answer, then 转人工: the earlier message missed. Once
        # paused (staff), messages are not the bot's to understand.
        "c3-human": greeted(START + timedelta(minutes=20))
        .user("热水器不出热水", "deny", 0.8)
        .bot("utter_anything_else", "好的，还有其他可以帮您的吗？", "utter_anything_else")
        .user("转人工", "request_human")
        .bot("action_handoff", "已为您转接人工客服", "utter_handoff", None, ConversationPaused())
        .user("喂喂 在吗", "nlu_fallback", 0.45),
        # The bot offered a human itself: accepting is no miss.
        "c4-offer": greeted(START + timedelta(minutes=30))
        .user("太贵了", "objection_price")
        .bot("action_handle_objection", OFFER, "utter_offer_human", None,
             SlotSet("human_offered", True))
        .user("转人工", "request_human"),
        # The order form takes the number as a slot: understood.
        "c5-form": greeted(START + timedelta(minutes=40))
        .user("查订单", "order_status")
        .bot("order_form", "请提供您的订单号", "utter_ask_order_no", None,
             ActiveLoop("order_form"), SlotSet("requested_slot", "order_no"))
        .user("DD202611200001", "inform", 0.4)
        ._add(ActionExecuted("order_form"))._add(SlotSet("order_no", "DD202611200001")),
        # A trainee's practice is never customer traffic.
        "p1-trainee": Script(START + timedelta(minutes=50)).session()
        .user('/practice{"trainee": "小李"}', "practice", 1.0)
        .bot("action_start_practice", "练习开始", None, None, ActiveLoop("practice_form"))
        .user("这个价格已经很实惠了", "nlu_fallback", 0.45),
    }


EXPECTED = {
    ("c1-fallback", "热水器打不着火", "nlu_fallback", "complain"),
    ("c2-low", "买完第二天就降价了 退差价", "low_confidence", "objection_price"),
    ("c3-human", "热水器不出热水", "asked_human", "deny"),
}


@pytest.fixture
def store(db, tmp_path) -> Dict[str, Any]:
    path = tmp_path / "tracker.db"
    scripts = conversations()
    save(path, scripts)
    return {"url": f"sqlite:///{path}", "path": path, "scripts": scripts}
