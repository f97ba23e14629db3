"""What the order form does once the customer is verified: tell the status, or open a
return, price-difference (价保) or repair ticket under the policies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable, Dict

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from shop import deadlines, knowledge
from shop.db import repository
from shop.db.models import Order
from shop.tickets import ticket_summary

# Orders past any request: nothing to return or refund.
CLOSED = frozenset({"cancelled", "refunding", "refunded"})


def status_label(order: Order) -> str:
    """The order's status as the customer is told it (knowledge/policies.yml)."""
    return knowledge.policies()["order_statuses"].get(order.status, order.status)


def tell_status(dispatcher: CollectingDispatcher, order: Order) -> None:
    items = "、".join(f"{item.product.name}×{item.qty}" for item in order.items)
    dispatcher.utter_message(
        response="utter_order_status",
        order_no=order.order_no,
        items=items,
        status=status_label(order),
    )
    if order.carrier and order.shipped_at:
        dispatcher.utter_message(
            response="utter_order_shipping",
            carrier=order.carrier,
            tracking_no=order.tracking_no or "",
            shipped_at=deadlines.format_local(order.shipped_at),
        )
    if order.status == "delivered" and order.delivered_at:
        dispatcher.utter_message(
            response="utter_order_delivered",
            delivered_at=deadlines.format_local(order.delivered_at),
        )


def open_ticket(kind: str, session: Any, tracker: Tracker, order: Order, reason: str) -> Any:
    return repository.tickets.create_ticket(
        session=session,
        kind=kind,
        conversation_id=tracker.sender_id,
        summary=ticket_summary(kind, order_no=order.order_no, reason=reason),
        detail=tracker.get_slot("request_detail") or "",  # the customer's own words
        customer_id=order.customer_id,
        order_no=order.order_no,
    )


def request_return(
    dispatcher: CollectingDispatcher, tracker: Tracker, session: Any, order: Order
) -> None:
    returns = knowledge.policies()["returns"]
    if order.status in CLOSED:
        dispatcher.utter_message(
            response="utter_return_closed", status=status_label(order)
        )
        return
    if order.status not in returns["returnable_statuses"] or order.delivered_at is None:
        dispatcher.utter_message(
            response="utter_return_not_delivered", status=status_label(order)
        )
        return
    age = deadlines.utcnow() - order.delivered_at
    if age <= timedelta(days=returns["no_reason_days"]):
        reason = returns["reasons"]["no_reason"].format(days=returns["no_reason_days"])
    elif age <= timedelta(days=returns["fault_exchange_days"]):
        reason = returns["reasons"]["fault_exchange"].format(
            days=returns["fault_exchange_days"]
        )
    else:
        dispatcher.utter_message(
            response="utter_return_expired", days=returns["fault_exchange_days"]
        )
        return
    ticket = open_ticket("return", session, tracker, order, reason)
    dispatcher.utter_message(
        response="utter_return_ticket",
        ticket=ticket.number,
        reason=reason,
        respond_due=deadlines.format_local(ticket.respond_due),
        resolve_due=deadlines.format_local(ticket.resolve_due),
        refund_days=returns["refund_working_days"],
    )


def request_price_difference(
    dispatcher: CollectingDispatcher, tracker: Tracker, session: Any, order: Order
) -> None:
    policy = knowledge.policies()["price_protection"]
    if order.status in CLOSED or order.paid_at is None:
        dispatcher.utter_message(
            response="utter_price_diff_closed", status=status_label(order))
        return
    if deadlines.utcnow() - order.paid_at > timedelta(days=policy["days"]):
        dispatcher.utter_message(response="utter_price_diff_expired", days=policy["days"])
        return
    reason = policy["reason"].format(days=policy["days"])
    ticket = open_ticket("price_diff", session, tracker, order, reason)
    dispatcher.utter_message(
        response="utter_price_diff_ticket", ticket=ticket.number, reason=reason,
        respond_due=deadlines.format_local(ticket.respond_due),
        refund_days=policy["refund_working_days"],
    )


def request_repair(
    dispatcher: CollectingDispatcher, tracker: Tracker, session: Any, order: Order
) -> None:
    start = order.delivered_at or order.placed_at
    months = max((item.product.warranty_months for item in order.items), default=0)
    in_warranty = deadlines.utcnow() <= start + timedelta(days=months * 30)
    states = knowledge.policies()["after_sales"]["warranty_states"]
    warranty_state = states["in_warranty" if in_warranty else "out_of_warranty"]
    ticket = open_ticket("repair", session, tracker, order, warranty_state)
    dispatcher.utter_message(
        response="utter_repair_ticket",
        ticket=ticket.number,
        warranty_state=warranty_state,
        respond_due=deadlines.format_local(ticket.respond_due),
        resolve_due=deadlines.format_local(ticket.resolve_due),
    )


# service_kind → what is done for a verified order (anything else: its status).
REQUESTS: Dict[str, Callable[[CollectingDispatcher, Tracker, Any, Order], None]] = {
    "return": request_return,
    "price_diff": request_price_difference,
    "repair": request_repair,
}
