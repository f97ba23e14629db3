"""Tickets: opening them, the staff queue, status changes, notes, the report's
ticket queries and the claim that sends each deadline alert once."""


from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from shop import deadlines
from shop.db.models import (
    Customer,
    Ticket,
    TicketNote,
)


def create_ticket(
    *,
    session: Session,
    kind: str,
    conversation_id: str,
    summary: str,
    detail: str = "",
    customer_id: Optional[str] = None,
    order_no: Optional[str] = None,
    now: Optional[datetime] = None,
) -> Ticket:
    """Opens a ticket with priority from the tier and deadlines from the commitments."""
    now = now or deadlines.utcnow()
    customer = session.get(Customer, customer_id) if customer_id else None
    due = deadlines.ticket_deadlines(kind, now)
    ticket = Ticket(
        kind=kind,
        status="open",
        priority=deadlines.priority_for_tier(customer.tier if customer else None),
        customer_id=customer.id if customer else None,
        order_no=order_no,
        conversation_id=conversation_id,
        summary=summary,
        detail=detail[:4000],
        created_at=now,
        respond_due=due.respond,
        resolve_due=due.resolve,
        callback_due=due.callback,
    )
    session.add(ticket)
    session.flush()  # assigns the id the ticket number is made from
    ticket.number = f"TK{deadlines.to_local(now):%Y%m%d}{ticket.id:05d}"
    session.flush()
    return ticket


def open_tickets(
    *, session: Session, conversation_id: str, kinds: Sequence[str] = ()
) -> List[Ticket]:
    """Open tickets of one conversation, oldest first."""
    statement = select(Ticket).where(
        Ticket.conversation_id == conversation_id, Ticket.status == "open"
    )
    if kinds:
        statement = statement.where(Ticket.kind.in_(list(kinds)))
    return list(session.execute(statement.order_by(Ticket.id)).scalars())


def count_tickets(*, session: Session, conversation_id: Optional[str] = None) -> int:
    """Number of tickets (of one conversation when given)."""
    statement = select(func.count(Ticket.id))
    if conversation_id is not None:
        statement = statement.where(Ticket.conversation_id == conversation_id)
    return int(session.execute(statement).scalar_one())


def ensure_open_ticket(
    *, session: Session, kind: str, conversation_id: str, **fields: Any
) -> Ticket:
    """The conversation's open ticket of `kind`, created (with `fields`) if there is none."""
    existing = open_tickets(session=session, conversation_id=conversation_id, kinds=[kind])
    if existing:
        return existing[0]
    return create_ticket(session=session, kind=kind, conversation_id=conversation_id, **fields)


QUEUE_STATUSES = ("open", "in_progress")


def ticket_queue(*, session: Session) -> List[Ticket]:
    """Tickets waiting for staff: priority first (tier A = 1), then the earliest deadline."""
    statement = (
        select(Ticket)
        .where(Ticket.status.in_(QUEUE_STATUSES))
        .options(selectinload(Ticket.customer))
        .order_by(Ticket.priority, Ticket.respond_due, Ticket.id)
    )
    return list(session.execute(statement).scalars())


def queue_signature(*, session: Session) -> List[Tuple[int, str, Optional[str]]]:
    """(id, status, assignee) of the queued tickets: what consoles watch for changes,
    read as plain rows (the full queue builds an object per ticket)."""
    statement = (
        select(Ticket.id, Ticket.status, Ticket.assigned_to)
        .where(Ticket.status.in_(QUEUE_STATUSES))
        .order_by(Ticket.id)
    )
    return [tuple(row) for row in session.execute(statement)]  # type: ignore[misc]


def get_ticket(*, session: Session, ticket_id: int) -> Optional[Ticket]:
    """One ticket with its customer, or None."""
    statement = select(Ticket).where(Ticket.id == ticket_id).options(
        selectinload(Ticket.customer)
    )
    return session.execute(statement).scalar_one_or_none()


def customer_open_tickets(*, session: Session, customer_id: str) -> List[Ticket]:
    """Every unresolved ticket of a customer, across conversations."""
    statement = select(Ticket).where(
        Ticket.customer_id == customer_id, Ticket.status.in_(QUEUE_STATUSES)
    )
    return list(session.execute(statement.order_by(Ticket.id)).scalars())


def set_ticket_status(
    *, session: Session, ticket: Ticket, status: str, staff: Optional[str] = None,
    now: Optional[datetime] = None,
) -> Ticket:
    """Moves a ticket on (in_progress / handed_back / closed) and records who did it."""
    ticket.status = status
    if staff:
        ticket.assigned_to = staff
    if status != "open" and ticket.responded_at is None:
        ticket.responded_at = now or deadlines.utcnow()
    if status in ("handed_back", "closed"):
        ticket.closed_at = now or deadlines.utcnow()
    session.flush()
    return ticket


def add_note(
    *, session: Session, ticket: Ticket, author: str, text: str, now: Optional[datetime] = None
) -> TicketNote:
    """An internal staff note on a ticket."""
    note = TicketNote(
        ticket_id=ticket.id, author=author, text=text[:2000], created_at=now or deadlines.utcnow()
    )
    session.add(note)
    session.flush()
    return note


def ticket_notes(*, session: Session, ticket_id: int) -> List[TicketNote]:
    """Notes of a ticket, oldest first."""
    statement = select(TicketNote).where(TicketNote.ticket_id == ticket_id)
    return list(session.execute(statement.order_by(TicketNote.id)).scalars())


def attended_conversation(*, session: Session, conversation_id: str) -> bool:
    """Whether a staff member has joined an open ticket of this conversation."""
    statement = select(func.count(Ticket.id)).where(
        Ticket.conversation_id == conversation_id, Ticket.status == "in_progress"
    )
    return bool(session.execute(statement).scalar_one())


def tickets_created_between(
    *, session: Session, start: datetime, end: datetime, kinds: Sequence[str] = ()
) -> List[Ticket]:
    """Tickets created in [start, end) with their customer, oldest first."""
    statement = (
        select(Ticket)
        .where(Ticket.created_at >= start, Ticket.created_at < end)
        .options(selectinload(Ticket.customer))
    )
    if kinds:
        statement = statement.where(Ticket.kind.in_(list(kinds)))
    return list(session.execute(statement.order_by(Ticket.id)).scalars())


def tickets_to_watch(
    *, session: Session, oldest: datetime, horizon: datetime
) -> List[Ticket]:
    """Tickets with a deadline in [oldest, horizon] that may still be pending: open
    ones (any deadline) and handled ones (the return call)."""
    def due(column: Any) -> Any:
        return column.between(oldest, horizon)

    still_open = Ticket.status.in_(QUEUE_STATUSES)
    statement = (
        select(Ticket)
        .where(
            or_(
                and_(
                    still_open,
                    or_(due(Ticket.respond_due), due(Ticket.resolve_due),
                        due(Ticket.callback_due)),
                ),
                and_(~still_open, due(Ticket.callback_due)),
            )
        )
        .options(selectinload(Ticket.customer))
        .order_by(Ticket.id)
    )
    return list(session.execute(statement).scalars())


def notes_of_tickets(*, session: Session, ticket_ids: Sequence[int]) -> Dict[int, List[TicketNote]]:
    """Notes of many tickets at once, oldest first per ticket."""
    notes: Dict[int, List[TicketNote]] = {ticket_id: [] for ticket_id in ticket_ids}
    if not ticket_ids:
        return notes
    statement = select(TicketNote).where(TicketNote.ticket_id.in_(list(ticket_ids)))
    for note in session.execute(statement.order_by(TicketNote.id)).scalars():
        notes[note.ticket_id].append(note)
    return notes


ALERT_COLUMNS = {
    "respond": Ticket.respond_alerted_at,
    "resolve": Ticket.resolve_alerted_at,
    "callback": Ticket.callback_alerted_at,
}


def claim_alert(*, session: Session, ticket_id: int, commitment: str, now: datetime) -> bool:
    """Marks a ticket's deadline as alerted; False when it already was (by anyone).

    One conditional UPDATE, so two processes checking at once never both alert.
    """
    column = ALERT_COLUMNS[commitment]
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, column.is_(None))
        .values({column.key: now})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
