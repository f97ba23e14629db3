"""Leaving the order form after two side questions in a row, or when the customer has no
order to look up (actions/forms.py; the count and the words are shop/order_text.py)."""

from __future__ import annotations

import asyncio

import pytest
from conftest import entity, make_tracker, responses, run_action, slot_events, texts, user_event
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import NO_ORDER
from actions.objections import ActionHandleObjection
from actions.orders import ActionCancelRequest, ActionReportOrder, ValidateOrderForm
from actions.products import ActionAnswerProduct
from shop import knowledge
from shop.order_text import interrupted_form, side_questions

BEGIN = [user_event("订单啥时候到", "order_status"),
         {"event": "action", "name": "action_begin_order_request"},
         {"event": "active_loop", "name": "order_form"},
         {"event": "slot", "name": "requested_slot", "value": "order_no"}]
ASKED = {"event": "bot", "text": "请提供您的订单号"}


def product_question(text: str, product: str):
    return user_event(text, "ask_product", [entity("product", product, text)])


def test_side_questions_count_from_the_form_start_or_its_last_answer():
    one = product_question("风尊能制热吗", "风尊")
    two = product_question("小米14有货吗", "小米14")
    assert side_questions(BEGIN + [one], "order_form") == 1
    assert side_questions(BEGIN + [one, ASKED, two], "order_form") == 2
    answered = [user_event("DD202611200001", "inform"),
                {"event": "slot", "name": "order_no", "value": "DD202611200001"}]
    assert side_questions(BEGIN + [one, ASKED] + answered + [two], "order_form") == 1
    refused = [user_event("DD1", "inform"), {"event": "slot", "name": "order_no", "value": None}]
    # A refused answer is no answer.
    assert side_questions(BEGIN + refused + [one], "order_form") == 2


def test_the_form_a_message_interrupted_is_the_one_it_left():
    complaint = user_event("你们到底修不修啊", "complain")
    left = [{"event": "action", "name": "action_deactivate_loop"},
            {"event": "active_loop", "name": None}]
    assert interrupted_form(BEGIN + [ASKED, complaint] + left) == "order_form"
    # Still in the form, or left before the latest message: nothing was interrupted.
    assert interrupted_form(BEGIN + [ASKED, complaint]) is None
    assert interrupted_form(BEGIN + left + [complaint]) is None
    assert interrupted_form([complaint] + left) is None
    assert interrupted_form([]) is None


def run(domain, db, history, latest):
    tracker = make_tracker(domain, text=latest["text"], intent="ask_product",
                           entities=latest["parse_data"]["entities"],
                           events=history + [latest], active_loop="order_form")
    dispatcher = CollectingDispatcher()
    return dispatcher, run_action(ActionAnswerProduct(), dispatcher, tracker, domain)


def test_the_first_side_question_keeps_the_form(domain, db):
    dispatcher, events = run(domain, db, BEGIN, product_question("风尊能制热吗", "风尊"))
    assert not any(e.get("event") == "active_loop" for e in events)
    assert knowledge.policies()["order_form"]["left_hint"] not in texts(dispatcher)


def test_the_second_side_question_ends_the_form_with_a_hint(domain, db):
    history = BEGIN + [product_question("风尊能制热吗", "风尊"), ASKED]
    dispatcher, events = run(domain, db, history, product_question("小米14有货吗", "小米14"))
    assert {"event": "active_loop", "name": None} in [
        {"event": e["event"], "name": e.get("name")} for e in events
        if e.get("event") == "active_loop"]
    # The question is answered first (a response with the product's facts), then the hint.
    assert len(dispatcher.messages) >= 2
    assert "小米14" in str(dispatcher.messages[0])
    assert dispatcher.messages[-1]["text"] == knowledge.policies()["order_form"]["left_hint"]


def test_outside_the_form_nothing_changes(domain, db):
    tracker = make_tracker(domain, text="小米14有货吗", intent="ask_product",
                           entities=[entity("product", "小米14", "小米14有货吗")])
    dispatcher = CollectingDispatcher()
    events = run_action(ActionAnswerProduct(), dispatcher, tracker, domain)
    assert not any(e.get("event") == "active_loop" for e in events)


# ------------------------------------------- a status query from someone with no order

def in_form(domain, text: str, intent: str, kind: str = "status", order_no=None):
    """The order form asked for the number; `text` came back, read as `intent`."""
    # With `order_no`, the domain's from_text mapping took the message as the number.
    extracted = [{"event": "slot", "name": "order_no", "value": order_no}] if order_no else []
    return make_tracker(domain, slots={"requested_slot": "order_no", "service_kind": kind,
                                       "order_no": order_no},
                        text=text, intent=intent,
                        events=BEGIN + [ASKED, user_event(text, intent), *extracted],
                        active_loop="order_form")


def ended(events) -> bool:
    return {"event": "active_loop", "name": None} in [
        {"event": e["event"], "name": e.get("name")} for e in events
        if e.get("event") == "active_loop"]


@pytest.mark.parametrize("text", ["我还没下单", "还没买呢 想先问问", "没下单呢", "还没付款呢"])
@pytest.mark.parametrize("action, intent", [(ActionHandleObjection(), "objection_think"),
                                            (ActionAnswerProduct(), "ask_product"),
                                            (ActionCancelRequest(), "deny")])
def test_no_order_yet_ends_a_status_query_with_the_delivery_times(domain, db, action, intent,
                                                                   text):
    dispatcher = CollectingDispatcher()
    events = run_action(action, dispatcher, in_form(domain, text, intent), domain)
    # Not the objection script, a product answer or "cancelled": the delivery times, without
    # the FAQ answer's button to check an order.
    assert responses(dispatcher) == ["utter_no_order_yet", None]
    assert texts(dispatcher) == [knowledge.faq()["delivery_time"]]
    assert ended(events)
    assert slot_events(events)["service_kind"] is None


@pytest.mark.parametrize("text, kind", [
    ("我还没下单", "return"),           # a return needs an order: not this answer
    ("我还没下单", "repair"),
    ("没下单怎么扣钱了", "status"),     # a grievance, not "no order"
    ("我没有订单号 找不到", "status"),  # an order whose number is lost
    ("再考虑考虑", "status"),
])
def test_other_answers_in_the_form_are_not_taken_for_no_order(domain, db, text, kind):
    dispatcher = CollectingDispatcher()
    events = run_action(ActionHandleObjection(), dispatcher,
                        in_form(domain, text, "objection_think", kind), domain)
    assert "utter_no_order_yet" not in responses(dispatcher)
    assert not any(e.get("name") == "service_kind" for e in events)


def test_outside_the_form_no_order_yet_is_an_ordinary_message(domain, db):
    tracker = make_tracker(domain, text="我还没下单", intent="objection_think")
    dispatcher = CollectingDispatcher()
    run_action(ActionHandleObjection(), dispatcher, tracker, domain)
    assert "utter_no_order_yet" not in responses(dispatcher)


@pytest.mark.parametrize("text", ["我没有订单", "没下单呢"])
def test_no_order_read_as_an_answer_ends_the_form_without_a_failure(domain, db, text):
    tracker = in_form(domain, text, "order_status", order_no=text)
    dispatcher = CollectingDispatcher()
    slots = slot_events(run_action(ValidateOrderForm(), dispatcher, tracker, domain))
    assert responses(dispatcher) == ["utter_no_order_yet", None]
    assert texts(dispatcher) == [knowledge.faq()["delivery_time"]]
    # Nothing left to ask (requested_slot None: the form is done) and no failure counted.
    assert slots == {"order_no": None, "service_kind": NO_ORDER, "requested_slot": None}
    # The report that follows says nothing more and clears the slots.
    done = make_tracker(domain, slots={"service_kind": NO_ORDER})
    assert asyncio.run(ValidateOrderForm().required_slots(
        ["order_no", "phone_last4"], dispatcher, done, domain)) == []
    report = CollectingDispatcher()
    events = run_action(ActionReportOrder(), report, done, domain)
    assert report.messages == []
    assert slot_events(events)["service_kind"] is None


def test_no_order_words_in_a_repair_request_are_a_detail_not_an_end(domain, db):
    text = "还没买 是朋友送的"
    tracker = in_form(domain, text, "inform", kind="repair", order_no=text)
    dispatcher = CollectingDispatcher()
    slots = slot_events(run_action(ValidateOrderForm(), dispatcher, tracker, domain))
    assert "utter_no_order_yet" not in responses(dispatcher)
    assert slots.get("service_kind") is None and slots["form_failures"] == 1
