"""Ticket wording and the follow-up ticket both servers open.

The summary and the handoff reason are worded by knowledge/service_commitments.yml;
`record_followup` is how the Rasa server's channel guard backs an apology (action
server down, an action crashing) with a real ticket for staff.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from shop import knowledge
from shop.db import repository
from shop.db.engine import session_scope


def ticket_summary(kind: str, **values: Any) -> str:
    """The staff-facing one-line summary of a ticket, from the commitments' template."""
    template = knowledge.commitments()["tickets"][kind]["summary"]
    return template.format(**values)


# The slots a handoff's summary names, when set.
SUMMARY_SLOTS = ("product", "brand", "category", "order_no", "service_kind")


def verified_orders(events: List[Dict[str, Any]]) -> List[Tuple[str, str]]:
    """(order number, local time) of each order whose phone check passed in this
    session; an identity never carries over from an earlier session."""
    found: List[Tuple[str, str]] = []
    for event in events:
        if event.get("event") == "session_started":
            found = []
        elif (event.get("event") == "slot" and event.get("name") == "verified_order"
              and event.get("value")):
            order_no, _, when = str(event["value"]).partition("|")
            found.append((order_no, when))
    return found


def offer_lapsed(events: List[Dict[str, Any]]) -> bool:
    """Whether a human offered (slot `human_offered`) was offered before the latest user
    message, so an action answering that message means the customer moved on: measured
    with `make run`, 要不要转人工？ → 保修几年 → 安装要钱吗 → 好的 那我拍了 opened a handoff."""
    for event in reversed(events):
        if event.get("event") == "user":
            return True
        if event.get("event") == "slot" and event.get("name") == "human_offered":
            return False  # offered (or answered) in this very turn
    return True


def verified_customer(events: List[Dict[str, Any]]) -> Optional[str]:
    """The customer who owns the order verified last in this session, if any: a
    ticket opened afterwards is theirs (tier, orders) — with the verification named."""
    orders = verified_orders(events)
    if not orders:
        return None
    with session_scope() as session:
        order = repository.orders.find_order(session=session, order_no=orders[-1][0])
        return order.customer_id if order is not None else None


def handoff_summary(events: List[Dict[str, Any]], slots: Dict[str, Any], reason: str) -> str:
    """What staff need at a glance: why, recent intents, known facts, lookups (the
    conversation's events and slot values)."""
    intents = [event.get("parse_data", {}).get("intent", {}).get("name")
               for event in events if event.get("event") == "user"]
    facts = [f"{slot}={slots[slot]}" for slot in SUMMARY_SLOTS if slots.get(slot)]
    facts += [f"已核实订单{order_no}（{when}）" for order_no, when in verified_orders(events)]
    return ticket_summary(
        "handoff", reason=reason,
        intents=" → ".join(name for name in intents[-6:] if name) or "-",
        facts="，".join(facts) or "-", looked_up="、".join(slots.get("looked_up") or []) or "-")


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
