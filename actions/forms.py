"""Leaving a form the customer has moved on from.

The order form asks for an order number. A question in between (a product, a price,
an objection) is answered and the form asks again; measured with `make run`, a
customer who went on asking about products got the order-number prompt appended to
every answer. Now the second side question in a row ends the form quietly, with a
hint that an order number is still welcome (knowledge/policies.yml `order_form`).

A status query asked before ordering (什么时候发货, guide rule 6) starts the form too;
the customer who answers 我还没下单 gets the delivery times and the form ends.
"""

from __future__ import annotations

from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from shop import knowledge
from shop.order_text import ORDER_FORM, says_no_order, side_questions

# The order form's slots and bookkeeping, cleared whenever it ends; NO_ORDER the kind
# of request once the customer said there is no order: nothing left to do.
RESET_SLOTS = ("order_no", "phone_last4", "form_failures", "service_kind", "verified_order",
               "verification_locked", "request_detail")
NO_ORDER = "no_order"


def reset_events() -> List[EventType]:
    return [SlotSet(slot, None) for slot in RESET_SLOTS]


def tell_no_order(dispatcher: CollectingDispatcher) -> None:
    """我还没下单: no order to look up, then the delivery times (without the FAQ's button)."""
    dispatcher.utter_message(response="utter_no_order_yet")
    dispatcher.utter_message(text=knowledge.faq()["delivery_time"])


def leave_without_order(dispatcher: CollectingDispatcher,
                        tracker: Tracker) -> Optional[List[EventType]]:
    """我还没下单 (read as anything) to a status query: the delivery times, the form ends."""
    text = str((tracker.latest_message or {}).get("text") or "")
    if tracker.active_loop_name != ORDER_FORM or not says_no_order(
            text, tracker.get_slot("service_kind")):
        return None
    tell_no_order(dispatcher)
    return [ActiveLoop(None), SlotSet("requested_slot", None), *reset_events()]


def leave_ignored_form(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """Ends the order form on the customer's second side question in a row."""
    if tracker.active_loop_name != ORDER_FORM:
        return []
    rules = knowledge.policies()["order_form"]
    if side_questions(tracker.events, ORDER_FORM) < int(rules["side_questions_before_leaving"]):
        return []
    dispatcher.utter_message(text=rules["left_hint"])
    return [ActiveLoop(None), SlotSet("requested_slot", None)]
