"""Which two meanings a clarification offers (shop/clarify.py, service_commitments.yml)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from shop import clarify


def parse(ranking: List[Tuple[str, float]], faq_key: Optional[str] = None,
          entities: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    parsed: Dict[str, Any] = {
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "entities": entities or []}
    if faq_key:
        parsed["response_selector"] = {"faq": {"response": {"intent_response_key": faq_key}}}
    return parsed


def test_an_faq_answer_is_offered_by_its_key_with_a_question_for_its_button():
    first, second = clarify.options(parse([("faq", 0.49), ("order_status", 0.48)],
                                          "faq/delivery_time"))
    assert first == clarify.Option("faq", "问下单后多久发货、几天能到", "现在下单几天能到")
    assert second == clarify.Option("order_status", "查询订单物流", "/order_status")


def test_an_faq_answer_without_a_phrase_is_passed_over():
    # membership has no phrase: the next two meanings are offered instead
    picked = clarify.options(parse([("faq", 0.4), ("ask_price", 0.3), ("complain", 0.2)],
                                   "faq/membership"))
    assert [o.intent for o in picked] == ["ask_price", "complain"]
    assert clarify.options(parse([("faq", 0.4), ("ask_price", 0.3)])) == []  # no key


def test_an_intents_button_carries_the_product_named():
    named = [{"entity": "product", "value": "美的风尊空调"}, {"entity": "order_no", "value": "x"}]
    picked = clarify.options(parse([("ask_price", 0.28), ("after_sales", 0.26)], None, named))
    assert [o.payload for o in picked] == ['/ask_price{"product": "美的风尊空调"}',
                                           '/after_sales{"product": "美的风尊空调"}']


def test_unlikely_or_unknown_meanings_are_not_offered():
    assert clarify.options(parse([("ask_price", 0.5), ("after_sales", 0.1)])) == []
    assert clarify.options(parse([("greet", 0.5), ("ask_price", 0.4)])) == []


def test_every_faq_offered_has_a_question_for_its_button():
    rules = clarify.rules()
    offered = {k for k in rules["options"] if k.startswith("faq/")}
    assert offered and offered == set(rules["faq_questions"])


def test_a_price_and_a_product_question_get_the_same_answer():
    assert clarify.same_answer(clarify.options(parse([("ask_price", 0.3), ("ask_product", 0.29)])))
    assert not clarify.same_answer(clarify.options(parse([("ask_price", 0.3), ("complain", 0.29)])))
    assert not clarify.same_answer([])
