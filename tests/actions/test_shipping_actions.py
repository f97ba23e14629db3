"""action_answer_delivery (actions/shipping.py) and a shipping-fee question naming a
place (actions/products.py), against the real domain and knowledge."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from conftest import entity, make_tracker, responses, run_action, texts
from rasa_sdk.executor import CollectingDispatcher

from actions.products import ActionAnswerProduct
from actions.shipping import ActionAnswerDelivery
from shop import shipping


def places(text: str) -> List[Dict[str, Any]]:
    """The `place` entities the NLU extractor gives `text`."""
    return [{**entity("place", m.name), "start": m.start, "end": m.end}
            for m in shipping.find(text)]


def selector(key: str) -> Dict[str, Any]:
    return {"faq": {"response": {"intent_response_key": key}}}


def answer(domain, text: str, intent: str, key: Optional[str] = None,
           action: Any = ActionAnswerDelivery):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, text=text, intent=intent, entities=places(text),
                           response_selector=selector(key) if key else None)
    events = run_action(action(), dispatcher, tracker, domain)
    return dispatcher, events


def test_a_delivery_question_naming_a_city_gets_that_citys_answer(domain):
    dispatcher, events = answer(domain, "到武汉大概多少天", "faq", "faq/delivery_time")
    assert texts(dispatcher) == [shipping.reply("武汉")] and events == []
    assert "发往武汉" in texts(dispatcher)[0] and "1-3天" in texts(dispatcher)[0]


def test_a_remote_place_gets_the_remote_time_and_fee(domain):
    dispatcher, _ = answer(domain, "寄到乌鲁木齐要几天", "faq", "faq/delivery_time")
    reply = texts(dispatcher)[0]
    assert reply.startswith("亲，乌鲁木齐可以送到") and "3-7天" in reply and "30元" in reply


def test_a_place_not_served_is_told_so(domain):
    dispatcher, _ = answer(domain, "发到香港吗", "faq", "faq/delivery_area")
    assert "暂不支持配送到香港" in texts(dispatcher)[0]


def test_another_faq_naming_a_place_gets_its_usual_answer(domain):
    dispatcher, _ = answer(domain, "杭州能开发票吗", "faq", "faq/invoice")
    assert responses(dispatcher) == ["utter_faq/invoice"]


def test_a_place_named_alone_is_the_delivery_question(domain):
    for text, intent in (("杭州", "out_of_scope"), ("新疆那边呢", "nlu_fallback"),
                         ("发拉萨", "inform"), ("西藏拉萨", "out_of_scope")):
        dispatcher, events = answer(domain, text, intent)
        assert len(texts(dispatcher)) == 1 and events == [], text
    assert texts(answer(domain, "西藏拉萨", "out_of_scope")[0])[0].startswith("亲，拉萨")


def test_more_than_a_place_goes_where_it_would_have_gone(domain):
    dispatcher, events = answer(domain, "我在杭州上学", "out_of_scope")
    assert responses(dispatcher) == ["utter_out_of_scope"] and events == []
    # Not understood: the fallback's own answer (a rephrase request, or A-or-B).
    dispatcher, _ = answer(domain, "杭州那个东西", "nlu_fallback")
    assert responses(dispatcher) == ["utter_default"]


def test_a_shipping_fee_question_naming_a_place(db, domain):
    dispatcher, _ = answer(domain, "新疆包邮吗", "ask_price", action=ActionAnswerProduct)
    assert texts(dispatcher) == [shipping.reply("新疆", fee_only=True)]
    dispatcher, _ = answer(domain, "发杭州包邮吗", "ask_price", action=ActionAnswerProduct)
    assert "全场包邮" in texts(dispatcher)[0]
    # Without a place: the shop-wide fee, as before.
    dispatcher, _ = answer(domain, "包邮吗", "ask_price", action=ActionAnswerProduct)
    assert responses(dispatcher) == ["utter_shop_fee"]
