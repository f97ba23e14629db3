"""Escalation to a human: a handoff ticket with a summary, then the bot pauses."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import DomainDict, ShopAction
from shop import deadlines, knowledge
from shop.db import repository
from shop.db.engine import session_scope
from shop.tickets import handoff_reason, handoff_summary, verified_customer

logger = logging.getLogger(__name__)


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
            summary=handoff_summary(tracker.events, tracker.current_slot_values(), reason),
            detail=detail,
            customer_id=verified_customer(tracker.events),
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
