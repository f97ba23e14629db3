"""Complaints: empathy first, then a ticket with the committed deadlines.

Playbook §6: listen, apologise, clarify, promise a deadline, follow up. A second
complaint in one conversation, or strong anger, goes straight to a human.
"""

from __future__ import annotations

import logging
from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import DomainDict, ShopAction, latest_text, slot_number
from actions.handoff import open_handoff, verified_customer
from shop import deadlines, knowledge
from shop.db import repository
from shop.db.engine import session_scope
from shop.order_text import order_number_in
from shop.tickets import handoff_reason, ticket_summary

logger = logging.getLogger(__name__)

# Who wrote a note the assistant adds to a ticket (staff notes carry a staff name).
NOTE_AUTHOR = "assistant"
# A message this long already says what happened; no need to ask again.
DETAILED_CHARS = 12


def is_angry(text: str) -> bool:
    """Whether the message carries one of the configured strong-anger markers."""
    markers = knowledge.commitments()["complaints"]["anger_markers"]
    # str(): YAML reads an unquoted marker such as 12315 as an int.
    return any(str(marker) in text for marker in markers)


def open_complaint(tracker: Tracker, detail: str) -> dict:
    """Creates the complaint ticket and returns what the customer is told."""
    with session_scope() as session:
        ticket = repository.tickets.create_ticket(
            session=session,
            kind="complaint",
            conversation_id=tracker.sender_id,
            summary=ticket_summary("complaint", detail=detail[:60]),
            detail=detail,
            customer_id=verified_customer(tracker),
            order_no=None,
        )
        order_no = order_number_in(detail)
        if order_no and repository.orders.find_order(session=session, order_no=order_no):
            ticket.order_no = order_no
        return {
            "ticket": ticket.number,
            "respond_due": deadlines.format_local(ticket.respond_due),
            "resolve_due": deadlines.format_local(ticket.resolve_due),
            "callback_due": deadlines.format_local(ticket.callback_due),
        }


def complaint_to_escalate(tracker: Tracker, detail: str) -> str:
    """The conversation's open complaint, with this message noted on it; a new complaint
    if there is none. Returns the ticket number the customer is told."""
    with session_scope() as session:
        existing = repository.tickets.open_tickets(
            session=session, conversation_id=tracker.sender_id, kinds=["complaint"])
        if existing:
            ticket = existing[-1]
            note = knowledge.commitments()["tickets"]["complaint"]["again_note"]
            repository.tickets.add_note(session=session, ticket=ticket, author=NOTE_AUTHOR,
                                        text=note.format(detail=detail))
            return ticket.number
    return open_complaint(tracker, detail)["ticket"]


class ActionAcknowledgeComplaint(ShopAction):
    """Apologises and empathises; escalates a repeated or angry complaint."""

    def name(self) -> Text:
        return "action_acknowledge_complaint"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        text = latest_text(tracker)
        count = slot_number(tracker, "complaint_count") + 1
        events: List[EventType] = [SlotSet("complaint_count", count)]
        dispatcher.utter_message(response="utter_complaint_empathy")

        rules = knowledge.commitments()["complaints"]
        angry = is_angry(text)
        if angry or count >= int(rules["escalate_after"]):
            reason = (
                handoff_reason("complaint_angry")
                if angry
                else handoff_reason("complaint_repeated", count=count)
            )
            dispatcher.utter_message(response="utter_complaint_escalated",
                                     ticket=complaint_to_escalate(tracker, text))
            return events + open_handoff(dispatcher, tracker, reason, detail=text)
        if len(text) >= DETAILED_CHARS:
            events.append(SlotSet("complaint_detail", text))
        return events


class ActionOpenComplaint(ShopAction):
    """Registers the complaint and tells the customer the committed deadlines."""

    def name(self) -> Text:
        return "action_open_complaint"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        detail = tracker.get_slot("complaint_detail") or latest_text(tracker)
        ticket = open_complaint(tracker, detail)
        logger.info("Complaint %s opened for %s", ticket["ticket"], tracker.sender_id)
        dispatcher.utter_message(response="utter_complaint_ticket", **ticket)
        return [SlotSet("complaint_detail", None)]
