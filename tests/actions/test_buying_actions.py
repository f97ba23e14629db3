"""A customer who has decided is told how to order, whatever the classifier read; one who
has said no twice is left in peace (actions/buying.py, actions/objections.py)."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from conftest import (
    entity,
    make_tracker,
    render,
    responses,
    run_action,
    slot_events,
    texts,
    user_event,
)
from rasa_sdk.executor import CollectingDispatcher

from actions.objections import ActionHandleObjection
from actions.products import ActionAffirm, ActionAnswerProduct
from shop import buying, knowledge, not_sold

DECLINED = knowledge.objections()["declined"]["text"]


def run(domain, action: Any, text: str, intent: str, entities=None, **slots: Any):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, slots=slots, text=text, intent=intent, entities=entities)
    events = run_action(action, dispatcher, tracker, domain)
    return dispatcher, slot_events(events)


@pytest.mark.parametrize("action, intent", [(ActionHandleObjection(), "objection_no_need"),
                                            (ActionAnswerProduct(), "ask_product")])
def test_a_decision_gets_how_to_order_for_the_product_in_context(db, domain, action, intent):
    dispatcher, slots = run(domain, action, "那就买这个吧", intent, product="美的风尊空调")
    assert responses(dispatcher) == ["utter_buying_decided"]
    [said] = [render(domain, m) for m in dispatcher.messages]
    assert "美的风尊空调" in said and "2,999" in said and buying.how_to_order() in said
    # No sales script, no objection counted.
    assert "objection_history" not in slots


def test_a_decision_naming_a_product_makes_it_the_context(db, domain):
    text = "小米14，就它了"
    dispatcher, slots = run(domain, ActionAnswerProduct(), text, "ask_product",
                            [entity("product", "小米14", text)], product="美的风尊空调")
    assert dispatcher.messages[0]["product"] == "小米14"
    assert slots["product"] == "小米14"


@pytest.mark.parametrize("brand, bought", [("海尔", "海尔静悦空调"), ("格力", None)])
def test_a_brand_after_a_list_is_its_one_product_there(db, domain, brand, bought):
    # 有没有更便宜的 (a list of air conditioners) → 那就买海尔的吧; 格力 has two of them.
    text = f"那就买{brand}的吧"
    dispatcher, _ = run(domain, ActionHandleObjection(), text, "objection_no_need",
                        [entity("brand", brand, text)], category="空调")
    assert dispatcher.messages[0].get("product") == bought
    assert responses(dispatcher) == (["utter_buying_decided"] if bought
                                     else ["utter_buying_decided_any"])


def test_a_decision_without_a_product_still_gets_the_steps(db, domain):
    dispatcher, _ = run(domain, ActionHandleObjection(), "买了", "objection_no_need")
    assert responses(dispatcher) == ["utter_buying_decided_any"]
    assert dispatcher.messages[0]["how"] == buying.how_to_order()


def test_an_order_placed_is_thanked_with_the_dispatch_times(db, domain):
    dispatcher, _ = run(domain, ActionHandleObjection(), "拍下了", "objection_no_need",
                        product="美的风尊空调")
    assert responses(dispatcher) == ["utter_buying_ordered"]
    assert buying.dispatch_times() in render(domain, dispatcher.messages[0])


def test_a_second_no_is_respected_without_a_script_or_a_human(db, domain):
    dispatcher, slots = run(domain, ActionHandleObjection(), "真用不上", "objection_no_need",
                            objection_history=["no_need|ask|no_need_ask_1"])
    assert texts(dispatcher) == [DECLINED]
    assert "utter_offer_human" not in responses(dispatcher)
    assert slots == {}


@pytest.mark.parametrize("history", [["price|ask|price_ask_1"], ["price|ask|price_ask_1"] * 3])
def test_a_plain_no_to_a_script_is_respected_at_once(db, domain, history):
    """不需要了 (deny) after a price script: no second script, no human."""
    dispatcher, slots = run(domain, ActionHandleObjection(), "不需要了", "deny",
                            objection_history=history, product="美的风尊空调")
    assert texts(dispatcher) == [DECLINED]
    assert "utter_offer_human" not in responses(dispatcher)
    assert slots == {}


def test_no_human_is_offered_to_one_who_has_just_said_no(db, domain):
    # The second objection, which would offer a human were it a price objection.
    dispatcher, slots = run(domain, ActionHandleObjection(), "用不上", "objection_no_need",
                            objection_history=["price|ask|price_ask_1"])
    assert "utter_offer_human" not in responses(dispatcher)
    assert "human_offered" not in slots
    assert [e.split("|")[0] for e in slots["objection_history"]] == ["price", "no_need"]


@pytest.mark.parametrize("text, response", [("就它了", "utter_buying_decided"),
                                            ("好的，我买了", "utter_buying_decided"),
                                            ("好的", "utter_anything_else"),
                                            ("嗯嗯可以", "utter_anything_else")])
def test_a_yes_is_a_decision_only_when_it_says_so(db, domain, text, response):
    dispatcher, _ = run(domain, ActionAffirm(), text, "affirm", product="小米14")
    assert responses(dispatcher) == [response]



def not_sold_turn(domain, thing: str = "苹果手机") -> List[Dict[str, Any]]:
    """你们卖X吗 answered, recorded as Rasa records it (rasa.core.actions.action): the bot
    event carries the buttons, and its metadata the response's name and the values
    filled in, those left empty dropped."""
    asked = f"你们卖{thing}吗"
    named = [entity("product", thing, asked)]  # as the catalogue extractor names it
    dispatcher, _ = run(domain, ActionAnswerProduct(), asked, "ask_product", named)
    [reply] = dispatcher.messages
    assert reply["response"] == not_sold.NOT_SOLD_REPLY
    filled = {key: value for key, value in reply.items()
              if key not in ("response", "buttons", "text") and value}
    return [user_event(asked, "ask_product", named),
            {"event": "action", "name": "action_answer_product"},
            {"event": "bot", "text": render(domain, reply), "data": {"buttons": reply["buttons"]},
             "metadata": {**filled, "utter_action": reply["response"]}}]


def yes_after(domain, history: List[Dict[str, Any]], text: str = "好的"):
    latest = user_event(text, "affirm")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, text=text, intent="affirm", events=[*history, latest])
    events = run_action(ActionAffirm(), dispatcher, tracker, domain)
    return dispatcher, slot_events(events)


@pytest.mark.parametrize("text", ["好的", "👌", "可以"])
def test_a_yes_to_the_offer_after_we_dont_sell_it_lists_the_nearest_category(db, domain, text):
    """"本店暂时没有销售苹果手机……要不要看看相关的商品？" → 好的: the phones, as a tap
    on the first button would."""
    history = not_sold_turn(domain)
    assert not_sold.offered_category(history + [user_event(text, "affirm")]) == "手机"
    dispatcher, slots = yes_after(domain, history, text)
    said = "".join(render(domain, m) for m in dispatcher.messages)
    assert "华为Mate60" in said and "小米14" in said
    assert "utter_anything_else" not in responses(dispatcher)
    assert slots.get("category") == "手机"


def test_a_yes_when_nothing_we_sell_is_near_asks_which_category(db, domain):
    """戴森吹风机: no category of ours is near a hair dryer, so the first button is just
    our first category; a yes asks which one instead of listing fridges."""
    history = not_sold_turn(domain, "戴森吹风机")
    assert not_sold.offered_category(history + [user_event("👌", "affirm")]) == ""
    dispatcher, _ = yes_after(domain, history, "👌")
    assert responses(dispatcher) == ["utter_pick_category"]


def test_a_yes_after_anything_else_is_a_plain_yes(db, domain):
    history = not_sold_turn(domain)
    later = [user_event("冰箱有哪些", "ask_product"),
             {"event": "bot", "text": "冰箱我们有……", "data": {"buttons": []},
              "metadata": {"utter_action": "utter_product_list"}}]
    assert not_sold.offered_category(history + later + [user_event("好的", "affirm")]) is None
    dispatcher, _ = yes_after(domain, history + later)
    assert responses(dispatcher) == ["utter_anything_else"]


@pytest.mark.parametrize("payload", ["/ask_product", "/ask_product{not json", "", None,
                                     '/ask_product{"product": "x"}'])
def test_a_reply_with_no_category_button_opens_no_category(payload):
    events = [user_event("你们卖X吗", "ask_product"),
              {"event": "bot", "text": "……", "data": {"buttons": [{"title": "x",
                                                                 "payload": payload}]},
               "metadata": {"utter_action": not_sold.NOT_SOLD_REPLY, "instead": "手机我们有…"}},
              user_event("好的", "affirm")]
    assert not_sold.offered_category(events) == ""
