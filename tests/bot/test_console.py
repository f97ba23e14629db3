"""The staff console's records side, the web chat's helpers and the guard's paused branch."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple

import pytest
from conftest import NOW, make_tracker, responses, run_action
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from sqlalchemy import select
from test_components import Handler, fake_agent, said, send

from actions.handoff import ActionHandoff
from bot import live
from bot.channels.webchat import parse_rating, store_rating
from bot.console import tickets
from bot.web import STATIC_DIR, static_file
from shop import chat_sessions, desk, knowledge
from shop.db import repository
from shop.db.engine import session_scope
from shop.db.models import Rating, Ticket
from shop.db.repository.ratings import AlreadyRated
from shop.tickets import handoff_reason, record_followup

SHANGHAI = timedelta(hours=8)
# Seed customers by tier (knowledge/seed/customers.yml); None is an anonymous visitor.
BY_TIER: Dict[Optional[str], Optional[str]] = {
    "A": "C001", "B": "C007", "C": "C002", "D": "C003", None: None,
}


def new_ticket(
    customer_id: Optional[str] = None,
    conversation_id: str = "conv-1",
    now: Optional[datetime] = None,
    kind: str = "handoff",
    summary: str = "测试",
) -> Ticket:
    with session_scope() as session:
        return repository.tickets.create_ticket(
            session=session, kind=kind, conversation_id=conversation_id, summary=summary,
            customer_id=customer_id, now=now,
        )


def set_status(ticket_id: int, status: str, staff: Optional[str] = None) -> None:
    with session_scope() as session:
        ticket = repository.tickets.get_ticket(session=session, ticket_id=ticket_id)
        repository.tickets.set_ticket_status(
            session=session, ticket=ticket, status=status, staff=staff)


def queue() -> List[Ticket]:
    with session_scope() as session:
        return repository.tickets.ticket_queue(session=session)


def load_ticket(ticket_id: int) -> Ticket:
    with session_scope() as session:
        return repository.tickets.get_ticket(session=session, ticket_id=ticket_id)


def local_iso(moment: datetime) -> str:
    """The console's time format for a naive-UTC moment."""
    return (moment + SHANGHAI).isoformat(timespec="seconds") + "+08:00"


# ===================================================================== ticket queue


@pytest.mark.parametrize(
    "created, expected",
    [
        pytest.param(
            [("d", "D", 0), ("c", "C", 0), ("b", "B", 0), ("a", "A", 0)],
            ["a", "b", "c", "d"],
            id="tier-A-first",
        ),
        pytest.param(
            [("a-today", "A", 0), ("d-old", "D", 3), ("a-2-days", "A", 2), ("a-1-day", "A", 1)],
            ["a-2-days", "a-1-day", "a-today", "d-old"],
            id="earliest-deadline-within-a-tier",
        ),
        pytest.param(
            [("c-today", "C", 0), ("anon-yesterday", None, 1), ("b-today", "B", 0)],
            ["b-today", "anon-yesterday", "c-today"],
            id="anonymous-has-the-default-priority",
        ),
        pytest.param(
            [("d-old", "D", 5), ("anon", None, 0), ("c-old", "C", 4), ("b", "B", 0)],
            ["b", "c-old", "anon", "d-old"],
            id="mixed",
        ),
        pytest.param(
            [("a-first", "A", 0), ("a-second", "A", 0)],
            ["a-first", "a-second"],
            id="same-deadline-in-creation-order",
        ),
    ],
)
def test_ticket_queue_order(db, created: List[Tuple[str, Optional[str], int]], expected):
    for label, tier, days_ago in created:
        new_ticket(BY_TIER[tier], f"conv-{label}", NOW - timedelta(days=days_ago), summary=label)
    tickets = queue()
    assert [t.summary for t in tickets] == expected
    # The order is really priority, then deadline (not just creation order).
    keys = [(t.priority, t.respond_due) for t in tickets]
    assert keys == sorted(keys)


def test_ticket_priority_and_deadline_come_from_tier_and_time(db):
    priorities = {
        tier: new_ticket(customer, f"conv-{tier}").priority for tier, customer in BY_TIER.items()
    }
    assert priorities == {"A": 1, "B": 2, "C": 3, "D": 4, None: 3}
    today = new_ticket("C001", "today")
    earlier = new_ticket("C001", "earlier", NOW - timedelta(days=1))
    assert today.respond_due == datetime(2026, 11, 23, 21, 0) - SHANGHAI
    assert earlier.respond_due == today.respond_due - timedelta(days=1)


def test_ticket_queue_holds_open_and_in_progress_only(db):
    ids = {status: new_ticket("C002", f"conv-{status}").id
           for status in ("open", "in_progress", "handed_back", "closed")}
    for status in ("in_progress", "handed_back", "closed"):
        set_status(ids[status], status, staff="王客服")
    assert {t.id for t in queue()} == {ids["open"], ids["in_progress"]}


def test_queue_signature_follows_what_consoles_are_told_about(db):
    """The watch compares this between rounds: new tickets, a take-over and a close
    change it; it lists exactly the queued tickets."""
    first = new_ticket("C001", "conv-sig-1").id
    before = desk.queue_signature()
    assert before == [(t.id, t.status, t.assigned_to) for t in sorted(queue(), key=lambda t: t.id)]
    second = new_ticket("C002", "conv-sig-2").id
    grown = desk.queue_signature()
    assert grown != before and [row[0] for row in grown][-2:] == [first, second]
    set_status(first, "in_progress", staff="王客服")
    taken = desk.queue_signature()
    assert (first, "in_progress", "王客服") in taken
    set_status(first, "closed", staff="王客服")
    assert first not in [row[0] for row in desk.queue_signature()]


# =================================================================== queue snapshot


def test_queue_snapshot_fields(db):
    created = NOW - timedelta(minutes=90)
    ticket = new_ticket("C001", "conv-snap", created, summary="客户要求转人工")
    [view] = desk.queue_snapshot()
    assert view["id"] == ticket.id
    assert view["number"] == ticket.number and view["number"].startswith("TK20261123")
    assert view["kind"] == "handoff"
    assert view["status"] == "open"
    assert view["priority"] == 1
    assert view["tier"] == "A"
    assert view["customer_name"] == "王丽"
    assert view["conversation_id"] == "conv-snap"
    assert view["summary"] == "客户要求转人工"
    assert view["created_at"] == "2026-11-23T10:30:00+08:00"
    assert view["respond_due"] == "2026-11-23T21:00:00+08:00"
    assert view["waiting_seconds"] == 90 * 60
    assert view["assigned_to"] is None


def test_queue_snapshot_waiting_follows_the_clock(db, monkeypatch):
    new_ticket("C002", "conv-wait", NOW)
    assert desk.queue_snapshot()[0]["waiting_seconds"] == 0
    monkeypatch.setattr(desk.deadlines, "utcnow", lambda: NOW + timedelta(seconds=125))
    assert desk.queue_snapshot()[0]["waiting_seconds"] == 125
    # A ticket stamped a moment in the future never shows a negative wait.
    monkeypatch.setattr(desk.deadlines, "utcnow", lambda: NOW - timedelta(seconds=5))
    assert desk.queue_snapshot()[0]["waiting_seconds"] == 0


def test_queue_snapshot_of_an_anonymous_ticket(db):
    new_ticket(None, "conv-anon")
    [view] = desk.queue_snapshot()
    assert (view["tier"], view["customer_name"], view["priority"]) == (None, None, 3)


def test_queue_snapshot_shows_who_joined(db):
    ticket = new_ticket("C002", "conv-joined")
    desk.change_ticket(ticket.id, "in_progress", "李客服")
    [view] = desk.queue_snapshot()
    assert (view["status"], view["assigned_to"]) == ("in_progress", "李客服")


def online(since: datetime = NOW - timedelta(seconds=90)) -> List[str]:
    with session_scope() as session:
        return repository.staff.staff_online(session=session, since=since)


def test_queue_snapshot_records_presence_of_the_staff_member(db):
    assert desk.queue_snapshot() == []
    assert online() == []  # the background watcher polls without a name
    desk.queue_snapshot("李客服")
    assert online() == ["李客服"]
    assert online(since=NOW + timedelta(seconds=1)) == []  # seen at the frozen NOW


# ================================================================== ticket context


def test_ticket_context_of_a_known_customer(db):
    ticket = new_ticket("C001", "conv-ctx", NOW - timedelta(hours=1))
    other = new_ticket("C001", "conv-other", kind="complaint")
    closed = new_ticket("C001", "conv-closed")
    set_status(closed.id, "closed", "王客服")
    new_ticket("C002", "conv-someone-else")
    context = desk.ticket_context(ticket.id)
    assert context is not None
    assert context["ticket"]["id"] == ticket.id
    assert context["ticket"]["waiting_seconds"] == 3600
    assert context["customer"] == {
        "id": "C001", "name": "王丽", "phone": "13800138001", "tier": "A",
    }
    assert [(o["order_no"], o["status"], o["items"]) for o in context["orders"]] == [
        ("DD202611200001", "运输中", "索尼WH-1000XM5耳机×1"),
        ("DD202611180002", "已签收", "美的风尊空调×1"),
    ]
    assert all(o["placed_at"].endswith("+08:00") for o in context["orders"])
    assert context["orders"][0]["placed_at"] > context["orders"][1]["placed_at"]
    assert [(t["number"], t["kind"], t["status"]) for t in context["open_tickets"]] == [
        (ticket.number, "handoff", "open"), (other.number, "complaint", "open"),
    ]
    assert context["open_tickets"][0]["respond_due"] == "2026-11-23T21:00:00+08:00"
    assert context["notes"] == []


def test_ticket_context_lists_items_of_a_multi_item_order(db):
    names = {p["sku"]: p["name"] for p in knowledge.catalogue()["products"]}
    ticket = new_ticket("C029", "conv-items")
    orders = {o["order_no"]: o for o in desk.ticket_context(ticket.id)["orders"]}
    order = orders["DD202610062064"]
    assert order["items"] == f"{names['TV-SN-75']}×1、{names['PH-HW-N12']}×2"
    assert order["status"] == "已退款"
    statuses = set(knowledge.policies()["order_statuses"].values())
    assert all(o["status"] in statuses for o in orders.values())


def test_ticket_context_includes_notes(db):
    ticket = new_ticket("C002", "conv-notes")
    assert desk.add_note(ticket.id, "王客服", "已电话联系客户")
    context = desk.ticket_context(ticket.id)
    assert context["notes"] == [
        {"author": "王客服", "text": "已电话联系客户", "time": "2026-11-23T12:00:00+08:00"}
    ]


def test_ticket_context_of_an_anonymous_ticket(db):
    ticket = new_ticket(None, "conv-anon")
    context = desk.ticket_context(ticket.id)
    assert context["customer"] is None
    assert context["orders"] == []
    assert context["open_tickets"] == []
    assert context["ticket"]["conversation_id"] == "conv-anon"


def test_ticket_context_of_an_unknown_ticket_is_none(db):
    assert desk.ticket_context(999) is None


# ==================================================================== change ticket


def test_joining_assigns_the_ticket(db):
    ticket = new_ticket("C002", "conv-join")
    assert desk.change_ticket(ticket.id, "in_progress", "王客服") == {
        "conversation_id": "conv-join", "before": "open",
    }
    stored = load_ticket(ticket.id)
    assert (stored.status, stored.assigned_to, stored.closed_at) == ("in_progress", "王客服", None)
    assert [t.id for t in queue()] == [ticket.id]
    # Joining again reports that it was already in progress (no second notice).
    assert desk.change_ticket(ticket.id, "in_progress", "王客服")["before"] == "in_progress"


@pytest.mark.parametrize("status", ["closed", "handed_back"])
def test_finishing_a_ticket_closes_it_and_leaves_the_queue(db, status):
    ticket = new_ticket("C002", "conv-finish", NOW - timedelta(hours=2))
    desk.change_ticket(ticket.id, "in_progress", "王客服")
    changed = desk.change_ticket(ticket.id, status, "李客服")
    assert changed == {"conversation_id": "conv-finish", "before": "in_progress"}
    stored = load_ticket(ticket.id)
    assert stored.status == status
    assert stored.closed_at == NOW
    assert stored.assigned_to == "李客服"
    assert queue() == []
    assert desk.queue_snapshot() == []


def test_change_of_an_unknown_ticket_is_none(db):
    assert desk.change_ticket(404, "closed", "王客服") is None


def test_notes_are_kept_in_order(db, monkeypatch):
    ticket = new_ticket("C002", "conv-notes")
    other = new_ticket("C002", "conv-other")
    assert desk.add_note(ticket.id, "王客服", "第一条")
    monkeypatch.setattr(desk.deadlines, "utcnow", lambda: NOW + timedelta(minutes=5))
    assert desk.add_note(ticket.id, "李客服", "第二条")
    assert desk.add_note(other.id, "李客服", "别的工单")
    with session_scope() as session:
        notes = repository.tickets.ticket_notes(session=session, ticket_id=ticket.id)
        assert [(n.author, n.text) for n in notes] == [("王客服", "第一条"), ("李客服", "第二条")]
        assert notes[1].created_at - notes[0].created_at == timedelta(minutes=5)


def test_long_notes_are_truncated(db):
    ticket = new_ticket("C002", "conv-long")
    assert desk.add_note(ticket.id, "王客服", "长" * 3000)
    assert desk.ticket_context(ticket.id)["notes"][0]["text"] == "长" * 2000


def test_note_on_an_unknown_ticket_is_refused(db):
    assert desk.add_note(404, "王客服", "没有这个工单") is False
    with session_scope() as session:
        assert repository.tickets.ticket_notes(session=session, ticket_id=404) == []


def attended(conversation_id: str) -> bool:
    with session_scope() as session:
        return repository.tickets.attended_conversation(
            session=session, conversation_id=conversation_id)


def test_conversation_is_attended_only_while_in_progress(db):
    ticket = new_ticket("C002", "conv-att")
    new_ticket("C002", "conv-neighbour")
    assert not attended("conv-att")
    desk.change_ticket(ticket.id, "in_progress", "王客服")
    assert attended("conv-att")
    assert not attended("conv-neighbour")
    desk.change_ticket(ticket.id, "handed_back", "王客服")
    assert not attended("conv-att")
    assert not attended("nobody")


# ======================================================================= transcript


def stamp(moment: datetime) -> float:
    return moment.replace(tzinfo=timezone.utc).timestamp()


def test_transcript_lines():
    t = stamp(NOW)
    events = [
        ActionExecuted("action_session_start", timestamp=t),
        SlotSet("customer_id", "C001", timestamp=t),
        ActionExecuted("action_listen", timestamp=t),
        UserUttered("转人工", timestamp=t),
        BotUttered("好的，正在为您转接人工客服", timestamp=t + 1),
        BotUttered("客服王已加入对话", metadata={"notice": "staff_joined", "staff": "王"},
                   timestamp=t + 60),
        BotUttered("您好，我是客服王", metadata={"staff": "王"}, timestamp=t + 61),
        UserUttered(None, timestamp=t + 62),
        UserUttered("", timestamp=t + 62),
        BotUttered(None, data={"buttons": []}, timestamp=t + 63),
        UserUttered("谢谢", timestamp=t + 3600),
    ]
    assert tickets.transcript(events) == [
        {"sender": "user", "text": "转人工", "time": "2026-11-23T12:00:00+08:00"},
        {"sender": "bot", "text": "好的，正在为您转接人工客服",
         "time": "2026-11-23T12:00:01+08:00", "staff": None},
        {"sender": "notice", "text": "客服王已加入对话",
         "time": "2026-11-23T12:01:00+08:00", "staff": "王"},
        {"sender": "staff", "text": "您好，我是客服王",
         "time": "2026-11-23T12:01:01+08:00", "staff": "王"},
        {"sender": "user", "text": "谢谢", "time": "2026-11-23T13:00:00+08:00"},
    ]


def test_transcript_of_no_events_is_empty():
    assert tickets.transcript([]) == []
    assert tickets.transcript([ActionExecuted("action_listen"), SlotSet("x", 1)]) == []


# ================================================================== canned replies


def test_canned_replies_hold_the_file_groups_then_objection_groups():
    groups = desk.canned_replies()
    own = knowledge.load("canned_replies")["groups"]
    assert groups[: len(own)] == own
    extra = groups[len(own):]
    assert extra, "objection scripts without a product are offered too"
    playbook = knowledge.objections()
    type_names = {t["name"] for t in playbook["types"]}
    for group in extra:
        prefix, _, name = group["title"].partition(" · ")
        assert prefix == "异议处理" and name in type_names
        assert group["replies"]
        for reply in group["replies"]:
            assert "{" not in reply and "}" not in reply
    offered = {reply for group in extra for reply in group["replies"]}
    expected = {s["text"] for s in playbook["scripts"] if not s["needs_product"]}
    assert offered == expected
    assert all(group["replies"] and all(group["replies"]) for group in groups)


def test_canned_replies_do_not_change_the_cached_knowledge():
    before = len(knowledge.load("canned_replies")["groups"])
    desk.canned_replies()
    desk.canned_replies()
    assert len(knowledge.load("canned_replies")["groups"]) == before


# ========================================================================= ratings

def signed(session_id: str) -> Dict[str, str]:
    return {"session_id": session_id, "session_token": chat_sessions.signature(session_id)}


VALID = {**signed("session-0001"), "expected": 4, "perceived": 5}


@pytest.mark.parametrize(
    "body, expected",
    [
        (VALID, {"conversation_id": "session-0001", "expected": 4, "perceived": 5,
                 "comment": ""}),
        ({**VALID, "expected": "4", "perceived": "1"},
         {"conversation_id": "session-0001", "expected": 4, "perceived": 1, "comment": ""}),
        ({**VALID, "comment": "很满意"},
         {"conversation_id": "session-0001", "expected": 4, "perceived": 5, "comment": "很满意"}),
        ({**VALID, "comment": None},
         {"conversation_id": "session-0001", "expected": 4, "perceived": 5, "comment": ""}),
        ({**VALID, **signed("s" * 8), "expected": 1, "perceived": 5},
         {"conversation_id": "s" * 8, "expected": 1, "perceived": 5, "comment": ""}),
        ({**VALID, **signed("s" * 128), "expected": 5, "perceived": 1},
         {"conversation_id": "s" * 128, "expected": 5, "perceived": 1, "comment": ""}),
    ],
)
def test_parse_rating_valid(body, expected):
    assert parse_rating(body) == expected


def test_parse_rating_truncates_long_comments():
    assert parse_rating({**VALID, "comment": "好" * 5000})["comment"] == "好" * 2000


def without(key: str) -> Dict[str, Any]:
    return {k: v for k, v in VALID.items() if k != key}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(without("session_id"), id="no-session"),
        pytest.param({**VALID, "session_id": "short12"}, id="short-session"),
        pytest.param({**VALID, "session_id": "s" * 129}, id="long-session"),
        pytest.param({**VALID, "session_id": 123456789}, id="numeric-session"),
        pytest.param({**VALID, "expected": 0}, id="expected-0"),
        pytest.param({**VALID, "expected": 6}, id="expected-6"),
        pytest.param({**VALID, "expected": "abc"}, id="expected-abc"),
        pytest.param({**VALID, "expected": "0"}, id="expected-string-0"),
        pytest.param({**VALID, "expected": True}, id="expected-True"),
        pytest.param({**VALID, "expected": None}, id="expected-None"),
        pytest.param({**VALID, "expected": 3.5}, id="expected-float"),
        pytest.param({**VALID, "expected": -1}, id="expected-negative"),
        pytest.param(without("perceived"), id="no-perceived"),
        pytest.param({**VALID, "comment": 5}, id="comment-number"),
        pytest.param({**VALID, "comment": ["好"]}, id="comment-list"),
        pytest.param([VALID], id="body-list"),
        pytest.param(None, id="body-None"),
        pytest.param("session_id=session-0001", id="body-string"),
    ],
)
def test_parse_rating_invalid(body):
    with pytest.raises(ValueError):
        parse_rating(body)


@pytest.mark.parametrize("token", [None, "", "0" * 64, chat_sessions.signature("session-0002"),
                                   chat_sessions.signature("session-0001")[:-1] + "x", 12345])
def test_parse_rating_refuses_a_session_without_its_signature(token):
    """Only the browser the session was issued to holds the signature: knowing the id
    (from a log, a screenshot) is not enough to rate it."""
    with pytest.raises(PermissionError, match="本人"):
        parse_rating({**VALID, "session_token": token})


@pytest.mark.parametrize("score", ["²", "¹", "4.0", " 4", "", "六"])
def test_parse_rating_refuses_odd_strings_with_the_customer_facing_reason(score):
    with pytest.raises(ValueError, match="评分需为1到5分"):
        parse_rating({**VALID, "perceived": score})


def ratings() -> List[Rating]:
    with session_scope() as session:
        return list(session.execute(select(Rating).order_by(Rating.id)).scalars())


def test_store_rating_returns_the_satisfaction_index(db):
    assert store_rating(parse_rating({**VALID, "expected": 3, "perceived": 2,
                                      "comment": "还行"})) == 0.667
    assert store_rating(parse_rating({**VALID, **signed("session-0002"), "expected": 4,
                                      "perceived": 5})) == 1.25
    first, second = ratings()
    assert (first.conversation_id, first.channel, first.expected, first.perceived) == (
        "session-0001", "web", 3, 2,
    )
    assert (first.comment, first.human_involved, first.created_at) == ("还行", 0, NOW)
    assert (second.expected, second.perceived, second.comment) == (4, 5, "")


def test_a_conversation_is_rated_once(db):
    store_rating(parse_rating(VALID))
    with pytest.raises(AlreadyRated):
        store_rating(parse_rating({**VALID, "perceived": 1}))
    assert [r.perceived for r in ratings()] == [5]


@pytest.mark.parametrize(
    "status, human",
    [(None, 0), ("open", 0), ("in_progress", 1), ("handed_back", 1), ("closed", 1)],
)
def test_store_rating_records_whether_a_human_took_part(db, status, human):
    if status is not None:
        ticket = new_ticket("C002", "session-0001")
        if status != "open":
            desk.change_ticket(ticket.id, "in_progress", "王客服")
            desk.change_ticket(ticket.id, status, "王客服")
    # Staff joining another conversation does not count.
    desk.change_ticket(new_ticket("C002", "session-9999").id, "in_progress", "李客服")
    store_rating(parse_rating(VALID))
    [rating] = ratings()
    assert rating.human_involved == human


# ==================================================================== static files


@pytest.mark.parametrize("name", ["widget.js", "console.html", "chat.css", "demo.html"])
def test_static_file_serves_files_of_the_folder(name):
    path = static_file(name)
    assert path is not None and path.is_file()
    assert path == (STATIC_DIR / name).resolve()


@pytest.mark.parametrize(
    "name",
    [
        "../../domain.yml",
        "/etc/passwd",
        "vendor/../../../actions/config.py",
        "../static/../../../domain.yml",
        "missing.js",
        "vendor",  # a folder, not a file
        "",
        ".",
    ],
)
def test_static_file_refuses_anything_else(name):
    assert static_file(name) is None


def test_static_file_allows_dot_segments_that_stay_inside():
    assert static_file("vendor/../widget.js") == (STATIC_DIR / "widget.js").resolve()


# ================================================================= follow-up ticket


def test_record_followup_opens_one_ticket_and_reuses_it(db):
    number = record_followup("conv-down", "风尊多少钱")
    assert number and number.startswith("TK20261123")
    assert record_followup("conv-down", "还在吗") == number
    with session_scope() as session:
        [ticket] = repository.tickets.open_tickets(session=session, conversation_id="conv-down")
        assert repository.tickets.count_tickets(session=session, conversation_id="conv-down") == 1
    assert ticket.kind == "handoff"
    assert ticket.status == "open"
    assert handoff_reason("system_failure") in ticket.summary
    assert ticket.detail == "风尊多少钱"  # the first message, not overwritten
    assert ticket.respond_due == datetime(2026, 11, 23, 21, 0) - SHANGHAI
    # It reaches the console's queue.
    assert [view["number"] for view in desk.queue_snapshot()] == [number]


def test_record_followup_after_the_ticket_was_closed_opens_a_new_one(db):
    first = record_followup("conv-down", "第一次")
    [ticket] = queue()
    desk.change_ticket(ticket.id, "closed", "王客服")
    second = record_followup("conv-down", "第二次")
    assert second != first
    assert [t.number for t in queue()] == [second]


def test_record_followup_for_another_conversation_is_separate(db):
    assert record_followup("conv-a", "x") != record_followup("conv-b", "x")


# ============================================================ staff presence window


@pytest.mark.parametrize(
    "seen_ago, response",
    [(0, "utter_handoff"), (90, "utter_handoff"), (91, "utter_handoff_no_staff")],
)
def test_handoff_counts_staff_seen_within_the_window(db, domain, dispatcher, seen_ago, response):
    seen = NOW - timedelta(seconds=seen_ago)
    with session_scope() as session:
        repository.staff.touch_staff(session=session, name="王客服", now=seen)
    tracker = make_tracker(domain, text="转人工", intent="request_human",
                           conversation_id="conv-window")
    run_action(ActionHandoff(), dispatcher, tracker, domain)
    assert responses(dispatcher) == [response]


def test_polling_the_queue_makes_staff_count_as_online(db, domain, dispatcher):
    desk.queue_snapshot("王客服")
    tracker = make_tracker(domain, text="转人工", intent="request_human",
                           conversation_id="conv-poll")
    run_action(ActionHandoff(), dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_handoff"]


# ================================================================= guard, paused


@pytest.fixture
def staff_feed(monkeypatch: pytest.MonkeyPatch) -> List[Tuple[str, Optional[Dict[str, Any]]]]:
    """Records what the guard pushes to the consoles."""
    pushed: List[Tuple[str, Optional[Dict[str, Any]]]] = []

    async def to_staff(event: str, data: Optional[Dict[str, Any]] = None) -> None:
        pushed.append((event, data))

    monkeypatch.setattr(live, "to_staff", to_staff)
    return pushed


UPDATED = ("conversation_updated", {"conversation_id": "u1"})


def test_guard_paused_and_joined_sends_no_waiting_note(db, staff_feed):
    ticket = new_ticket("C002", "u1")  # the fake agent's conversation
    desk.change_ticket(ticket.id, "in_progress", "王客服")
    agent = fake_agent(paused=True)
    assert said(send(Handler(), "人呢？", agent)) == []
    assert staff_feed == [UPDATED]
    assert agent.tracker_store.asked == ["u1"]


@pytest.mark.parametrize(
    "tickets",
    [
        pytest.param([], id="no-ticket"),
        pytest.param([("u1", "open")], id="ticket-waiting"),
        pytest.param([("u1", "handed_back")], id="ticket-handed-back"),
        pytest.param([("someone-else", "in_progress")], id="other-conversation-joined"),
    ],
)
def test_guard_paused_and_nobody_joined_sends_the_waiting_note(db, staff_feed, tickets):
    for conversation_id, status in tickets:
        ticket = new_ticket("C002", conversation_id)
        if status != "open":
            desk.change_ticket(ticket.id, "in_progress", "王客服")
            desk.change_ticket(ticket.id, status, "王客服")
    assert said(send(Handler(), "人呢？", fake_agent(paused=True))) == ["WAIT-FROM-DOMAIN"]
    assert staff_feed == [UPDATED]


def test_guard_paused_with_an_unreadable_database_still_reassures(staff_feed):
    # No `db` fixture: the data layer has no tables, so the check fails → not attended.
    assert said(send(Handler(), "人呢？", fake_agent(paused=True))) == ["WAIT-FROM-DOMAIN"]
    assert staff_feed == [UPDATED]


def test_guard_paused_but_answered_pushes_nothing(db, staff_feed):
    handler = Handler(replies=[{"text": "客服回复"}])
    assert said(send(handler, "你好", fake_agent(paused=True))) == ["客服回复"]
    assert staff_feed == []


def test_guard_not_paused_pushes_no_conversation_update(db, staff_feed):
    assert said(send(Handler(), "在吗", fake_agent(paused=False))) == ["SORRY-FROM-DOMAIN"]
    assert staff_feed == []
