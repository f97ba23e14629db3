"""Every custom action against the seeded in-memory database and the real domain."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

import pytest
from conftest import (
    NOW,
    entity,
    make_memory_engine,
    make_tracker,
    render,
    responses,
    run_action,
    slot_events,
    texts,
    user_event,
)
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.orm import Session

from actions.complaints import (
    ActionAcknowledgeComplaint,
    ActionOpenComplaint,
    ValidateComplaintForm,
)
from actions.fallback import ActionFallback
from actions.handoff import ActionDeclineHuman, ActionHandoff
from actions.objections import ActionHandleObjection
from actions.orders import (
    ActionBeginOrderRequest,
    ActionCancelRequest,
    ActionReportOrder,
    ValidateOrderForm,
)
from actions.products import ActionAnswerProduct
from shop import deadlines, knowledge, order_text
from shop.db import repository
from shop.db.engine import use_engine
from shop.db.models import Base, Order, Ticket, VerificationFailure

SHANGHAI = timedelta(hours=8)
QUESTION_END = re.compile(r"[？?]$")
POLICIES = knowledge.policies()
RESET = {"order_no": None, "phone_last4": None, "form_failures": None, "service_kind": None,
         "verified_order": None, "verification_locked": None, "request_detail": None}


def tickets(engine, **where: Any) -> List[Ticket]:
    with Session(engine) as session:
        statement = select(Ticket).order_by(Ticket.id)
        for column, value in where.items():
            statement = statement.where(getattr(Ticket, column) == value)
        return list(session.execute(statement).scalars())


def paused(events: List[Dict[str, Any]]) -> bool:
    return any(e.get("event") == "pause" for e in events)


def shown(domain, dispatcher: CollectingDispatcher) -> str:
    """Everything the customer would read, rendered like Rasa's NLG would."""
    return "\n".join(render(domain, m) for m in dispatcher.messages)


# =========================================================== ValidateOrderForm


def form_tracker(domain, slot: str, value: Any, slots: Optional[Dict[str, Any]] = None):
    """The tracker the form sends after extracting `slot` from the customer's message."""
    events = [
        user_event(str(value), "inform"),
        {"event": "slot", "timestamp": None, "name": slot, "value": value},
    ]
    return make_tracker(
        domain,
        slots={**(slots or {}), slot: value, "requested_slot": slot},
        text=str(value),
        intent="inform",
        events=events,
        active_loop="order_form",
    )


def validate(domain, slot: str, value: Any, **slots: Any):
    dispatcher = CollectingDispatcher()
    events = run_action(ValidateOrderForm(), dispatcher, form_tracker(domain, slot, value, slots),
                        domain)
    return dispatcher, slot_events(events)


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("DD202611200001", "DD202611200001"),
        ("dd202611200001", "DD202611200001"),
        ("订单号是 dd202611180002 麻烦查一下", "DD202611180002"),
        ("DD202609010003。", "DD202609010003"),
        # from_text slots carry the raw text, full-width input included.
        ("ＤＤ２０２６１１２００００１", "DD202611200001"),
    ],
)
def test_order_no_valid(db, domain, typed, stored):
    dispatcher, slots = validate(domain, "order_no", typed)
    assert slots["order_no"] == stored
    assert slots["form_failures"] == 0  # the phone check starts with fresh attempts
    assert dispatcher.messages == []
    assert "requested_slot" not in slots  # Rasa asks for the next slot itself


@pytest.mark.parametrize(
    "typed",
    [
        "DD2026'; DROP TABLE orders;--",
        "<script>alert(1)</script>",
        "DD2026112",
        "12345678901234",
        "我忘了",
        "' OR '1'='1",
        "",
        "D" * 5000,
    ],
)
def test_order_no_invalid_input_is_refused_safely(db, domain, typed):
    dispatcher, slots = validate(domain, "order_no", typed)
    assert slots["order_no"] is None
    assert slots["form_failures"] == 1
    assert responses(dispatcher) == ["utter_order_no_invalid"]
    assert set(inspect(db).get_table_names()) >= {"orders", "customers", "tickets"}
    with Session(db) as session:
        assert session.execute(select(func.count()).select_from(Order)).scalar_one() == 100


def test_order_no_unknown_but_well_formed_is_not_told_apart(db, domain):
    """Whether an order exists is never told before the phone digits: an unknown
    number is taken like a real one, and the digits fail with the same words."""
    dispatcher, slots = validate(domain, "order_no", "DD209912319999")
    assert slots == {"order_no": "DD209912319999", "form_failures": 0}
    assert dispatcher.messages == []
    unknown, unknown_slots = validate(domain, "phone_last4", "8001", order_no="DD209912319999")
    wrong, wrong_slots = validate(domain, "phone_last4", "1234", order_no="DD202611200001")
    assert responses(unknown) == responses(wrong) == ["utter_verification_failed"]
    assert unknown_slots == wrong_slots == {"phone_last4": None, "form_failures": 1,
                                            "order_no": None}


@pytest.mark.parametrize("failures_before, speaks", [(0, True), (1, True), (2, False)])
def test_failures_count_up_then_the_form_gives_up(db, domain, failures_before, speaks):
    dispatcher, slots = validate(domain, "order_no", "abc", form_failures=failures_before)
    assert slots["form_failures"] == failures_before + 1
    max_attempts = POLICIES["verification"]["max_attempts"]
    assert bool(dispatcher.messages) is speaks
    if failures_before + 1 >= max_attempts:
        # No slot left to ask: the form deactivates and action_report_order explains.
        assert slots["requested_slot"] is None
    else:
        assert "requested_slot" not in slots


@pytest.mark.parametrize("failures, expected", [(0, ["order_no", "phone_last4"]),
                                                (2, ["order_no", "phone_last4"]),
                                                (3, []), (7, [])])
def test_required_slots_empty_after_max_attempts(domain, dispatcher, failures, expected):
    tracker = make_tracker(domain, slots={"form_failures": failures})
    action = ValidateOrderForm()
    required = asyncio.run(
        action.required_slots(["order_no", "phone_last4"], dispatcher, tracker, domain)
    )
    assert required == expected


def interrupted_form_turn(domain, text: str, intent: str):
    """The order form asked for the number; the message was classified as `intent`,
    so the domain's from_text mapping extracted nothing."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, slots={"requested_slot": "order_no"}, text=text,
                           intent=intent, active_loop="order_form")
    return dispatcher, slot_events(run_action(ValidateOrderForm(), dispatcher, tracker, domain))


@pytest.mark.parametrize("text", ["DD2026'; DROP TABLE orders;--", "dd2026 是这个吧",
                                  "ＤＤ２０２６<script>"])
def test_what_starts_like_an_order_number_is_checked_as_one(db, domain, text):
    dispatcher, slots = interrupted_form_turn(domain, text, "out_of_scope")
    assert slots == {"order_no": None, "form_failures": 1}
    assert responses(dispatcher) == ["utter_order_no_invalid"]


@pytest.mark.parametrize("text, intent", [
    ("这个多少钱", "ask_price"), ("算了 转人工", "request_human"), ("D区的快递点", "out_of_scope"),
])
def test_other_interruptions_are_left_to_the_rules(db, domain, text, intent):
    dispatcher, slots = interrupted_form_turn(domain, text, intent)
    assert "order_no" not in slots and "form_failures" not in slots
    assert dispatcher.messages == []


def test_after_max_attempts_nothing_is_validated(db, domain):
    dispatcher, slots = validate(domain, "order_no", "DD202611200001", form_failures=3)
    # Not validated (no identity, no failure counted); the form is told to stop.
    assert slots == {"requested_slot": None}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "typed, outcome",
    [
        ("8001", "ok"),
        ("尾号8001", "ok"),
        ("13800138001", "ok"),
        ("138 0013 8001", "ok"),
        ("１３８００１３８００１", "ok"),  # full-width digits are digits too
        ("1234", "mismatch"),
        ("800", "malformed"),
        ("80011", "malformed"),
        ("13900139002", "mismatch"),  # another customer's phone
        ("不告诉你", "malformed"),
        ("<script>8001</script>", "ok"),  # only the digits count
    ],
)
def test_phone_last4(db, domain, typed, outcome):
    dispatcher, slots = validate(domain, "phone_last4", typed, order_no="DD202611200001")
    if outcome == "ok":
        assert slots["phone_last4"] == "8001"
        assert slots["verified_order"].startswith("DD202611200001|2026-11-23")
        assert dispatcher.messages == []
    else:
        assert slots["phone_last4"] is None
        assert slots["form_failures"] == 1
        assert "verified_order" not in slots
        assert responses(dispatcher) == ["utter_verification_failed"]
        # A mismatch asks for the number again too; only mismatches are counted.
        assert ("order_no" in slots) is (outcome == "mismatch")
    assert failures_recorded(db) == (1 if outcome == "mismatch" else 0)


def test_phone_last4_without_order_no_fails(db, domain):
    dispatcher, slots = validate(domain, "phone_last4", "8001")
    assert slots["phone_last4"] is None
    assert responses(dispatcher) == ["utter_verification_failed"]


def test_validation_with_database_down_does_not_count_a_failure(domain, down_db):
    dispatcher, slots = validate(domain, "phone_last4", "8001", form_failures=1,
                                 order_no="DD202611200001")
    assert slots["phone_last4"] is None
    assert "form_failures" not in slots
    assert responses(dispatcher) == ["utter_service_unavailable"]


VERIFIED = {"event": "slot", "timestamp": None, "name": "verified_order",
            "value": "DD202611200001|2026-11-23 12:00"}


def failures_recorded(db) -> int:
    with Session(db) as session:
        return session.execute(select(func.count()).select_from(VerificationFailure)).scalar_one()


def attempt(domain, order_no: str, digits: str, client: str = "203.0.113.7",
            sender: str = "attacker"):
    """One phone check from a new conversation (a fresh sender id each time)."""
    events = [
        {**user_event(digits, "inform"), "metadata": {"client": client}},
        {"event": "slot", "timestamp": None, "name": "phone_last4", "value": digits},
    ]
    tracker = make_tracker(domain, slots={"order_no": order_no, "phone_last4": digits,
                                          "requested_slot": "phone_last4"},
                           text=digits, intent="inform", events=events,
                           active_loop="order_form", conversation_id=sender)
    dispatcher = CollectingDispatcher()
    return dispatcher, slot_events(run_action(ValidateOrderForm(), dispatcher, tracker, domain))


def test_an_order_is_locked_after_its_failures_across_conversations(db, domain, clock):
    """A new sender id or a valid order in between resets nothing: the 10 failures of
    one order number within 24 h are counted in the shared database."""
    limit = POLICIES["verification"]["per_order_limit"]
    for n in range(limit):
        attempt(domain, "DD202611200001", f"{n:04d}", client=f"198.51.100.{n}",
                sender=f"s{n}")
        attempt(domain, "DD202611180002", "0000", client=f"198.51.100.{n}", sender=f"t{n}")
    # Even the right digits are refused now, from yet another sender and address.
    dispatcher, slots = attempt(domain, "DD202611200001", "8001", client="192.0.2.1",
                                sender="owner")
    assert responses(dispatcher) == ["utter_order_locked"]
    assert slots["verification_locked"] == "DD202611200001"
    assert slots["form_failures"] == POLICIES["verification"]["max_attempts"]
    assert "verified_order" not in slots
    assert failures_recorded(db) == 2 * limit  # a refusal is not a new failure


def test_failures_older_than_the_window_do_not_count(db, domain, clock, monkeypatch):
    limit = POLICIES["verification"]["per_order_limit"]
    for n in range(limit):
        attempt(domain, "DD202611200001", "0000", client=f"198.51.100.{n}", sender=f"s{n}")
    later = clock + timedelta(hours=POLICIES["verification"]["window_hours"], minutes=1)
    monkeypatch.setattr(deadlines, "utcnow", lambda: later)
    _, slots = attempt(domain, "DD202611200001", "8001", sender="owner")
    assert slots["phone_last4"] == "8001"


def test_a_client_address_is_locked_after_its_failures_on_any_orders(db, domain, clock):
    limit = POLICIES["verification"]["per_client_limit"]
    for n in range(limit):
        attempt(domain, f"DD2026112{n:05d}", "0000", sender=f"s{n}")
    dispatcher, slots = attempt(domain, "DD202611200001", "8001", sender="next")
    assert responses(dispatcher) == ["utter_order_locked"]
    assert slots["verification_locked"] == "client"
    # Another address is not affected.
    _, slots = attempt(domain, "DD202611200001", "8001", client="192.0.2.1", sender="owner")
    assert slots["phone_last4"] == "8001"


@pytest.mark.parametrize("locked, said", [("DD202611200001", "订单DD202611200001的自助查询已锁定"),
                                           ("client", "网络地址")])
def test_a_locked_check_goes_to_a_human_who_sees_why(db, staff_online, domain, dispatcher,
                                                     locked, said):
    tracker = make_tracker(domain, slots={"order_no": "DD202611200001",
                                          "verification_locked": locked, "form_failures": 3})
    events = run_action(ActionReportOrder(), dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_handoff"] and paused(events)
    [ticket] = tickets(db)
    assert said in ticket.summary and ticket.customer_id is None
    assert slot_events(events)["verification_locked"] is None


def test_staff_see_which_order_was_verified_and_when(db, staff_online, domain, dispatcher):
    events = [
        user_event("查订单", "order_status"),
        {"event": "slot", "timestamp": None, "name": "verified_order",
         "value": "DD202611200001|2026-11-23 12:00"},
        {"event": "session_started", "timestamp": None},
        user_event("转人工", "request_human"),
    ]
    tracker = make_tracker(domain, text="转人工", intent="request_human", events=events[:2]
                           + events[3:])
    run_action(ActionHandoff(), dispatcher, tracker, domain)
    [ticket] = tickets(db)
    assert "已核实订单DD202611200001（2026-11-23 12:00）" in ticket.summary
    assert ticket.customer_id == "C001"  # the owner of the order verified in this session


def test_a_verification_never_carries_into_a_new_session(db, staff_online, domain, dispatcher):
    events = [
        {"event": "slot", "timestamp": None, "name": "verified_order",
         "value": "DD202611200001|2026-11-23 12:00"},
        {"event": "session_started", "timestamp": None},
        user_event("转人工", "request_human"),
    ]
    tracker = make_tracker(domain, text="转人工", intent="request_human", events=events,
                           slots={"verified_order": "DD202611200001|2026-11-23 12:00"})
    run_action(ActionHandoff(), dispatcher, tracker, domain)
    [ticket] = tickets(db)
    assert "已核实" not in ticket.summary


def test_the_form_end_clears_the_identity(db, domain, dispatcher):
    tracker = make_tracker(domain, slots={"order_no": "DD202611200001", "phone_last4": "8001",
                                          "verified_order": "DD202611200001|t"})
    events = slot_events(run_action(ActionReportOrder(), dispatcher, tracker, domain))
    assert events["verified_order"] is None and events["phone_last4"] is None


# ========================================================= order request actions


@pytest.mark.parametrize(
    "intent, kind, explains",
    [
        ("order_status", "status", None),
        ("return_refund", "return", POLICIES["returns"]["explain"]),
        ("after_sales", "repair", POLICIES["after_sales"]["explain"]),
        (None, "status", None),
    ],
)
def test_begin_order_request(domain, dispatcher, intent, kind, explains):
    tracker = make_tracker(domain, text="我的订单", intent=intent)
    events = run_action(ActionBeginOrderRequest(), dispatcher, tracker, domain)
    # A return or repair keeps the request in the customer's words for its ticket; any
    # request forgets the words of an earlier one.
    kept = "我的订单" if kind in ("return", "repair") else None
    assert slot_events(events) == {"service_kind": kind, "form_failures": 0,
                                   "request_detail": kept}
    assert texts(dispatcher) == ([explains] if explains else [])


@pytest.mark.parametrize("text", ["保修呢", "那安装呢？"])
def test_a_fact_of_the_product_in_context_read_as_a_repair(db, domain, text):
    """格力云佳怎么样 → 保修呢 (after_sales 0.47 / ask_product 0.41): that product's
    fact, then listening, not the repair policy and the order form."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, slots={"product": "格力云佳空调"}, text=text,
                           intent="after_sales")
    events = run_action(ActionBeginOrderRequest(), dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_product_fact"]
    assert dispatcher.messages[0]["name"] == "格力云佳空调"
    assert {"event": "followup", "timestamp": None, "name": "action_listen"} in events
    assert "service_kind" not in slot_events(events)


@pytest.mark.parametrize("text, slots", [
    ("我的空调坏了能保修吗", {"product": "格力云佳空调"}),  # a fault: the repair
    ("保修呢", {}),  # no product: the policy and the form
])
def test_a_repair_stays_a_repair(db, domain, text, slots):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, slots=slots, text=text, intent="after_sales")
    events = run_action(ActionBeginOrderRequest(), dispatcher, tracker, domain)
    assert slot_events(events) == {"service_kind": "repair", "form_failures": 0,
                                   "request_detail": text}
    assert texts(dispatcher) == [POLICIES["after_sales"]["explain"]]


def test_a_button_starting_a_repair_is_no_detail_and_forgets_an_earlier_one(db, domain):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, slots={"request_detail": "上次那台冰箱不制冷"},
                           text="/after_sales", intent="after_sales")
    events = run_action(ActionBeginOrderRequest(), dispatcher, tracker, domain)
    assert slot_events(events)["request_detail"] is None


@pytest.mark.parametrize("kind", ["repair", "return", "price_diff"])
def test_a_problem_told_instead_of_the_order_number_is_kept(db, domain, kind):
    """米家S10边刷掉了 while the number is asked for: more about the problem, kept for
    the ticket; not "the number's format is wrong"."""
    dispatcher, slots = validate(domain, "order_no", "米家S10边刷掉了", service_kind=kind,
                                 request_detail="扫地机器人坏了")
    assert responses(dispatcher) == ["utter_order_detail_noted"]
    assert slots["order_no"] is None and slots["form_failures"] == 1  # still counts
    assert slots["request_detail"] == "扫地机器人坏了\n米家S10边刷掉了"


def test_a_long_problem_is_kept_cut_to_its_limit(db, domain):
    _, slots = validate(domain, "order_no", "边刷掉了" * 400, service_kind="repair")
    assert slots["request_detail"] == ("边刷掉了" * 400)[:order_text.DETAIL_LIMIT]


@pytest.mark.parametrize("typed, kind", [
    ("米家S10边刷掉了", "status"),  # a status query opens no ticket to keep it for
    ("DD2026 边刷掉了", "repair"),  # starts like a number: checked as one
    ("单号202611180002", "repair"),  # digits: an attempt without the DD
    ("S10", "repair"),  # no words
])
def test_what_is_not_a_problem_told_is_a_bad_number(db, domain, typed, kind):
    dispatcher, slots = validate(domain, "order_no", typed, service_kind=kind)
    assert responses(dispatcher) == ["utter_order_no_invalid"]
    assert "request_detail" not in slots


def report(domain, order_no: Optional[str], kind: Optional[str], phone: Optional[str] = "8001",
           conversation_id: Optional[str] = None):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        domain,
        slots={"order_no": order_no, "phone_last4": phone, "service_kind": kind,
               "customer_id": "C001", "looked_up": ["EP-SN-XM5"]},
        conversation_id=conversation_id,
    )
    events = run_action(ActionReportOrder(), dispatcher, tracker, domain)
    return dispatcher, events


def test_report_status_in_transit(db, domain):
    dispatcher, events = report(domain, "DD202611200001", "status")
    assert responses(dispatcher) == ["utter_order_status", "utter_order_shipping"]
    text = shown(domain, dispatcher)
    assert "DD202611200001" in text
    assert POLICIES["order_statuses"]["in_transit"] in text
    assert "顺丰速运" in text and "SF6526564608396" in text
    assert "索尼WH-1000XM5耳机×1" in text
    assert "{" not in text
    slots = slot_events(events)
    assert {k: slots[k] for k in RESET} == RESET
    assert slots["looked_up"] == ["EP-SN-XM5", "DD202611200001"]
    assert tickets(db) == []


def test_report_status_delivered_tells_when(db, domain):
    dispatcher, _ = report(domain, "DD202611180002", "status")
    assert responses(dispatcher) == [
        "utter_order_status",
        "utter_order_shipping",
        "utter_order_delivered",
    ]
    delivered_local = NOW - timedelta(days=1, minutes=10) + SHANGHAI
    assert f"{delivered_local.month}月{delivered_local.day}日 {delivered_local:%H:%M}" in shown(
        domain, dispatcher
    )


def test_report_status_pending_payment(db, domain):
    dispatcher, _ = report(domain, "DD202611230004", None)
    assert responses(dispatcher) == ["utter_order_status"]
    assert "待付款" in shown(domain, dispatcher)


@pytest.mark.parametrize(
    "order_no, response, reason",
    [
        ("DD202611180002", "utter_return_ticket", "no_reason"),  # delivered a day ago
        ("DD202611150318", "utter_return_ticket", "no_reason"),  # 6 days
        ("DD202611131906", "utter_return_ticket", "fault_exchange"),  # 8 days
        ("DD202611070544", "utter_return_ticket", "fault_exchange"),  # 14 days
        ("DD202611060133", "utter_return_expired", None),  # 15 days and 10 minutes
        ("DD202609010003", "utter_return_expired", None),  # 58 days
        ("DD202611230004", "utter_return_not_delivered", None),  # pending payment
        ("DD202611200255", "utter_return_not_delivered", None),  # shipped
        ("DD202611200001", "utter_return_not_delivered", None),  # in transit
        ("DD202611212498", "utter_return_closed", None),  # cancelled
        ("DD202611200751", "utter_return_closed", None),  # refunding
        ("DD202608292360", "utter_return_closed", None),  # refunded
    ],
)
def test_report_return(db, domain, order_no, response, reason):
    dispatcher, events = report(domain, order_no, "return", conversation_id="conv-return")
    assert responses(dispatcher) == [response]
    text = shown(domain, dispatcher)
    assert "{" not in text
    opened = tickets(db, kind="return")
    if reason is None:
        assert opened == []
        return
    days = {"no_reason": POLICIES["returns"]["no_reason_days"],
            "fault_exchange": POLICIES["returns"]["fault_exchange_days"]}[reason]
    expected_reason = POLICIES["returns"]["reasons"][reason].format(days=days)
    [ticket] = opened
    assert ticket.order_no == order_no
    assert ticket.conversation_id == "conv-return"
    assert ticket.number in text
    assert expected_reason in text and expected_reason in ticket.summary
    assert ticket.resolve_due == NOW + timedelta(hours=48)
    assert "11月23日 21:00" in text  # respond before sunset, local time
    assert "11月25日 12:00" in text  # resolve within 48 h


def test_return_expired_says_the_window(db, domain):
    dispatcher, _ = report(domain, "DD202609010003", "return")
    assert dispatcher.messages[0]["days"] == POLICIES["returns"]["fault_exchange_days"]


def test_return_ticket_priority_from_the_order_customer(db, domain):
    report(domain, "DD202611070544", "return")  # C015, tier A
    [ticket] = tickets(db)
    assert (ticket.customer_id, ticket.priority) == ("C015", 1)


def test_report_repair_in_warranty(db, domain):
    dispatcher, _ = report(domain, "DD202611180002", "repair", conversation_id="conv-repair")
    assert responses(dispatcher) == ["utter_repair_ticket"]
    [ticket] = tickets(db)
    assert (ticket.kind, ticket.order_no, ticket.customer_id) == (
        "repair",
        "DD202611180002",
        "C001",
    )
    assert ticket.callback_due == NOW + timedelta(hours=72 + 48)
    text = shown(domain, dispatcher)
    assert ticket.number in text
    assert POLICIES["after_sales"]["warranty_states"]["in_warranty"] in text


def test_a_repair_ticket_carries_the_problem_in_the_customers_words(db, domain):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, slots={
        "order_no": "DD202611180002", "phone_last4": "8001", "service_kind": "repair",
        "request_detail": "扫地机器人坏了\n米家S10边刷掉了"})
    run_action(ActionReportOrder(), dispatcher, tracker, domain)
    [ticket] = tickets(db)
    assert ticket.detail == "扫地机器人坏了\n米家S10边刷掉了"


def test_report_repair_out_of_warranty(db, domain, monkeypatch):
    # Two years later the 12-month headphones are out of warranty.
    monkeypatch.setattr(deadlines, "utcnow", lambda: NOW + timedelta(days=730))
    dispatcher, _ = report(domain, "DD202611200001", "repair")
    out = POLICIES["after_sales"]["warranty_states"]["out_of_warranty"]
    assert out in shown(domain, dispatcher)
    assert out in tickets(db)[0].summary


@pytest.mark.parametrize(
    "order_no, phone",
    [(None, None), ("DD202611200001", None), (None, "8001")],
)
def test_report_without_verification_gives_up_politely(db, domain, order_no, phone):
    dispatcher, events = report(domain, order_no, "return", phone=phone)
    assert responses(dispatcher) == ["utter_too_many_attempts"]
    slots = slot_events(events)
    assert slots["human_offered"] is True
    assert {k: slots[k] for k in RESET} == RESET
    assert tickets(db) == []


def test_report_order_vanished(db, domain):
    dispatcher, events = report(domain, "DD209901019999", "status")
    assert responses(dispatcher) == ["utter_order_not_found"]
    assert slot_events(events) == RESET


def test_cancel_request(domain, dispatcher):
    tracker = make_tracker(domain, slots={"order_no": "DD202611200001"}, active_loop="order_form")
    events = run_action(ActionCancelRequest(), dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_request_cancelled"]
    assert {"event": "active_loop", "timestamp": None, "name": None} in events
    slots = slot_events(events)
    assert slots["requested_slot"] is None
    assert {k: slots[k] for k in RESET} == RESET


# ============================================================ ActionAnswerProduct


def ask_product(domain, text: str, intent: str = "ask_product",
                entities: Optional[List[Dict[str, Any]]] = None, **slots: Any):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, slots=slots, text=text, intent=intent, entities=entities)
    events = run_action(ActionAnswerProduct(), dispatcher, tracker, domain)
    return dispatcher, events


def test_product_price(db, domain):
    text = "美的风尊空调多少钱"
    dispatcher, events = ask_product(
        domain, text, "ask_price", [entity("product", "美的风尊空调", text)]
    )
    assert responses(dispatcher) == ["utter_product_price"]
    message = dispatcher.messages[0]
    assert message["price"].replace(",", "") == "2999"
    assert message["name"] == "美的风尊空调"
    assert message["warranty"] == "整机保修6年，压缩机保修10年，免费上门安装"
    assert message["stock_state"] == POLICIES["stock_states"]["in_stock"]
    slots = slot_events(events)
    assert slots["product"] == "美的风尊空调"
    assert "AC-MD-15" in slots["looked_up"]


def test_product_detail(db, domain):
    text = "xm5降噪怎么样"
    dispatcher, _ = ask_product(domain, text, "ask_product",
                                [entity("product", "索尼WH-1000XM5耳机", text)])
    assert responses(dispatcher) == ["utter_product_detail"]
    rendered = shown(domain, dispatcher)
    for fact in ("索尼WH-1000XM5耳机", "索尼耳机", "主动降噪", "30小时", "整机保修1年"):
        assert fact in rendered
    assert dispatcher.messages[0]["price"].replace(",", "") == "2299"


@pytest.mark.parametrize(
    "name, state",
    [
        ("海尔静悦空调", POLICIES["stock_states"]["out_of_stock"]),
        ("索尼X90L电视", POLICIES["stock_states"]["low"].format(stock=3)),
        ("格力云锦柜机", POLICIES["stock_states"]["low"].format(stock=8)),
        ("华为FreeBuds Pro 2耳机", POLICIES["stock_states"]["in_stock"]),
    ],
)
def test_product_stock_state(db, domain, name, state):
    dispatcher, _ = ask_product(domain, name, "ask_price", [entity("product", name, name)])
    assert dispatcher.messages[0]["stock_state"] == state


def test_product_follow_up_uses_the_slot(db, domain):
    dispatcher, events = ask_product(domain, "那多少钱", "ask_price", product="格力云佳空调")
    assert responses(dispatcher) == ["utter_product_price"]
    assert dispatcher.messages[0]["price"].replace(",", "") == "2699"
    assert slot_events(events)["product"] == "格力云佳空调"


@pytest.mark.parametrize(
    "found, expected",
    [
        ([("brand", "格力")], ["格力云佳空调", "格力云锦柜机"]),
        ([("brand", "格力"), ("category", "空调")], ["格力云佳空调", "格力云锦柜机"]),
        ([("category", "耳机")], ["华为FreeBuds Pro 2耳机", "索尼WH-1000XM5耳机"]),
        ([("brand", "小米")], ["米家扫拖机器人S10", "小米电视A55", "小米滚筒洗衣机", "小米14"]),
    ],
)
def test_product_candidates(db, domain, found, expected):
    text = "".join(value for _, value in found) + "有哪些"
    # A category entity has set its slot before the action runs (domain.yml mapping).
    slots = {k: v for k, v in found if k == "category"}
    dispatcher, events = ask_product(domain, text, "ask_product",
                                     [entity(k, v, text) for k, v in found], **slots)
    assert responses(dispatcher) == ["utter_product_candidates"]
    message = dispatcher.messages[0]
    listed = re.findall(r"· (.+?)  ([\d,]+)元", message["candidates"])
    assert [name for name, _ in listed] == expected  # cheapest first
    prices = {p["name"]: p["price"] for p in knowledge.catalogue()["products"]}
    assert all(int(price.replace(",", "")) == prices[name] for name, price in listed)
    assert message["scope"] == "".join(value for _, value in found)
    assert events == []


def test_product_brand_with_one_product_answers_directly(db, domain):
    dispatcher, events = ask_product(domain, "科沃斯", "ask_product", [entity("brand", "科沃斯")])
    assert responses(dispatcher) == ["utter_product_detail"]
    assert slot_events(events)["product"] == "科沃斯X2扫地机器人"


@pytest.mark.parametrize("name", ["苹果手机", "戴森吸尘器", "戴森吹风机", "电饭煲"])
def test_product_not_sold(db, domain, name):
    dispatcher, events = ask_product(domain, "iPhone有吗", "ask_product",
                                     [entity("product", name)])
    assert responses(dispatcher) == ["utter_product_not_sold"]
    message = dispatcher.messages[0]
    assert message["product"] == name
    assert "空调" in message["categories"] and "手机" in message["categories"]
    assert events == []


@pytest.mark.parametrize("text, thing", [
    ("你们卖电动车吗", "电动车"), ("卖不卖热水器", "热水器"), ("店里有卖自行车么", "自行车"),
    ("帮我推荐一款跑步鞋", "跑步鞋"), ("推荐几款跑步机吧", "跑步机"),
])
def test_something_outside_the_catalogue_is_not_sold(db, domain, text, thing):
    dispatcher, events = ask_product(domain, text, product="美的风尊空调")
    assert responses(dispatcher) == ["utter_product_not_sold"]
    assert dispatcher.messages[0]["product"] == thing and events == []


@pytest.mark.parametrize("text", ["这个卖多少钱", "有没有黑色", "这款卖得好吗", "风尊卖完了吗",
                                  "推荐一款省电的", "推荐个适合学生用", "推荐一款静音",
                                  "推荐一款变频", "推荐一款空调", "推荐一款性价比高"])
def test_other_questions_with_sell_words_are_not_refused(db, domain, text):
    dispatcher, _ = ask_product(domain, text, product="美的风尊空调")
    assert responses(dispatcher) != ["utter_product_not_sold"]


def test_a_known_unsold_thing_is_offered_what_we_sell_instead(db, domain):
    dispatcher, _ = ask_product(domain, "有卖iPhone吗", entities=[entity("product", "苹果手机")])
    assert responses(dispatcher) == ["utter_product_not_sold"]
    assert dispatcher.messages[0]["instead"] == "手机我们有：华为nova12、小米14、华为Mate60。"
    assert "没有销售苹果手机。手机我们有" in shown(domain, dispatcher)
    # Every category a button, the one in the thing's area first.
    buttons = dispatcher.messages[0]["buttons"]
    assert buttons[0] == {"title": "手机", "payload": '/ask_product{"category": "手机"}'}
    assert {b["title"] for b in buttons} == set(dispatcher.messages[0]["categories"].split("、"))


def test_a_thing_named_alone_that_we_do_not_sell_is_said_by_its_own_name(db, domain):
    """戴森吹风机 had got "没有销售戴森吸尘器" and the robot vacuums; 苏泊尔电饭煲 "please
    rephrase". A thing with no category of ours gets our categories alone."""
    for text, name in (("戴森吹风机", "戴森吹风机"), ("苏泊尔电饭煲", "电饭煲")):
        dispatcher, _ = ask_product(domain, text, "inform", [entity("product", name)])
        assert responses(dispatcher) == ["utter_product_not_sold"]
        said = shown(domain, dispatcher)
        assert f"没有销售{name}。我们主营" in said and "扫地机器人我们有" not in said, said
        titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
        assert titles == dispatcher.messages[0]["categories"].split("、")


def test_a_brand_we_do_not_carry_is_not_the_product_in_context(db, domain):
    """冰箱 → 美的那款多大 → 容声的有吗: not 美的's details, but what we sell instead."""
    dispatcher, _ = ask_product(domain, "容声的有吗", entities=[entity("product", "容声冰箱")],
                                product="美的250升三门冰箱")
    assert responses(dispatcher) == ["utter_product_not_sold"]
    assert "没有销售容声冰箱。冰箱我们有：美的250升三门冰箱" in shown(domain, dispatcher)


def test_every_brand_we_do_not_carry_has_a_category_we_do(db, domain):
    with Session(db) as session:
        categories = set(repository.catalogue.list_categories(session=session))
    for entry in knowledge.catalogue()["not_sold"]:
        assert entry.get("instead") in categories | {None}, entry["name"]


def test_product_not_sold_next_to_a_sold_one_answers_the_sold_one(db, domain):
    dispatcher, _ = ask_product(domain, "苹果和小米14哪个好", "ask_product",
                                [entity("product", "苹果手机"), entity("product", "小米14")])
    assert responses(dispatcher) == ["utter_product_detail"]
    assert dispatcher.messages[0]["name"] == "小米14"


@pytest.mark.parametrize(
    "found", [[], [("brand", "格力"), ("category", "冰箱")], [("product", "不存在的商品")]]
)
def test_product_ask_which(db, domain, found):
    dispatcher, events = ask_product(domain, "有什么推荐", "ask_product",
                                     [entity(k, v) for k, v in found])
    assert responses(dispatcher) == ["utter_product_ask_which"]
    assert "冰箱" in dispatcher.messages[0]["categories"]
    assert events == []


@pytest.mark.parametrize("text, product, attribute, fact", [
    ("风尊机身多宽", "美的风尊空调", "尺寸", "宽89.5"),
    ("风尊晚上开着响不响", "美的风尊空调", "噪音", "18分贝"),
    ("云佳是国产的吗", "格力云佳空调", "产地", "广东珠海"),
    ("索尼电视哪里产的", "索尼X90L电视", "产地", "马来西亚进口"),
    ("买小米14送啥", "小米14", "赠品", "手机壳"),
    ("风尊一晚上几度电", "美的风尊空调", "功率和耗电", "3度电"),
    ("风尊保修几年", "美的风尊空调", "保修", "压缩机保修10年"),
    ("云锦柜机能效几级", "格力云锦柜机", "能效", "新一级能效"),
    ("云锦适合多大的房间", "格力云锦柜机", "适用面积", "30-45平方米"),
    ("冰箱安装要钱吗 西门子610", "西门子610升对开门冰箱", "安装", "不需要安装"),
    ("风尊安装收费吗", "美的风尊空调", "安装", "每米80元"),
    ("X90L还有现货吗", "索尼X90L电视", "库存", "仅剩3件"),
])
def test_product_facts_from_the_catalogue(db, domain, text, product, attribute, fact):
    dispatcher, events = ask_product(domain, text, "ask_product",
                                     [entity("product", product, text)])
    assert responses(dispatcher) == ["utter_product_fact"]
    message = dispatcher.messages[0]
    assert (message["name"], message["attribute"]) == (product, attribute)
    assert fact in message["value"]
    assert slot_events(events)["product"] == product


def test_a_fact_the_catalogue_lacks_is_not_made_up(db, domain):
    dispatcher, _ = ask_product(domain, "小米14噪音大吗", "ask_product",
                                [entity("product", "小米14")])
    assert responses(dispatcher) == ["utter_product_fact_unknown"]
    assert "转人工" in shown(domain, dispatcher)


def test_shipping_needs_no_product(db, domain):
    for intent in ("ask_price", "ask_product"):
        dispatcher, events = ask_product(domain, "邮费谁出", intent)
        assert responses(dispatcher) == ["utter_shop_fee"]
        assert "包邮" in dispatcher.messages[0]["value"] and events == []


def test_the_return_policy_asked_before_buying(db, domain):
    """这款支持七天无理由吗: the policy, once, for any product or none."""
    for text, product in (("支持七天无理由吗", None), ("这款支持7天无理由退货吗", "格力云佳空调")):
        dispatcher, events = ask_product(domain, text, "ask_product", product=product)
        assert responses(dispatcher) == ["utter_shop_fee"] and events == []
        told = shown(domain, dispatcher)
        assert told.startswith("退换：本店支持7天无理由退货") and told.endswith("原路退回。")
        assert "。。" not in told


def test_a_promotion_question_is_not_the_price_again(db, domain):
    """小米电视多少钱 → 有优惠吗: what is on offer, not the same price line."""
    for text in ("有优惠吗", "现在有什么活动", "有优惠券吗", "券能叠加吗", "可以用券吗"):
        dispatcher, events = ask_product(domain, text, "ask_price", product="小米电视A55")
        assert responses(dispatcher) == ["utter_shop_fee"] and events == [], text
        assert shown(domain, dispatcher).startswith("优惠：现在页面价就是到手价")
    # The price at the promotion is still the product's price.
    dispatcher, _ = ask_product(domain, "活动价多少", "ask_price", product="小米电视A55")
    assert responses(dispatcher) == ["utter_product_price"]


@pytest.mark.parametrize("text, told", [
    ("送货上门吗", "送货：空调、冰箱、洗衣机、电视等大家电由师傅送货上门"),
    ("怎么下单", "下单方式：在商品页选好型号和颜色"),
    ("在哪买", "下单方式："),
])
def test_delivery_and_ordering_are_told_for_any_product_or_none(db, domain, text, told):
    for product in (None, "小米电视A55"):
        dispatcher, events = ask_product(domain, text, "ask_price", product=product)
        assert responses(dispatcher) == ["utter_shop_fee"] and events == [], text
        assert shown(domain, dispatcher).startswith(told)


def test_a_room_after_a_category_list_chooses_within_it(db, domain):
    """我想买个空调 → 卧室用的 / 有啥推荐: the category shown, not "which category?"."""
    dispatcher, events = ask_product(domain, "卧室用的", category="空调")
    assert responses(dispatcher) == ["utter_product_candidates"]
    told = shown(domain, dispatcher)
    assert "格力云佳空调  2,699元（适用面积15-20平方米）" in told
    dispatcher, events = ask_product(domain, "有啥推荐", category="空调")
    assert responses(dispatcher) == ["utter_product_candidates"]
    told = shown(domain, dispatcher)
    assert "格力云佳空调" in told and "适用面积" not in told


def test_a_room_size_picks_the_products_that_suit_it(db, domain):
    dispatcher, events = ask_product(domain, "20平的房间用哪个", category="空调")
    assert responses(dispatcher) == ["utter_product_for_area"]
    told = shown(domain, dispatcher)
    assert told.startswith("20平米左右的房间，这几款空调合适")
    assert "美的风尊空调" in told and "格力云佳空调" in told and "云锦" not in told
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["格力云佳空调",
                                                                       "美的风尊空调"]
    dispatcher, events = ask_product(domain, "24平米的客厅呢", category="空调")
    assert responses(dispatcher) == ["utter_product_near_area"]
    assert "最接近的是" in shown(domain, dispatcher) and "美的风尊空调" in shown(domain, dispatcher)
    # A list of one is the product talked about: "多少钱" next is its price.
    assert slot_events(events) == {"product": "美的风尊空调"}


def test_a_room_after_a_product_chooses_within_its_category(db, domain):
    """风尊多少钱 → 卧室用哪款好: the air conditioners, and 风尊 is no longer the context."""
    dispatcher, events = ask_product(domain, "卧室用哪款好", product="美的风尊空调")
    assert responses(dispatcher) == ["utter_product_candidates"]
    assert shown(domain, dispatcher).count("适用面积") == 4
    assert slot_events(events) == {"category": "空调", "product": None}
    dispatcher, events = ask_product(domain, "12平的卧室用哪款好", product="美的风尊空调")
    assert responses(dispatcher) == ["utter_product_for_area"]
    assert "海尔静悦空调" in shown(domain, dispatcher)
    assert slot_events(events) == {"category": "空调", "product": "海尔静悦空调"}


def test_a_fact_asked_of_a_list_is_told_for_each(db, domain):
    """冰箱有多大 / 有货吗 before a fridge is chosen: each fridge's answer in the list."""
    dispatcher, events = ask_product(domain, "有货吗", category="冰箱")
    assert responses(dispatcher) == ["utter_product_candidates"]
    lines = dispatcher.messages[0]["candidates"].splitlines()
    assert len(lines) == 3 and all("（库存：" in line for line in lines)
    assert slot_events(events) == {"asked_attribute": "stock"}


def test_a_brand_after_a_category_list_is_that_brand_in_it(db, domain):
    """手机有哪些 → 华为的怎么样: Huawei's phones, not its earbuds and laptop."""
    dispatcher, _ = ask_product(domain, "华为的怎么样", entities=[entity("brand", "华为")],
                                category="手机")
    assert responses(dispatcher) == ["utter_product_candidates"]
    assert dispatcher.messages[0]["scope"] == "华为手机"
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["华为nova12", "华为Mate60"]
    # A brand with nothing in that category: all of the brand's products.
    dispatcher, _ = ask_product(domain, "格力的呢", entities=[entity("brand", "格力")],
                                category="手机")
    assert dispatcher.messages[0]["scope"] == "格力"


@pytest.mark.parametrize("text", ["是4599吗", "4,599的那款怎么样", "4599元的是哪个"])
def test_a_price_quoted_after_a_list_is_the_product_at_that_price(db, domain, text):
    """冰箱有哪些 → 是4599吗: the fridge at 4,599, not the list again."""
    dispatcher, events = ask_product(domain, text, "ask_price", category="冰箱")
    assert dispatcher.messages[0]["name"] == "海尔510升十字门冰箱"
    assert slot_events(events)["product"] == "海尔510升十字门冰箱"


def test_a_price_no_product_has_lists_the_category_again(db, domain):
    dispatcher, events = ask_product(domain, "是4000吗", "ask_price", category="冰箱")
    assert responses(dispatcher) == ["utter_product_candidates"]
    assert "product" not in slot_events(events)


def test_the_cheapest_of_the_category_in_context(db, domain):
    """冰箱有哪些 → 最便宜的是哪个: that fridge's price, not the list again."""
    dispatcher, events = ask_product(domain, "最便宜的是哪个", "ask_price", category="冰箱")
    assert responses(dispatcher) == ["utter_product_price"]
    assert dispatcher.messages[0]["name"] == "美的250升三门冰箱"
    assert slot_events(events)["product"] == "美的250升三门冰箱"
    dispatcher, _ = ask_product(domain, "最贵的那款怎么样", category="冰箱")
    assert responses(dispatcher) == ["utter_product_detail"]
    assert dispatcher.messages[0]["name"] == "西门子610升对开门冰箱"


def test_a_product_answered_makes_its_category_the_context(db, domain):
    dispatcher, events = ask_product(domain, "小米14多少钱", "ask_price",
                                     [entity("product", "小米14")], category="冰箱")
    assert slot_events(events)["category"] == "手机"


def test_cheaper_than_the_product_talked_about(db, domain):
    """风尊多少钱 → 有没有更便宜的: the air conditioners below 2,999, cheapest first."""
    dispatcher, events = ask_product(domain, "有没有更便宜的", product="美的风尊空调")
    assert responses(dispatcher) == ["utter_product_candidates"]
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["海尔静悦空调",
                                                                       "格力云佳空调"]
    assert slot_events(events) == {"category": "空调", "product": None}
    # Nothing cheaper than the cheapest: said so, with its price.
    dispatcher, _ = ask_product(domain, "还有更便宜的吗", product="海尔静悦空调")
    assert responses(dispatcher) == ["utter_product_none_cheaper"]
    assert shown(domain, dispatcher).startswith("海尔静悦空调（1,899元）已经是这一类里最实惠的了")


@pytest.mark.parametrize("text, category, expected", [
    ("滚筒的有吗", "洗衣机", ["小米滚筒洗衣机", "西门子10公斤滚筒洗衣机"]),
    ("能烘干吗", "洗衣机", ["小米滚筒洗衣机", "西门子10公斤滚筒洗衣机"]),
    ("要柜机", "空调", ["格力云锦柜机"]),
    # A feature no product of the category has: all of them, to compare.
    ("有滚筒的吗", "空调", ["海尔静悦空调", "格力云佳空调", "美的风尊空调", "格力云锦柜机"]),
])
def test_a_feature_chooses_within_the_category(db, domain, text, category, expected):
    """洗衣机有哪些 → 滚筒的有吗: the drum machines, not all three again."""
    dispatcher, _ = ask_product(domain, text, category=category)
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == expected


def test_a_size_chooses_within_the_category(db, domain):
    """我想买台电视 → 75寸的有吗: that one, with its size; 85寸: the nearest, said so."""
    dispatcher, events = ask_product(domain, "75寸的有吗", category="电视")
    assert responses(dispatcher) == ["utter_product_for_size"]
    assert shown(domain, dispatcher).startswith(
        "75寸的电视有：\n· 索尼X90L电视  9,999元（尺寸75英寸）")
    assert slot_events(events)["product"] == "索尼X90L电视"
    dispatcher, _ = ask_product(domain, "有85寸的吗", category="电视")
    assert responses(dispatcher) == ["utter_product_near_size"]
    assert shown(domain, dispatcher).startswith("暂时没有85寸的电视，最接近的是：")


def test_a_household_chooses_the_capacity_that_suits_it(db, domain):
    """冰箱有哪些 → 家里三口人 哪款合适: the fridge for three, with its capacity; it is the
    context (多少钱 next asks its price). Before, every fridge was listed again."""
    dispatcher, events = ask_product(domain, "家里三口人 哪款合适", category="冰箱")
    assert responses(dispatcher) == ["utter_product_for_household"]
    assert shown(domain, dispatcher).startswith(
        "3口人用，这几款冰箱的容量合适：\n· 美的250升三门冰箱  1,699元（容量250升）")
    assert slot_events(events)["product"] == "美的250升三门冰箱"
    dispatcher, _ = ask_product(domain, "两个人用的", category="洗衣机")
    assert responses(dispatcher) == ["utter_product_near_household"]


def test_about_a_size_is_met_by_one_near_it(db, domain):
    """冰箱有哪些 → 500升左右的有吗: the 510-litre one is "about 500", not "no 500"."""
    dispatcher, _ = ask_product(domain, "500升左右的有吗", category="冰箱")
    assert responses(dispatcher) == ["utter_product_about_size"]
    assert shown(domain, dispatcher).startswith("500升左右的冰箱有：\n· 海尔510升十字门冰箱")
    # Further than a tenth from it, or not said as "about": the nearest, said so.
    for text in ("400升左右的有吗", "有500升的吗"):
        dispatcher, _ = ask_product(domain, text, category="冰箱")
        assert responses(dispatcher) == ["utter_product_near_size"], text


def test_a_budget_chooses_within_the_category(db, domain):
    """A price script asks the budget; 3000以内的 answers it: the air conditioners it
    buys, dearest first. Over every price: the cheapest, said so."""
    with Session(db) as session:
        units = repository.catalogue.find_products(session=session, category="空调")
    bought = sorted((p for p in units if p.price <= 3000), key=lambda p: -p.price)
    assert 0 < len(bought) < len(units)
    dispatcher, events = ask_product(domain, "3000以内的有吗", "inform", category="空调",
                                     product="格力云锦柜机")
    assert responses(dispatcher) == ["utter_product_for_budget"]
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == [p.name for p in bought]
    assert shown(domain, dispatcher).startswith("3000元以内的空调有：")
    dispatcher, _ = ask_product(domain, "预算一千块以内", category="空调")
    assert responses(dispatcher) == ["utter_product_over_budget"]
    cheapest = min(units, key=lambda p: p.price)
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == [cheapest.name]


def test_a_budget_after_a_price_script_is_what_it_buys(db, domain):
    """风尊空调多少钱 → 太贵了 → "方便说说您心里的预算吗" → 我预算只有1000 (objection_price):
    the air conditioners it buys (none: the cheapest, said so), not another script."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, slots={"product": "美的风尊空调", "category": "空调"},
                           text="我预算只有1000", intent="objection_price")
    run_action(ActionHandleObjection(), dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_product_over_budget"]
    assert shown(domain, dispatcher).startswith("1000元以内的空调暂时没有，最实惠的是：")
    # With nothing in context: which category; the budget (its slot) waits for it.
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, text="预算3000", intent="objection_price",
                           slots={"budget": "3000元以内"})
    events = run_action(ActionHandleObjection(), dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_product_ask_which"]
    assert "budget" not in slot_events(events)
    # The category named next is chosen within it, and the budget is used up.
    dispatcher, events = ask_product(domain, "手机", "inform",
                                     [entity("category", "手机", "手机")], budget="3000元以内")
    assert responses(dispatcher) == ["utter_product_for_budget"]
    assert shown(domain, dispatcher).startswith("3000元以内的手机有：")
    assert slot_events(events)["budget"] is None
    # Kept, it chooses nothing for a message that names no category (保修呢).
    dispatcher, _ = ask_product(domain, "保修呢", product="小米14", budget="3000元以内")
    assert responses(dispatcher) == ["utter_product_fact"]


@pytest.mark.parametrize("text", ["小米14和华为mate60哪个好", "小米14还是mate60"])
def test_products_compared_get_their_specs_side_by_side(db, domain, text):
    """Two phones named and compared had got their names and prices only."""
    named = [entity("product", "小米14", text), entity("product", "华为Mate60", text)]
    dispatcher, _ = ask_product(domain, text, entities=named)
    assert responses(dispatcher) == ["utter_product_compared"]
    reply = shown(domain, dispatcher)
    assert "· 小米14  3,999元（屏幕6.36英寸OLED，存储12GB+256GB" in reply
    assert "· 华为Mate60  5,499元（屏幕6.69英寸OLED" in reply
    # Brands compared: their products in the category both sell, with specs.
    brands = [entity("brand", name, "格力和美的哪个好") for name in ("格力", "美的")]
    dispatcher, _ = ask_product(domain, "格力和美的哪个好", entities=brands)
    assert responses(dispatcher) == ["utter_product_compared"]
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert "美的风尊空调" in titles and "格力云佳空调" in titles and all("空调" in t or "柜机" in t
                                                              for t in titles)
    # Named without comparing (小米14和华为mate60多少钱): the plain list, as before.
    dispatcher, _ = ask_product(domain, "小米14和华为mate60多少钱", "ask_price", named)
    assert responses(dispatcher) == ["utter_product_candidates"]


def test_bigger_than_the_one_talked_about(db, domain):
    dispatcher, _ = ask_product(domain, "有没有大一点的", product="小米电视A55",
                                category="电视")
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == [
        "海信65英寸E8电视", "索尼X90L电视"]
    assert "（尺寸65英寸）" in shown(domain, dispatcher)
    # Nothing bigger than the biggest: said so, with its size.
    dispatcher, _ = ask_product(domain, "还有更大的吗", product="索尼X90L电视", category="电视")
    assert responses(dispatcher) == ["utter_product_none_bigger"]
    assert shown(domain, dispatcher).startswith("索尼X90L电视（尺寸75英寸）已经是这一类里最大的了")
    # After a list (no product talked about): the smallest.
    dispatcher, _ = ask_product(domain, "小一点的有吗", "ask_product", category="冰箱")
    assert dispatcher.messages[0]["name"] == "美的250升三门冰箱"


def test_gaming_is_the_laptop_with_the_graphics_card(db, domain):
    dispatcher, events = ask_product(domain, "打游戏用哪款好", category="笔记本电脑")
    assert responses(dispatcher) == ["utter_product_candidates"]
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["联想拯救者Y9000P"]
    assert slot_events(events) == {"product": "联想拯救者Y9000P",
                                   "feature_filter": ["RTX", "电竞"]}


def test_a_feature_narrows_the_next_choice_in_the_same_category(db, domain):
    """洗衣机有哪些 → 滚筒的有吗 → 最便宜的是哪个: the cheapest drum machine, not the
    cheapest of all three (a 波轮 one)."""
    _, events = ask_product(domain, "滚筒的有吗", category="洗衣机")
    kept = slot_events(events)["feature_filter"]
    assert kept == ["滚筒"]
    dispatcher, events = ask_product(domain, "最便宜的是哪个", "ask_price",
                                     category="洗衣机", feature_filter=kept)
    assert dispatcher.messages[0]["name"] == "小米滚筒洗衣机"
    assert "feature_filter" not in slot_events(events)  # still the context
    # A cheaper one is looked for among all of them (the 波轮 one is cheaper).
    dispatcher, _ = ask_product(domain, "有没有更便宜的", product="小米滚筒洗衣机",
                                category="洗衣机", feature_filter=kept)
    assert dispatcher.messages[0]["name"] == "海尔10公斤波轮洗衣机"
    # Without the filter, the cheapest of all.
    dispatcher, _ = ask_product(domain, "最便宜的是哪个", "ask_price", category="洗衣机")
    assert dispatcher.messages[0]["name"] == "海尔10公斤波轮洗衣机"


def test_the_category_named_again_or_left_drops_the_feature(db, domain):
    text = "洗衣机有哪些"
    dispatcher, events = ask_product(domain, text, entities=[entity("category", "洗衣机", text)],
                                     category="洗衣机", feature_filter=["滚筒"])
    assert len(dispatcher.messages[0]["buttons"]) == 3
    assert slot_events(events)["feature_filter"] is None
    text = "小米14多少钱"
    _, events = ask_product(domain, text, "ask_price", [entity("product", "小米14", text)],
                            category="洗衣机", feature_filter=["滚筒"])
    assert slot_events(events)["feature_filter"] is None


def test_a_room_size_of_a_named_product_is_its_fact(db, domain):
    dispatcher, _ = ask_product(domain, "风尊适合几平的房间",
                                entities=[entity("product", "美的风尊空调")])
    assert responses(dispatcher) == ["utter_product_fact"]
    assert dispatcher.messages[0]["value"] == "16-22平方米"


def test_a_follow_up_fact_is_about_the_product_in_context(db, domain):
    dispatcher, _ = ask_product(domain, "保修呢", "ask_product", product="格力云佳空调")
    assert responses(dispatcher) == ["utter_product_fact"]
    assert dispatcher.messages[0]["value"] == "整机保修6年，免费上门安装"


def test_a_name_typed_after_which_product_answers_the_fact_asked(db, domain):
    # 包安装吗 → "which product?" → 风尊 typed instead of the button: its installation.
    dispatcher, events = ask_product(domain, "风尊", "inform",
                                     [entity("product", "美的风尊空调", "风尊")],
                                     asked_attribute="installation")
    assert responses(dispatcher) == ["utter_product_fact"]
    assert dispatcher.messages[0]["attribute"] == "安装"
    assert slot_events(events)["asked_attribute"] is None
    # Without a fact asked before, the name alone gets the product's details.
    dispatcher, _ = ask_product(domain, "风尊", "inform",
                                [entity("product", "美的风尊空调", "风尊")])
    assert responses(dispatcher) == ["utter_product_detail"]


def test_that_one_asks_the_same_fact_of_another_product(db, domain):
    dispatcher, events = ask_product(domain, "风尊保修几年",
                                     entities=[entity("product", "美的风尊空调")])
    assert slot_events(events)["last_attribute"] == "warranty"
    dispatcher, events = ask_product(domain, "那云佳呢",
                                     entities=[entity("product", "格力云佳空调")],
                                     product="美的风尊空调", last_attribute="warranty")
    assert responses(dispatcher) == ["utter_product_fact"]
    assert dispatcher.messages[0]["value"] == "整机保修6年，免费上门安装"
    # A question that asks no fact is a plain product question again.
    dispatcher, events = ask_product(domain, "云佳怎么样",
                                     entities=[entity("product", "格力云佳空调")],
                                     last_attribute="warranty")
    assert responses(dispatcher) == ["utter_product_detail"]
    assert slot_events(events)["last_attribute"] is None


def test_a_fact_without_a_product_asks_which_with_buttons_then_answers(db, domain):
    dispatcher, events = ask_product(domain, "噪音大不大")
    assert responses(dispatcher) == ["utter_product_ask_which"]
    buttons = dispatcher.messages[0]["buttons"]
    assert {"title": "空调", "payload": '/ask_product{"category": "空调"}'} in buttons
    assert slot_events(events) == {"asked_attribute": "noise"}
    # The customer taps 空调: two candidates, one button each, the question kept.
    dispatcher, events = ask_product(domain, '/ask_product{"category": "空调"}',
                                     entities=[entity("category", "空调")],
                                     asked_attribute="noise")
    assert responses(dispatcher) == ["utter_product_candidates"]
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert '/ask_product{"product": "美的风尊空调"}' in payloads
    # …then 美的风尊空调: the noise of that one, and the question is answered.
    dispatcher, events = ask_product(domain, '/ask_product{"product": "美的风尊空调"}',
                                     entities=[entity("product", "美的风尊空调")],
                                     asked_attribute="noise")
    assert responses(dispatcher) == ["utter_product_fact"]
    assert dispatcher.messages[0]["value"] == "最低18分贝"
    assert slot_events(events)["asked_attribute"] is None


# ====================================================================== complaints


def complain(domain, text: str, conversation_id: str = "conv-complaint", **slots: Any):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, slots=slots, text=text, intent="complain",
                           conversation_id=conversation_id)
    events = run_action(ActionAcknowledgeComplaint(), dispatcher, tracker, domain)
    return dispatcher, events


def test_first_mild_complaint_gets_empathy_only(db, domain):
    dispatcher, events = complain(domain, "你们服务太差了")
    assert responses(dispatcher) == ["utter_complaint_empathy"]
    assert slot_events(events) == {"complaint_count": 1, "paused_request": None}
    assert not paused(events)
    assert tickets(db) == []


def test_detailed_complaint_is_remembered(db, domain):
    text = "我上周买的冰箱到现在还没送到，客服也不回消息"
    dispatcher, events = complain(domain, text)
    assert slot_events(events) == {"complaint_count": 1, "paused_request": None,
                                   "complaint_detail": text}
    assert responses(dispatcher) == ["utter_complaint_empathy"]
    assert tickets(db) == []


@pytest.mark.parametrize(
    "text", ["垃圾店 我要去12315投诉", "我要打12315", "太过分了！", "你们就是骗子", "黑店😡"]
)
def test_angry_complaint_escalates_at_once(db, staff_online, domain, text):
    dispatcher, events = complain(domain, text, conversation_id="conv-angry")
    assert responses(dispatcher) == [
        "utter_complaint_empathy",
        "utter_complaint_escalated",
        "utter_handoff",
    ]
    assert paused(events)
    complaint, handoff = tickets(db, conversation_id="conv-angry")
    assert (complaint.kind, handoff.kind) == ("complaint", "handoff")
    assert text in complaint.detail
    assert "情绪激动" in handoff.summary
    slots = slot_events(events)
    assert slots["complaint_count"] == 1
    assert slots["handoff_ticket"] == handoff.number
    assert complaint.number in shown(domain, dispatcher)


def test_second_complaint_escalates(db, staff_online, domain):
    dispatcher, events = complain(domain, "还是没人处理", complaint_count=1)
    assert "utter_complaint_escalated" in responses(dispatcher)
    assert paused(events)
    assert slot_events(events)["complaint_count"] == 2
    assert [t.kind for t in tickets(db)] == ["complaint", "handoff"]
    assert "第2次投诉" in tickets(db, kind="handoff")[0].summary


def test_a_complaint_again_after_its_ticket_escalates_that_ticket(db, staff_online, domain):
    """你们质量太差 → (ticket TK…1) → 我要投诉: TK…1 goes to a human, not a second one."""
    first = make_tracker(domain, text="刚买的洗衣机就坏了", intent="complain",
                         conversation_id="conv-again")
    run_action(ActionOpenComplaint(), CollectingDispatcher(), first, domain)
    [registered] = tickets(db, conversation_id="conv-again")
    dispatcher, events = complain(domain, "我要投诉", conversation_id="conv-again",
                                  complaint_count=1)
    assert paused(events)
    complaint, handoff = tickets(db, conversation_id="conv-again")
    assert complaint.number == registered.number and handoff.kind == "handoff"
    assert f"工单号 {registered.number}" in shown(domain, dispatcher)
    with Session(db) as session:
        notes = repository.tickets.ticket_notes(session=session, ticket_id=complaint.id)
        assert [(n.author, n.text) for n in notes] == [("assistant", "顾客再次投诉：我要投诉")]


REPAIR_ASKED = [user_event("扫地机器人坏了", "after_sales"),
                {"event": "action", "name": "action_begin_order_request"},
                {"event": "slot", "name": "service_kind", "value": "repair"},
                {"event": "active_loop", "name": "order_form"},
                {"event": "slot", "name": "requested_slot", "value": "order_no"}]
LEFT_FORM = [{"event": "action", "name": "action_deactivate_loop"},
             {"event": "active_loop", "name": None}]


@pytest.mark.parametrize("kind, paused_as", [("repair", "repair"), ("return", "return"),
                                             ("price_diff", "price_diff"), ("status", None)])
def test_a_complaint_that_left_a_ticket_request_pauses_it(db, domain, kind, paused_as):
    """你们到底修不修啊 while the repair form asks for the number: the repair is kept for
    after the complaint. A status query opens no ticket, so nothing waits."""
    text = "你们到底修不修啊 我很着急"
    events = [*REPAIR_ASKED, user_event(text, "complain"), *LEFT_FORM]
    tracker = make_tracker(domain, slots={"service_kind": kind, "request_detail": "扫地机器人坏了"},
                           text=text, intent="complain", events=events)
    dispatcher = CollectingDispatcher()
    events = run_action(ActionAcknowledgeComplaint(), dispatcher, tracker, domain)
    assert slot_events(events)["paused_request"] == paused_as
    # The grievance joins the paused request's ticket detail; a status query has none.
    assert slot_events(events).get("request_detail") == (
        f"扫地机器人坏了\n{text}" if paused_as else None)


def test_a_complaint_outside_the_form_pauses_nothing(db, domain):
    # The order form ended earlier (the customer asked for a human): a later complaint
    # does not bring back the repair request that service_kind still names.
    text = "你们服务太差了"
    events = [*REPAIR_ASKED, user_event("转人工", "request_human"), *LEFT_FORM,
              user_event(text, "complain")]
    tracker = make_tracker(domain, slots={"service_kind": "repair"}, text=text,
                           intent="complain", events=events)
    events = run_action(ActionAcknowledgeComplaint(), CollectingDispatcher(), tracker, domain)
    assert slot_events(events)["paused_request"] is None


@pytest.mark.parametrize("paused_as, named", [("repair", "维修"), ("return", "退换货")])
def test_the_paused_request_is_taken_up_after_the_complaint_ticket(db, domain, paused_as, named):
    tracker = make_tracker(domain, slots={"paused_request": paused_as,
                                          "complaint_detail": "你们到底修不修啊 我很着急"},
                           text="你们到底修不修啊 我很着急", intent="complain")
    dispatcher = CollectingDispatcher()
    events = run_action(ActionOpenComplaint(), dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_complaint_ticket", "utter_request_resumed"]
    assert f"您刚才的{named}申请" in shown(domain, dispatcher)
    assert slot_events(events)["paused_request"] is None
    assert [e["name"] for e in events if e.get("event") == "followup"] == ["order_form"]
    assert [t.kind for t in tickets(db)] == ["complaint"]


@pytest.mark.parametrize("paused_as", [None, "status", "<script>"])
def test_without_a_paused_ticket_request_the_complaint_ends_there(db, domain, paused_as):
    tracker = make_tracker(domain, slots={"paused_request": paused_as,
                                          "complaint_detail": "快递太慢了 等了一周"},
                           text="快递太慢了 等了一周", intent="complain")
    dispatcher = CollectingDispatcher()
    events = run_action(ActionOpenComplaint(), dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_complaint_ticket"]
    assert not [e for e in events if e.get("event") == "followup"]


def answer_complaint_form(domain, answer: str, vague_answers: float = 0):
    """The customer's answer to "能具体说说发生了什么吗？", as the form extracted it."""
    said = user_event("你们服务太差了", "complain")
    events = [said, {"event": "active_loop", "name": "complaint_form"},
              {"event": "slot", "name": "requested_slot", "value": "complaint_detail"},
              user_event(answer, "inform"),
              {"event": "slot", "name": "complaint_detail", "value": answer}]
    tracker = make_tracker(domain, slots={"complaint_detail": answer,
                                          "complaint_vague_answers": vague_answers,
                                          "requested_slot": "complaint_detail"},
                           events=events, text=answer, intent="inform",
                           active_loop="complaint_form")
    dispatcher = CollectingDispatcher()
    return dispatcher, run_action(ValidateComplaintForm(), dispatcher, tracker, domain)


@pytest.mark.parametrize("answer", ["那个", "嗯…", "就是那个啊", "。。。"])
def test_a_vague_complaint_detail_is_asked_for_again(db, domain, answer):
    dispatcher, events = answer_complaint_form(domain, answer)
    assert responses(dispatcher) == ["utter_complaint_detail_vague"]
    assert slot_events(events) == {"complaint_detail": None, "complaint_vague_answers": 1}
    assert tickets(db) == []


def test_a_second_vague_detail_records_the_grievance_already_said(db, domain):
    dispatcher, events = answer_complaint_form(domain, "那个", vague_answers=1)
    assert responses(dispatcher) == []
    assert slot_events(events) == {"complaint_detail": "你们服务太差了",
                                   "complaint_vague_answers": None}


@pytest.mark.parametrize("answer", ["坏了", "那个冰箱不制冷", "送货的态度差"])
def test_a_short_real_complaint_detail_is_taken(db, domain, answer):
    dispatcher, events = answer_complaint_form(domain, answer, vague_answers=1)
    assert responses(dispatcher) == []
    assert slot_events(events) == {"complaint_detail": answer, "complaint_vague_answers": None}


def test_open_complaint_promises_deadlines(db, domain, dispatcher):
    detail = "订单DD202611200001的耳机有杂音，客服一直不回复"
    events = [VERIFIED, user_event("就这些", "inform")]
    tracker = make_tracker(domain, slots={"complaint_detail": detail}, events=events,
                           text="就这些", intent="inform", conversation_id="conv-open")
    events = run_action(ActionOpenComplaint(), dispatcher, tracker, domain)
    assert slot_events(events) == {"complaint_detail": None, "complaint_vague_answers": None}
    assert responses(dispatcher) == ["utter_complaint_ticket"]
    [ticket] = tickets(db)
    assert (ticket.kind, ticket.customer_id, ticket.priority) == ("complaint", "C001", 1)
    assert ticket.order_no == "DD202611200001"  # recognised in the text and linked
    assert ticket.detail == detail
    text = shown(domain, dispatcher)
    assert ticket.number in text
    # NOW is 12:00 local: respond by 21:00 today, resolve in 72 h, call back 48 h later.
    for due in ("11月23日 21:00", "11月26日 12:00", "11月28日 12:00"):
        assert due in text
    assert "{" not in text


def test_open_complaint_ignores_unknown_order_numbers(db, domain, dispatcher):
    tracker = make_tracker(domain, slots={"complaint_detail": "DD209901010000 一直没发货"})
    run_action(ActionOpenComplaint(), dispatcher, tracker, domain)
    [ticket] = tickets(db)
    assert ticket.order_no is None
    assert ticket.priority == 3


def test_open_complaint_falls_back_to_the_latest_text(db, domain, dispatcher):
    tracker = make_tracker(domain, text="送货师傅态度很差", intent="complain")
    run_action(ActionOpenComplaint(), dispatcher, tracker, domain)
    assert tickets(db)[0].detail == "送货师傅态度很差"


def test_details_declined_register_the_grievance_said(db, domain, dispatcher):
    # 你们这破店东西又贵又烂 → "能具体说说…？" → 不用了: the grievance, not "不用了".
    events = [user_event("你们这破店东西又贵又烂", "complain"), user_event("不用了", "deny")]
    tracker = make_tracker(domain, events=events, text="不用了", intent="deny")
    run_action(ActionOpenComplaint(), dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_complaint_ticket"]
    assert tickets(db)[0].detail == "你们这破店东西又贵又烂"


# ====================================================================== objections


def object_to(domain, text: str, intent: str = "objection_price",
              history: Optional[List[str]] = None,
              entities: Optional[List[Dict[str, Any]]] = None, **slots: Any):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, slots={"objection_history": history, **slots}, text=text,
                           intent=intent, entities=entities)
    events = run_action(ActionHandleObjection(), dispatcher, tracker, domain)
    return dispatcher, slot_events(events)


def test_price_objection_uses_real_product_facts(db, domain):
    dispatcher, slots = object_to(domain, "太贵了", product="美的风尊空调")
    [text] = texts(dispatcher)
    assert "美的风尊空调" in text
    assert "2999" in text or "整机保修6年" in text
    assert "{" not in text
    assert QUESTION_END.search(text)
    [entry] = slots["objection_history"]
    assert entry.startswith("price|")
    assert "human_offered" not in slots


def test_objection_product_entity_beats_the_slot(db, domain):
    dispatcher, _ = object_to(domain, "小米14太贵", entities=[entity("product", "小米14")],
                              product="美的风尊空调")
    [text] = texts(dispatcher)
    assert "小米14" in text and "美的风尊空调" not in text


@pytest.mark.parametrize(
    "intent, text, kind",
    [
        ("objection_price", "太贵了", "price"),
        ("objection_think", "我再考虑考虑", "delay"),
        ("objection_think", "没时间", "timing"),
        ("objection_no_need", "家里有了", "no_need"),
        ("objection_competitor", "别家便宜", "competitor"),
        ("objection_trust", "质量靠谱吗", "trust"),
        ("greet", "嗯", "price"),  # misrouted: still a polite price answer
    ],
)
def test_objection_types(db, domain, intent, text, kind):
    dispatcher, slots = object_to(domain, text, intent)
    assert slots["objection_history"][0].split("|")[0] == kind
    assert QUESTION_END.search(texts(dispatcher)[0])


@pytest.mark.parametrize("product", ["美的风尊空调", None, "不存在的商品"])
def test_repeated_objections_never_repeat_a_script(db, domain, product):
    known = product == "美的风尊空调"
    pool = [s for s in knowledge.objections()["scripts"]
            if s["type"] == "price" and (known or not s["needs_product"])]
    history: List[str] = []
    said: List[str] = []
    for _ in range(len(pool) + 4):
        dispatcher, slots = object_to(domain, "还是太贵", history=history, product=product)
        [text] = texts(dispatcher)
        # Nothing heard in this conversation is said again before every script was used.
        assert text not in said[-(len(pool) - 1):]
        said.append(text)
        history = slots["objection_history"]
    assert len(set(said[: len(pool)])) == len(pool)
    assert all("{" not in text for text in said)
    assert all(entry.startswith("price|") for entry in history)


@pytest.mark.parametrize("previous, offers", [(0, False), (1, True), (2, False), (3, True)])
def test_human_offered_every_second_objection(db, domain, previous, offers):
    history = [f"price|ask|price_ask_{i + 1}" for i in range(previous)]
    dispatcher, slots = object_to(domain, "太贵了", history=history)
    assert ("utter_offer_human" in responses(dispatcher)) is offers
    assert slots.get("human_offered") is (True if offers else None)
    assert len(slots["objection_history"]) == previous + 1


def test_no_human_offer_when_already_handed_off(db, domain):
    dispatcher, slots = object_to(domain, "太贵了", history=["price|ask|price_ask_1"],
                                  handoff_ticket="TK2026112300001")
    assert "utter_offer_human" not in responses(dispatcher)
    assert "human_offered" not in slots


@pytest.mark.parametrize(
    "text, key",
    [
        ("你们是不是不保修", "no_warranty"),
        ("你们卖的不会是翻新机吧", "fake_or_refurbished"),
        ("听说你们不开发票", "no_invoice"),
        ("买了就不能退了吧", "no_returns"),
    ],
)
def test_misconception_is_rebutted(db, domain, text, key):
    dispatcher, slots = object_to(domain, text, "objection_trust")
    entry = next(m for m in knowledge.objections()["misconceptions"] if m["key"] == key)
    assert texts(dispatcher) == [entry["text"]]
    assert slots["objection_history"] == [f"trust|rebuttal|misconception:{key}"]


@pytest.mark.parametrize("earlier, offered", [(18, False), (19, True), (20, False), (21, True)])
def test_human_is_offered_again_every_second_objection(db, domain, earlier, offered):
    history = [f"price|ask|old_{i}" for i in range(earlier)]
    dispatcher, slots = object_to(domain, "太贵了", history=history)
    assert len(slots["objection_history"]) == earlier + 1
    assert slots["objection_history"][-1].startswith("price|")
    assert (slots.get("human_offered") is True) is offered
    assert ("utter_offer_human" in responses(dispatcher)) is offered


# ========================================================================= handoff


def conversation(domain, intents: List[str], conversation_id: str, **slots: Any):
    events = [user_event(f"message {i}", name) for i, name in enumerate(intents)]
    events.insert(1, {"event": "action", "name": "action_listen"})
    return make_tracker(domain, slots=slots, text="转人工", intent=intents[-1], events=events,
                        conversation_id=conversation_id)


def test_handoff_opens_a_ticket_with_a_summary(db, staff_online, domain, dispatcher):
    tracker = conversation(
        domain, ["greet", "ask_price", "objection_price", "request_human"], "conv-handoff",
        product="美的风尊空调", looked_up=["AC-MD-15"],
    )
    tracker.events.insert(1, VERIFIED)  # the customer checked DD202611200001 earlier
    events = run_action(ActionHandoff(), dispatcher, tracker, domain)
    assert paused(events)
    [ticket] = tickets(db)
    assert ticket.kind == "handoff"
    assert ticket.conversation_id == "conv-handoff"
    assert ticket.priority == 1  # C001 is tier A
    assert "greet → ask_price → objection_price → request_human" in ticket.summary
    assert "product=美的风尊空调" in ticket.summary
    assert "AC-MD-15" in ticket.summary
    assert "客户要求转人工" in ticket.summary
    assert "已核实订单DD202611200001（2026-11-23 12:00）" in ticket.summary
    assert responses(dispatcher) == ["utter_handoff"]
    assert ticket.number in shown(domain, dispatcher)
    slots = slot_events(events)
    assert slots == {"handoff_ticket": ticket.number, "human_offered": False}


def test_handoff_accepting_the_offer(db, domain, dispatcher):
    tracker = conversation(domain, ["objection_price", "affirm"], "conv-accept")
    run_action(ActionHandoff(), dispatcher, tracker, domain)
    assert "客户接受了转人工的建议" in tickets(db)[0].summary


def test_second_handoff_reuses_the_open_ticket(db, domain):
    numbers = []
    for _ in range(2):
        dispatcher = CollectingDispatcher()
        tracker = conversation(domain, ["request_human"], "conv-twice")
        events = run_action(ActionHandoff(), dispatcher, tracker, domain)
        numbers.append(slot_events(events)["handoff_ticket"])
    assert numbers[0] == numbers[1]
    assert len(tickets(db)) == 1


def test_handoff_of_another_conversation_gets_its_own_ticket(db, domain):
    for sender in ("conv-a", "conv-b"):
        run_action(ActionHandoff(), CollectingDispatcher(),
                   conversation(domain, ["request_human"], sender), domain)
    assert len({t.number for t in tickets(db)}) == 2


@pytest.mark.parametrize(
    "local, response, respond_due",
    [
        (datetime(2026, 11, 23, 12, 0), "utter_handoff", "11月23日 21:00"),
        (datetime(2026, 11, 23, 22, 30), "utter_handoff_after_hours", "11月24日 21:00"),
        (datetime(2026, 11, 24, 7, 0), "utter_handoff_after_hours", "11月24日 21:00"),
    ],
)
def test_handoff_after_hours(
    db, staff_online, domain, dispatcher, monkeypatch, local, response, respond_due
):
    monkeypatch.setattr(deadlines, "utcnow", lambda: local - SHANGHAI)
    run_action(ActionHandoff(), dispatcher, conversation(domain, ["request_human"], "c"), domain)
    assert responses(dispatcher) == [response]
    text = shown(domain, dispatcher)
    assert respond_due in text
    assert "{" not in text
    if response == "utter_handoff_after_hours":
        assert "09:00-21:00" in text


def test_handoff_in_hours_with_nobody_online_says_so(db, domain, dispatcher):
    events = run_action(ActionHandoff(), dispatcher, conversation(domain, ["request_human"], "c"),
                        domain)
    assert responses(dispatcher) == ["utter_handoff_no_staff"]
    assert paused(events)
    [ticket] = tickets(db)
    assert ticket.number in shown(domain, dispatcher)


def test_decline_human(domain, dispatcher):
    events = run_action(ActionDeclineHuman(), dispatcher, make_tracker(domain, intent="deny"),
                        domain)
    assert responses(dispatcher) == ["utter_continue_with_bot"]
    assert slot_events(events) == {"human_offered": False}


OFFERED = [user_event("别家便宜两百", "objection_competitor"),
           {"event": "bot", "text": "要不要我帮您转接人工客服？"},
           {"event": "slot", "name": "human_offered", "value": True}]


def test_an_offer_of_a_human_lapses_when_the_customer_moves_on(db, domain, dispatcher):
    # 要不要转人工？ → 保修几年: a later 好的 (那我拍了) is no longer a yes to the human.
    tracker = make_tracker(domain, slots={"human_offered": True}, text="云佳保修几年",
                           intent="ask_product",
                           events=OFFERED + [user_event("云佳保修几年", "ask_product")])
    events = run_action(ActionAnswerProduct(), dispatcher, tracker, domain)
    assert slot_events(events)["human_offered"] is False


def test_an_offer_made_in_this_turn_stands(db, domain, dispatcher):
    # The offer's own turn (the objection script, then the offer): nothing lapses yet.
    tracker = make_tracker(domain, slots={"human_offered": True}, text="别家便宜两百",
                           intent="objection_competitor", events=OFFERED)
    events = run_action(ActionAnswerProduct(), dispatcher, tracker, domain)
    assert "human_offered" not in slot_events(events)
    # An answer to the offer sets the slot itself, once.
    accepted = make_tracker(domain, slots={"human_offered": True}, text="不用了", intent="deny",
                            events=OFFERED + [user_event("不用了", "deny")])
    declined = run_action(ActionDeclineHuman(), CollectingDispatcher(), accepted, domain)
    assert [e for e in declined if e.get("name") == "human_offered"] == [
        {"event": "slot", "timestamp": None, "name": "human_offered", "value": False}]


# ======================================================================== fallback


@pytest.mark.parametrize(
    "intents, hands_off",
    [
        (["greet", "nlu_fallback"], False),
        (["nlu_fallback", "greet", "nlu_fallback"], False),
        (["greet", "nlu_fallback", "nlu_fallback"], True),
        (["nlu_fallback", "nlu_fallback", "nlu_fallback"], True),
    ],
)
def test_fallback(db, staff_online, domain, dispatcher, intents, hands_off):
    tracker = conversation(domain, intents, "conv-fallback")
    events = run_action(ActionFallback(), dispatcher, tracker, domain)
    if hands_off:
        assert responses(dispatcher) == ["utter_handoff"]
        assert paused(events)
        [ticket] = tickets(db)
        assert f"连续{intents.count('nlu_fallback')}次未能理解客户" in ticket.summary
    else:
        assert responses(dispatcher) == ["utter_default"]
        assert events == []
        assert tickets(db) == []


def unsure(domain, ranking, entities=None, intents=("greet", "nlu_fallback")):
    """A conversation whose last message fell under the fallback threshold."""
    tracker = conversation(domain, list(intents), "conv-unsure")
    tracker.latest_message["intent"] = {"name": "nlu_fallback", "confidence": 0.3}
    tracker.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.3},
        *({"name": name, "confidence": confidence} for name, confidence in ranking)]
    tracker.latest_message["entities"] = entities or []
    return tracker


def test_fallback_asks_which_of_two_meanings(domain, dispatcher):
    tracker = unsure(domain, [("ask_price", 0.28), ("after_sales", 0.26), ("greet", 0.1)],
                     [entity("product", "美的风尊空调")])
    events = run_action(ActionFallback(), dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_clarify"
    assert render(domain, message).startswith("我想确认一下，您是想问价格或费用，还是咨询维修")
    assert [b["payload"] for b in message["buttons"]] == [
        '/ask_price{"product": "美的风尊空调"}', "/after_sales{\"product\": \"美的风尊空调\"}"]
    assert [b["title"] for b in message["buttons"]] == ["问价格或费用", "咨询维修、安装或售后"]
    assert slot_events(events) == {"clarify_options": ["ask_price", "after_sales"]}


def test_fallback_offers_an_faq_answer_by_its_key(domain, dispatcher):
    # 那什么时候发货 after a product: before ordering (the FAQ) or an order's status?
    tracker = unsure(domain, [("faq", 0.49), ("order_status", 0.48)])
    tracker.latest_message["response_selector"] = {
        "faq": {"response": {"intent_response_key": "faq/delivery_time"}}}
    events = run_action(ActionFallback(), dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert render(domain, message).startswith(
        "我想确认一下，您是想问下单后多久发货、几天能到，还是查询订单物流？")
    assert [b["payload"] for b in message["buttons"]] == ["现在下单几天能到", "/order_status"]
    assert slot_events(events) == {"clarify_options": ["faq", "order_status"]}


def test_a_question_about_something_we_do_not_sell_is_answered_even_unsure(db, domain,
                                                                          dispatcher):
    tracker = unsure(domain, [("objection_trust", 0.23), ("ask_product", 0.22)])
    tracker.latest_message["text"] = "你们卖电动车吗"
    events = run_action(ActionFallback(), dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_product_not_sold"] and events == []
    assert dispatcher.messages[0]["product"] == "电动车"


def test_a_product_follow_up_the_classifier_missed_answers_the_last_question(db, domain,
                                                                              dispatcher):
    # 风尊保修几年 → … → 那云佳呢: the warranty again, for the other product.
    tracker = unsure(domain, [("ask_product", 0.25), ("greet", 0.2)],
                     [entity("product", "格力云佳空调", "云佳")])
    tracker.latest_message["text"] = "那云佳呢"
    tracker.slots.update({"product": "美的风尊空调", "last_attribute": "warranty"})
    events = run_action(ActionFallback(), dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_product_fact"]
    assert dispatcher.messages[0]["name"] == "格力云佳空调"
    assert slot_events(events)["product"] == "格力云佳空调"


@pytest.mark.parametrize("product, answer", [("美的风尊空调", "utter_product_fact"),
                                              (None, "utter_product_ask_which")])
def test_price_or_product_is_answered_not_asked_when_a_fact_is_named(db, domain, dispatcher,
                                                                    product, answer):
    # 包安装吗 (ask_product 0.42, ask_price 0.39): both are answered by the product action.
    tracker = unsure(domain, [("ask_product", 0.42), ("ask_price", 0.39)])
    tracker.latest_message["text"] = "包安装吗"
    tracker.slots["product"] = product
    run_action(ActionFallback(), dispatcher, tracker, domain)
    assert responses(dispatcher) == [answer]
    if product:
        assert dispatcher.messages[0]["attribute"] == "安装"


def test_price_or_product_without_a_fact_or_product_is_still_asked(db, domain, dispatcher):
    # Nothing in 宝宝湿巾 is a product of ours or a fact: the 风尊 in context is not meant.
    tracker = unsure(domain, [("ask_product", 0.42), ("ask_price", 0.39)])
    tracker.latest_message["text"] = "宝宝湿巾"
    tracker.slots["product"] = "美的风尊空调"
    run_action(ActionFallback(), dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_clarify"]


def test_a_cheaper_one_the_classifier_missed_is_chosen_from_the_context(db, domain,
                                                                       dispatcher):
    # 风尊多少钱 → 有没有更便宜的 (unsure between competitor and trust): the cheaper ones.
    tracker = unsure(domain, [("objection_competitor", 0.42), ("objection_trust", 0.25)])
    tracker.latest_message["text"] = "有没有更便宜的"
    tracker.slots.update({"product": "美的风尊空调", "category": "空调"})
    run_action(ActionFallback(), dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_product_candidates"]
    listed = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert listed == ["海尔静悦空调", "格力云佳空调"]


def test_without_a_context_a_cheaper_one_is_still_clarified(db, domain, dispatcher):
    tracker = unsure(domain, [("objection_competitor", 0.42), ("objection_trust", 0.25)])
    tracker.latest_message["text"] = "有没有更便宜的"
    run_action(ActionFallback(), dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_clarify"]


def test_an_order_placed_the_classifier_missed_is_thanked(db, domain, dispatcher):
    tracker = unsure(domain, [("goodbye", 0.23), ("order_status", 0.21)])
    tracker.latest_message["text"] = "我拍了"
    assert run_action(ActionFallback(), dispatcher, tracker, domain) == []
    assert responses(dispatcher) == ["utter_buying_ordered"]


@pytest.mark.parametrize("text", ["那云佳呢怎么还不发货我都等了一个星期了呢", "云佳"])
def test_not_every_message_with_a_product_is_a_follow_up(domain, dispatcher, text):
    tracker = unsure(domain, [("ask_product", 0.25), ("greet", 0.2)],
                     [entity("product", "格力云佳空调", "云佳")])
    tracker.latest_message["text"] = text
    run_action(ActionFallback(), dispatcher, tracker, domain)
    assert "utter_product_fact" not in responses(dispatcher)


@pytest.mark.parametrize("ranking", [
    [("ask_price", 0.28), ("out_of_scope", 0.27)],      # one meaning worth offering
    [("ask_price", 0.28), ("complain", 0.05)],          # the second is too unlikely
    [("ask_price", 0.28), ("complain", 0.12)],          # … still too unlikely
    [("faq", 0.28), ("out_of_scope", 0.27)],            # none
])
def test_fallback_without_two_likely_meanings_asks_to_rephrase(domain, dispatcher, ranking):
    events = run_action(ActionFallback(), dispatcher, unsure(domain, ranking), domain)
    assert responses(dispatcher) == ["utter_default"] and events == []


def test_a_second_miss_after_a_clarification_goes_to_a_human(db, staff_online, domain,
                                                             dispatcher):
    tracker = unsure(domain, [("ask_price", 0.28), ("after_sales", 0.26)],
                     intents=("greet", "nlu_fallback", "nlu_fallback"))
    events = run_action(ActionFallback(), dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_handoff"] and paused(events)


# =================================================================== database down


@pytest.fixture(params=["unreachable", "no_tables"])
def down_db(request, clock):
    """A database that fails: nothing listening, or a schema that was dropped."""
    if request.param == "unreachable":
        engine = create_engine(
            "postgresql+psycopg2://nobody@127.0.0.1:1/x",
            future=True,
            connect_args={"connect_timeout": 2},
        )
    else:
        engine = make_memory_engine()
        Base.metadata.create_all(engine)
        Base.metadata.drop_all(engine)
    use_engine(engine)
    yield engine
    engine.dispose()


DB_CASES = {
    "report_order": (ActionReportOrder, {"order_no": "DD202611200001", "phone_last4": "8001"},
                     "order_status", []),
    "answer_product": (ActionAnswerProduct, {}, "ask_price", [entity("product", "美的风尊空调")]),
    "product_ask_which": (ActionAnswerProduct, {}, "ask_product", []),
    "open_complaint": (ActionOpenComplaint, {"complaint_detail": "空调不制冷"}, "inform", []),
    "angry_complaint": (ActionAcknowledgeComplaint, {}, "complain", []),
    "objection": (ActionHandleObjection, {"product": "美的风尊空调"}, "objection_price", []),
    "handoff": (ActionHandoff, {}, "request_human", []),
}


@pytest.mark.parametrize("case", sorted(DB_CASES))
def test_database_down_gives_an_apology(domain, dispatcher, down_db, case):
    action_class, slots, intent, entities = DB_CASES[case]
    tracker = make_tracker(domain, slots=slots, text="垃圾店 气死了", intent=intent,
                           entities=entities)
    events = run_action(action_class(), dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_service_unavailable"]
    assert events == []


def test_fallback_with_database_down(domain, dispatcher, down_db):
    tracker = conversation(domain, ["nlu_fallback", "nlu_fallback"], "conv-down")
    assert run_action(ActionFallback(), dispatcher, tracker, domain) == []
    assert responses(dispatcher) == ["utter_service_unavailable"]



def phone_turns(domain, phone_text: str, phone: str):
    """The customer typed a phone number, then (asked for the order) its number."""
    events = [
        user_event(phone_text, "order_status", [entity("phone", phone, phone_text)]),
        user_event("DD202611200001", "inform"),
        {"event": "slot", "timestamp": None, "name": "order_no", "value": "DD202611200001"},
    ]
    tracker = make_tracker(domain, slots={"order_no": "DD202611200001",
                                          "requested_slot": "order_no"},
                           text="DD202611200001", intent="inform", events=events,
                           active_loop="order_form")
    dispatcher = CollectingDispatcher()
    return dispatcher, slot_events(run_action(ValidateOrderForm(), dispatcher, tracker, domain))


def test_the_orders_phone_typed_earlier_passes_the_check(db, domain):
    dispatcher, slots = phone_turns(domain, "我手机13800138001 帮我查订单", "13800138001")
    assert slots["order_no"] == "DD202611200001"
    assert slots["phone_last4"] == "8001" and slots["verified_order"].startswith("DD2026112")
    assert dispatcher.messages == []


def test_another_phone_typed_earlier_still_gets_asked(db, domain):
    _, slots = phone_turns(domain, "我手机13912345678 帮我查订单", "13912345678")
    assert slots["order_no"] == "DD202611200001"
    assert "phone_last4" not in slots and "verified_order" not in slots
