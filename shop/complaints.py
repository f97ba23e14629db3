"""Complaint tickets: a new one with the committed deadlines, or the conversation's open
one escalated with a note (a complaint repeated after its ticket). Wording and markers
are knowledge/service_commitments.yml."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from shop import deadlines, knowledge
from shop.db import repository
from shop.db.engine import session_scope
from shop.order_text import order_number_in
from shop.tickets import ticket_summary

# Who wrote a note the assistant adds to a ticket (staff notes carry a staff name).
NOTE_AUTHOR = "assistant"


def last_complaint(events: List[Dict[str, Any]]) -> str:
    """The latest message read as a complaint in a conversation's events ("" if none)."""
    for event in reversed(events):
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if event.get("event") == "user" and intent == "complain":
            return str(event.get("text") or "").strip()
    return ""


def is_angry(text: str) -> bool:
    """Whether the message carries one of the configured strong-anger markers."""
    markers = knowledge.commitments()["complaints"]["anger_markers"]
    # str(): YAML reads an unquoted marker such as 12315 as an int.
    return any(str(marker) in text for marker in markers)


def is_vague(text: str) -> bool:
    """Whether a complaint detail says nothing: only the configured filler words
    (那个, 就是, 嗯 …), punctuation, emoji and white space."""
    words = sorted((str(w) for w in knowledge.commitments()["complaints"]["vague_words"]),
                   key=len, reverse=True)
    left = re.sub("|".join(map(re.escape, words)), "", text or "")
    # What is left that could carry meaning: letters of any script and digits.
    return not any(ch.isalnum() for ch in left)


def open_complaint(conversation_id: str, customer_id: Optional[str], detail: str
                   ) -> Dict[str, str]:
    """Creates the complaint ticket and returns what the customer is told."""
    with session_scope() as session:
        ticket = repository.tickets.create_ticket(
            session=session,
            kind="complaint",
            conversation_id=conversation_id,
            summary=ticket_summary("complaint", detail=detail[:60]),
            detail=detail,
            customer_id=customer_id,
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


def escalate_or_open(conversation_id: str, customer_id: Optional[str], detail: str) -> str:
    """The conversation's open complaint, with this message noted on it; a new complaint
    if there is none. Returns the ticket number the customer is told."""
    with session_scope() as session:
        existing = repository.tickets.open_tickets(
            session=session, conversation_id=conversation_id, kinds=["complaint"])
        if existing:
            ticket = existing[-1]
            note = knowledge.commitments()["tickets"]["complaint"]["again_note"]
            repository.tickets.add_note(session=session, ticket=ticket, author=NOTE_AUTHOR,
                                        text=note.format(detail=detail))
            return ticket.number
    return open_complaint(conversation_id, customer_id, detail)["ticket"]
