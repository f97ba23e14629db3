"""Escalation to a human: a handoff ticket with a summary, then the bot pauses."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import DomainDict, ShopAction
from shop import deadlines, knowledge
from shop.db import repository
from shop.db.engine import session_scope
from shop.tickets import handoff_reason, ticket_summary

logger = logging.getLogger(__name__)

SUMMARY_SLOTS = ("product", "brand", "category", "order_no", "service_kind")


def verified_orders(tracker: Tracker) -> List[Tuple[str, str]]:
    """(order number, local time) of each order whose phone check passed in this
    session; an identity never carries over from an earlier session."""
    found: List[Tuple[str, str]] = []
    for event in tracker.events:
        if event.get("event") == "session_started":
            found = []
        elif (event.get("event") == "slot" and event.get("name") == "verified_order"
              and event.get("value")):
            order_no, _, when = str(event["value"]).partition("|")
            found.append((order_no, when))
    return found


def verified_customer(tracker: Tracker) -> Optional[str]:
    """The customer who owns the order verified last in this session, if any: a
    ticket opened afterwards is theirs (tier, orders) — with the verification named."""
    orders = verified_orders(tracker)
    if not orders:
        return None
    with session_scope() as session:
        order = repository.orders.find_order(session=session, order_no=orders[-1][0])
        return order.customer_id if order is not None else None


def conversation_summary(tracker: Tracker, reason: str) -> str:
    """What staff need at a glance: why, recent intents, known facts, lookups."""
    intents = [
        event.get("parse_data", {}).get("intent", {}).get("name")
        for event in tracker.events
        if event.get("event") == "user"
    ]
    facts = [f"{slot}={tracker.get_slot(slot)}" for slot in SUMMARY_SLOTS if tracker.get_slot(slot)]
    facts += [f"已核实订单{order_no}（{when}）" for order_no, when in verified_orders(tracker)]
    return ticket_summary(
        "handoff",
        reason=reason,
        intents=" → ".join(name for name in intents[-6:] if name) or "-",
        facts="，".join(facts) or "-",
        looked_up="、".join(tracker.get_slot("looked_up") or []) or "-",
    )


def open_handoff(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: str, detail: str = ""
) -> List[EventType]:
    """Opens (or reuses) the conversation's handoff ticket, tells the customer, pauses."""
    now = deadlines.utcnow()
    with session_scope() as session:
        ticket = repository.tickets.ensure_open_ticket(
            session=session,
            kind="handoff",
            conversation_id=tracker.sender_id,
            summary=conversation_summary(tracker, reason),
            detail=detail,
            customer_id=verified_customer(tracker),
            now=now,
        )
        number, respond_due = ticket.number, ticket.respond_due
        commitments = knowledge.commitments()
        window = timedelta(seconds=commitments["staff_hours"]["online_window_seconds"])
        online = repository.staff.staff_online(session=session, since=now - window)
    logger.info("Handoff %s for conversation %s: %s", number, tracker.sender_id, reason)
    due = deadlines.format_local(respond_due)
    if deadlines.staff_available(now, commitments) and online:
        dispatcher.utter_message(response="utter_handoff", ticket=number, respond_due=due)
    elif deadlines.staff_available(now, commitments):
        # Working hours, but nobody at a console: say so instead of a silent wait.
        dispatcher.utter_message(response="utter_handoff_no_staff", ticket=number, respond_due=due)
    else:
        hours = commitments["staff_hours"]
        dispatcher.utter_message(
            response="utter_handoff_after_hours",
            ticket=number,
            hours=f"{hours['start']}-{hours['end']}",
            respond_due=due,
        )
    return [
        SlotSet("handoff_ticket", number),
        SlotSet("human_offered", False),
        ConversationPaused(),
    ]


class ActionHandoff(ShopAction):
    """The customer asked for a human (or accepted the offer of one)."""

    def name(self) -> Text:
        return "action_handoff"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        intent: Optional[str] = (tracker.latest_message.get("intent") or {}).get("name")
        key = "requested" if intent in (None, "request_human") else "accepted"
        return open_handoff(dispatcher, tracker, handoff_reason(key))


class ActionDeclineHuman(ShopAction):
    """The customer declined the offered human: carry on with the bot."""

    def name(self) -> Text:
        return "action_decline_human"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_continue_with_bot")
        return [SlotSet("human_offered", False)]
