"""Leaving the order form after two side questions in a row (actions/forms.py; the
count is shop/order_text.py)."""

from __future__ import annotations

from conftest import entity, make_tracker, run_action, texts, user_event
from rasa_sdk.executor import CollectingDispatcher

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
