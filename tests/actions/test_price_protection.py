"""价保 (price protection): a refund of the difference after a price drop, asked for an
order (actions/orders.py) or asked about before buying (actions/products.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Optional

import pytest
from conftest import NOW, make_tracker, responses, run_action, slot_events, texts
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.orders import ActionBeginOrderRequest, ActionReportOrder
from actions.products import ActionAnswerProduct
from shop import knowledge
from shop.db.models import Order, Ticket
from shop.order_text import asks_price_difference
from shop.product_facts import policy_explanation

POLICY = knowledge.policies()["price_protection"]


@pytest.mark.parametrize(
    "text, asks",
    [("买了两天就降价了 能退差价吗", True), ("申请价保", True), ("给我补个差价", True),
     ("我昨天买的洗衣机今天降了一百块", True), ("刚下单就便宜了50", True),
     ("我要退货", False), ("拍错了能退吗", False), ("买了不想要了", False),
     ("等降价再买", False)],
)
def test_which_return_requests_ask_for_the_difference(text, asks):
    assert asks_price_difference(text) is asks


@pytest.mark.parametrize(
    "text, asks",
    [("我昨天买的洗衣机今天降了一百块", True), ("补差价的那个订单发货了吗", False),
     ("我的订单到哪了", False)],
)
def test_which_status_questions_ask_for_the_difference(text, asks):
    assert asks_price_difference(text, "status") is asks
    assert asks_price_difference(text, "repair") is False


@pytest.mark.parametrize("text, intent", [
    ("买了两天就降价了 能退差价吗", "return_refund"),
    # Read as order_status; the form takes it as 价保 all the same.
    ("我昨天买的洗衣机今天降了一百块", "order_status"),
])
def test_a_price_difference_request_explains_the_policy_not_returns(domain, text, intent):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, text=text, intent=intent)
    events = run_action(ActionBeginOrderRequest(), dispatcher, tracker, domain)
    assert slot_events(events) == {"service_kind": "price_diff", "form_failures": 0,
                                   "request_detail": text}
    assert responses(dispatcher) == ["utter_shop_fee"]
    value = dispatcher.messages[0]["value"]
    assert f"{POLICY['days']}天" in value and f"{POLICY['refund_working_days']}个工作日" in value
    assert "{" not in value and value == policy_explanation("price_protection")


def paid_days_ago(db, order_no: str) -> Optional[float]:
    with Session(db) as session:
        order = session.get(Order, order_no)
        return None if order.paid_at is None else (NOW - order.paid_at) / timedelta(days=1)


def report(domain, order_no: str) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(domain, slots={"order_no": order_no, "phone_last4": "8001",
                                          "service_kind": "price_diff"},
                           conversation_id="conv-price")
    run_action(ActionReportOrder(), dispatcher, tracker, domain)
    return dispatcher


def price_tickets(db):
    with Session(db) as session:
        return list(session.execute(
            select(Ticket).where(Ticket.kind == "price_diff")).scalars())


@pytest.mark.parametrize(
    "order_no, response",
    [
        ("DD202611180002", "utter_price_diff_ticket"),  # delivered a day ago
        ("DD202611200001", "utter_price_diff_ticket"),  # paid, in transit
        ("DD202609010003", "utter_price_diff_expired"),  # paid in September
        ("DD202611230004", "utter_price_diff_closed"),  # not paid yet
        ("DD202611212498", "utter_price_diff_closed"),  # cancelled
    ],
)
def test_report_price_difference(db, domain, order_no, response):
    days = paid_days_ago(db, order_no)
    dispatcher = report(domain, order_no)
    assert responses(dispatcher) == [response]
    opened = price_tickets(db)
    if response != "utter_price_diff_ticket":
        assert opened == []
        if response == "utter_price_diff_expired":
            assert days is not None and days > POLICY["days"]
            assert dispatcher.messages[0]["days"] == POLICY["days"]
        return
    assert days is not None and days <= POLICY["days"]
    [ticket] = opened
    assert (ticket.order_no, ticket.conversation_id) == (order_no, "conv-price")
    message = dispatcher.messages[0]
    assert message["ticket"] == ticket.number and message["refund_days"] == 3
    assert POLICY["reason"].format(days=POLICY["days"]) in ticket.summary
    assert ticket.resolve_due == NOW + timedelta(hours=72)


def test_asked_before_buying_the_policy_is_told(db, domain):
    for text in ("你们保价吗", "买了以后降价会退差价吗", "降价了补差价吗"):
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(domain, text=text, intent="ask_price")
        events = run_action(ActionAnswerProduct(), dispatcher, tracker, domain)
        assert responses(dispatcher) == ["utter_shop_fee"] and events == [], text
        assert dispatcher.messages[0]["attribute"] == "价保"
        assert dispatcher.messages[0]["value"] == policy_explanation("price_protection")
    assert texts(dispatcher) == []
