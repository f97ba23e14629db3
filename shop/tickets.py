"""Ticket wording and the follow-up ticket both servers open.

The summary and the handoff reason are worded by knowledge/service_commitments.yml;
`record_followup` is how the Rasa server's channel guard backs an apology (action
server down, an action crashing) with a real ticket for staff.
"""

from __future__ import annotations

from typing import Any, Optional

from shop import knowledge
from shop.db import repository
from shop.db.engine import session_scope


def ticket_summary(kind: str, **values: Any) -> str:
    """The staff-facing one-line summary of a ticket, from the commitments' template."""
    template = knowledge.commitments()["tickets"][kind]["summary"]
    return template.format(**values)


def handoff_reason(key: str, **values: Any) -> str:
    """A reason for the handoff, worded by the commitments' data."""
    return knowledge.commitments()["tickets"]["handoff"]["reasons"][key].format(**values)


def record_followup(conversation_id: str, text: str) -> Optional[str]:
    """Backs the apology for an unanswered message with a real ticket for staff.

    Called by the channel guard when the assistant could not answer (action server
    down, an action crashing). Returns the ticket number.
    """
    summary = ticket_summary(
        "handoff", reason=handoff_reason("system_failure"), intents="-", facts="-", looked_up="-"
    )
    with session_scope() as session:
        ticket = repository.tickets.ensure_open_ticket(
            session=session, kind="handoff", conversation_id=conversation_id,
            summary=summary, detail=text,
        )
        return ticket.number
