"""What the staff console reads and changes in the records: the ticket queue, a
ticket's context (customer, orders, open tickets, notes), status changes, notes and
the canned replies. Plain functions over the data layer; the console's routes
(bot/console/) call them in a worker thread."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from shop import deadlines, knowledge
from shop.db import repository
from shop.db.engine import session_scope
from shop.db.models import Ticket


def iso(moment: Any) -> Optional[str]:
    """A stored UTC moment as local ISO time (seconds), None stays None."""
    return deadlines.to_local(moment).isoformat(timespec="seconds") if moment else None


def ticket_view(ticket: Ticket, now: Any) -> Dict[str, Any]:
    """A ticket as the console shows it."""
    customer = ticket.customer
    return {
        "id": ticket.id,
        "number": ticket.number,
        "kind": ticket.kind,
        "status": ticket.status,
        "priority": ticket.priority,
        "tier": customer.tier if customer else None,
        "customer_name": customer.name if customer else None,
        "conversation_id": ticket.conversation_id,
        "summary": ticket.summary,
        "detail": ticket.detail,
        "created_at": iso(ticket.created_at),
        "respond_due": iso(ticket.respond_due),
        "resolve_due": iso(ticket.resolve_due),
        "waiting_seconds": max(0, int((now - ticket.created_at).total_seconds())),
        "assigned_to": ticket.assigned_to,
    }


def queue_snapshot(staff: Optional[str] = None) -> List[Dict[str, Any]]:
    """The ordered queue; also records that `staff` is online."""
    now = deadlines.utcnow()
    with session_scope() as session:
        if staff:
            repository.staff.touch_staff(session=session, name=staff, now=now)
        return [ticket_view(t, now) for t in repository.tickets.ticket_queue(session=session)]


def queue_signature() -> List[Any]:
    """What changes when the queue changes (compared by the console's watcher)."""
    with session_scope() as session:
        return repository.tickets.queue_signature(session=session)


def ticket_context(ticket_id: int) -> Optional[Dict[str, Any]]:
    """Everything the console shows next to a conversation (records side)."""
    now = deadlines.utcnow()
    with session_scope() as session:
        ticket = repository.tickets.get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None:
            return None
        customer = ticket.customer
        orders = open_tickets = []
        if customer is not None:
            orders = [
                {
                    "order_no": o.order_no,
                    "status": knowledge.policies()["order_statuses"].get(o.status, o.status),
                    "items": "、".join(f"{i.product.name}×{i.qty}" for i in o.items),
                    "placed_at": iso(o.placed_at),
                }
                for o in repository.orders.customer_orders(session=session, customer_id=customer.id)
            ]
            open_tickets = [
                {"number": t.number, "kind": t.kind, "status": t.status,
                 "respond_due": iso(t.respond_due)}
                for t in repository.tickets.customer_open_tickets(
                    session=session, customer_id=customer.id)
            ]
        notes = [
            {"author": n.author, "text": n.text, "time": iso(n.created_at)}
            for n in repository.tickets.ticket_notes(session=session, ticket_id=ticket.id)
        ]
        return {
            "ticket": ticket_view(ticket, now),
            "customer": (
                {"id": customer.id, "name": customer.name, "phone": customer.phone,
                 "tier": customer.tier}
                if customer else None
            ),
            "orders": orders,
            "open_tickets": open_tickets,
            "notes": notes,
        }


def change_ticket(ticket_id: int, status: str, staff: str) -> Optional[Dict[str, Any]]:
    """Sets a ticket's status; returns its conversation id and previous status."""
    with session_scope() as session:
        ticket = repository.tickets.get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None:
            return None
        before = ticket.status
        repository.tickets.set_ticket_status(
            session=session, ticket=ticket, status=status, staff=staff)
        return {"conversation_id": ticket.conversation_id, "before": before}


def add_note(ticket_id: int, staff: str, text: str) -> bool:
    """Adds an internal note; False when the ticket does not exist."""
    with session_scope() as session:
        ticket = repository.tickets.get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None:
            return False
        repository.tickets.add_note(session=session, ticket=ticket, author=staff, text=text)
        return True


def canned_replies() -> List[Dict[str, Any]]:
    """Ready-made replies: the canned file plus the objection scripts without placeholders."""
    groups = [dict(group) for group in knowledge.load("canned_replies")["groups"]]
    playbook = knowledge.objections()
    names = {t["key"]: t["name"] for t in playbook["types"]}
    by_type: Dict[str, List[str]] = {}
    for script in playbook["scripts"]:
        if not script["needs_product"]:
            by_type.setdefault(names[script["type"]], []).append(script["text"])
    groups += [{"title": f"异议处理 · {name}", "replies": replies}
               for name, replies in by_type.items()]
    return groups
