"""Conversation figures from a real Rasa SQLTrackerStore (SQLite file in tmp_path):
containment, handoff reasons, objections and techniques, outcomes; practice excluded."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import DOMAIN_PATH, NOW, make_tracker
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

from shop import knowledge
from shop.db import repository
from shop.db.engine import session_scope
from shop.insights import conversations, manager_report, tracker_events
from shop.insights.period import Period
from shop.tickets import handoff_reason, handoff_summary

PERIOD = Period(date(2026, 11, 17), date(2026, 11, 23))
DAY = NOW - timedelta(days=1)


def stamp(moment: datetime) -> float:
    return moment.replace(tzinfo=timezone.utc).timestamp()


class Script:
    """Builds one sender's events with increasing timestamps."""

    def __init__(self, start: datetime) -> None:
        self.time = stamp(start)
        self.events: List[Event] = []

    def _next(self) -> float:
        self.time += 5
        return self.time

    def session(self) -> "Script":
        self.events += [ActionExecuted("action_session_start", timestamp=self._next()),
                        SessionStarted(timestamp=self._next()),
                        ActionExecuted("action_listen", timestamp=self._next())]
        return self

    def user(self, intent: str, text: str = "…") -> "Script":
        self.events.append(UserUttered(text, intent={"name": intent, "confidence": 1.0},
                                       timestamp=self._next()))
        return self

    def action(self, name: str, *extra: Event) -> "Script":
        self.events.append(ActionExecuted(name, timestamp=self._next()))
        self.events.append(BotUttered("好的", timestamp=self._next()))
        for event in extra:
            event.timestamp = self._next()
            self.events.append(event)
        self.events.append(ActionExecuted("action_listen", timestamp=self._next()))
        return self


def objection(*entries: str) -> SlotSet:
    return SlotSet("objection_history", list(entries))


def save(path: Path, trackers: Dict[str, Script]) -> None:
    """Stores the trackers as Rasa does: through its SQLTrackerStore."""
    domain = Domain.load(str(DOMAIN_PATH))
    store = SQLTrackerStore(domain=domain, dialect="sqlite", db=str(path))
    for sender, script in trackers.items():
        tracker = DialogueStateTracker.from_events(sender, script.events, domain.slots)
        asyncio.run(store.save(tracker))
    store.engine.dispose()


def handoff_ticket(sender: str, reason: str, at: datetime) -> None:
    summary = knowledge.commitments()["tickets"]["handoff"]["summary"].format(
        reason=reason, intents="request_human", facts="-", looked_up="-")
    with session_scope() as session:
        repository.tickets.create_ticket(session=session, kind="handoff", conversation_id=sender,
                                 summary=summary, now=at)


@pytest.fixture
def store(db, tmp_path) -> str:
    """Seven senders with known answers (see the comments)."""
    path = tmp_path / "tracker.db"
    scripts = {
        # Price objection answered with 补偿法, then asks about the product: buying.
        "c1-buys": Script(DAY).session().user("greet").action("utter_greet")
        # Not understood: "A or B?", and the customer picks A.
        .user("nlu_fallback", "风尊这个咋弄")
        .action("action_fallback", SlotSet("clarify_options", ["ask_price", "after_sales"]))
        .user("ask_price")
        .user("objection_price", "太贵了")
        .action("action_handle_objection", objection("price|compensation|p1"))
        .user("ask_product"),
        # Asks for a human: handoff ticket (reason: requested) and the bot pauses.
        "c2-human": Script(DAY + timedelta(hours=1)).session().user("request_human")
        .action("action_handoff", SlotSet("handoff_ticket", "TK1"), ConversationPaused()),
        # Two objections, then goodbye: left.
        "c3-leaves": Script(DAY + timedelta(hours=2)).session().user("objection_think")
        .action("action_handle_objection", objection("delay|ask|d1"))
        .user("objection_price")
        .action("action_handle_objection", objection("delay|ask|d1", "price|turnaround|p2"))
        .user("goodbye"),
        # A trainee's practice: never customer traffic.
        "p1-trainee": Script(DAY + timedelta(hours=3)).session().user("practice")
        .action("action_start_practice", ActiveLoop("practice_form"))
        .user("inform").action("validate_practice_form"),
        # Trust objection, then not understood twice: the fallback pauses, no ticket.
        "c5-fallback": Script(DAY + timedelta(hours=4)).session().user("objection_trust")
        .action("action_handle_objection", objection("trust|yes_if|t1"))
        .user("out_of_scope").action("action_fallback", SlotSet(
            "clarify_options", ["objection_trust", "complain"]))
        .user("out_of_scope").action("action_fallback", ConversationPaused()),
        # Session started but the customer never wrote: not a conversation.
        "c7-silent": Script(DAY + timedelta(hours=5)).session(),
    }
    # A returning customer: an old session (before the period) with an objection,
    # then a new one in the period where the slot is carried over before they speak.
    returning = Script(datetime(2026, 11, 10, 2)).session().user("objection_price") \
        .action("action_handle_objection", objection("price|ask|p3"))
    returning.time = stamp(DAY + timedelta(hours=6))
    returning.session()
    returning.events.append(SlotSet("objection_history", ["price|ask|p3"],
                                    timestamp=returning.time + 1))
    returning.user("greet").action("utter_greet")
    scripts["c6-returning"] = returning
    save(path, scripts)
    handoff_ticket("c2-human", handoff_reason("requested"), DAY + timedelta(hours=1, minutes=1))
    # Someone else's ticket, another day: not c2's.
    handoff_ticket("c1-buys", handoff_reason("requested"), DAY - timedelta(days=3))
    return f"sqlite:///{path}"


def stats(url: str) -> conversations.ConversationStats:
    figures, read = conversations.load_stats(PERIOD, url)
    assert read
    return figures


def test_events_are_stored_the_way_rasa_stores_them(store):
    path = store.replace("sqlite:///", "")
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT type_name, intent_name, action_name FROM events WHERE sender_id = ?"
            " ORDER BY id", ("c2-human",)).fetchall()
    assert ("user", "request_human", None) in rows
    assert ("action", None, "action_handoff") in rows
    assert ("slot", None, "handoff_ticket") in rows
    assert ("pause", None, None) in rows


def test_containment_excludes_practice_and_silent_sessions(store):
    figures = stats(store)
    # c1, c2, c3, c5 and c6's new session; p1 is practice; c7 never spoke.
    assert figures.conversations == 5
    assert figures.handed_off == 2
    assert figures.practice_excluded == 1


def test_handoff_reasons_from_tickets_then_events(store):
    assert dict(stats(store).reasons) == {"requested": 1, "fallback": 1}


def test_objections_by_type_and_technique(store):
    # c6's carried-over objection of last week is not counted again.
    assert dict(stats(store).objections) == {
        ("price", "compensation"): 1, ("delay", "ask"): 1, ("price", "turnaround"): 1,
        ("trust", "yes_if"): 1,
    }


def test_where_customers_went_after_objections(store):
    assert dict(stats(store).outcomes) == {"buying": 1, "left": 1, "handoff": 1}


def test_conversation_tables(store):
    built = manager_report.build(PERIOD, now=NOW, tracker_url=store)
    assert built.conversations_read
    assert built.tables["conversations"].rows == [{
        "conversations": 5, "contained": 3, "handed_off": 2, "containment": 0.6,
        "clarifications": 2, "clarified_share": 0.5, "practice_excluded": 1,
    }]
    reasons = {r["reason"]: (r["name"], r["conversations"], r["share"])
               for r in built.tables["handoff_reasons"].rows}
    assert reasons == {"requested": ("客户要求转人工", 1, 0.5),
                       "fallback": ("连续N次未能理解客户", 1, 0.5)}
    objections = built.tables["objections"].rows
    assert {(r["type_name"], r["technique_name"], r["count"]) for r in objections} == {
        ("价格异议", "补偿法", 1), ("拖延异议", "询问法", 1), ("价格异议", "太极法", 1),
        ("信任与质量异议", "“是的……如果”法", 1),
    }
    outcomes = {r["outcome"]: (r["conversations"], r["share"])
                for r in built.tables["objection_outcomes"].rows}
    assert outcomes == {"buying": (1, 0.333), "handoff": (1, 0.333), "left": (1, 0.333)}


def test_a_later_period_sees_none_of_it(store):
    later = Period(date(2026, 11, 24), date(2026, 11, 30))
    figures, read = conversations.load_stats(later, store)
    assert read and figures.conversations == 0


def test_the_store_is_opened_read_only(store):
    engine = tracker_events.read_only_engine(store)
    with pytest.raises(Exception, match="readonly"):
        with engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM events")
    engine.dispose()
    assert tracker_events.read_only_engine("sqlite:////nonexistent/tracker.db") is None


def test_an_unreadable_store_is_reported_not_raised(tmp_path):
    path = tmp_path / "not-rasa.db"
    sqlite3.connect(path).close()  # a database without an events table
    figures, read = conversations.load_stats(PERIOD, f"sqlite:///{path}")
    assert not read and figures.conversations == 0


@pytest.mark.parametrize(
    "key, values",
    [("requested", {}), ("accepted", {}), ("fallback", {"count": 2}),
     ("complaint_angry", {}), ("complaint_repeated", {"count": 3}), ("objections", {"count": 2}),
     ("system_failure", {})],
)
def test_reason_of_a_real_ticket_summary(domain, key, values):
    tracker = make_tracker(domain, text="转人工", intent="request_human")
    summary = handoff_summary(tracker.events, tracker.current_slot_values(),
                              handoff_reason(key, **values))
    assert conversations.reason_of_summary(summary) == key
    assert conversations.reason_of_summary("随便什么") == "unknown"


def test_split_sessions_keeps_a_first_session_without_session_started():
    rows = [tracker_events.EventRow("s", "user", 100.0, "greet"),
            tracker_events.EventRow("s", "action", 101.0, None, "utter_greet")]
    found = tracker_events.split_sessions(rows, {"s": 100.0}, 50.0, 200.0)
    assert [len(c.events) for c in found] == [2]
    # The same rows, but the sender was seen before the period: an older session's tail.
    assert tracker_events.split_sessions(rows, {"s": 10.0}, 50.0, 200.0) == []
