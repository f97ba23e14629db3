"""Leaving a form the customer has moved on from.

The order form asks for an order number. A question in between (a product, a price,
an objection) is answered and the form asks again; measured with `make run`, a
customer who went on asking about products got the order-number prompt appended to
every answer. Now the second side question in a row ends the form quietly, with a
hint that an order number is still welcome (knowledge/policies.yml `order_form`).
"""

from __future__ import annotations

from typing import List

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from shop import knowledge
from shop.order_text import ORDER_FORM, side_questions


def leave_ignored_form(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """Ends the order form on the customer's second side question in a row."""
    if tracker.active_loop_name != ORDER_FORM:
        return []
    rules = knowledge.policies()["order_form"]
    if side_questions(tracker.events, ORDER_FORM) < int(rules["side_questions_before_leaving"]):
        return []
    dispatcher.utter_message(text=rules["left_hint"])
    return [ActiveLoop(None), SlotSet("requested_slot", None)]
