"""Personal data in the records, found and anonymised (shop/erasure/ decides what)."""

from __future__ import annotations

from typing import Callable, Dict, Iterable, List, Optional, Set, Tuple

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from shop.db.models import (
    AuditEntry,
    Customer,
    Order,
    PracticeDrill,
    PracticeInvitation,
    PracticeTurn,
    Rating,
    ReviewItem,
    Ticket,
    TicketNote,
)

# What an anonymised record's free text becomes (shop/erasure/identifiers.ERASED).
Replace = Callable[[str], str]


def find_customer(*, session: Session, customer_id: Optional[str] = None,
                  phone: Optional[str] = None) -> Optional[Customer]:
    if customer_id:
        return session.get(Customer, customer_id)
    if phone:
        return session.execute(select(Customer).where(Customer.phone == phone)).scalar_one_or_none()
    return None


def order_numbers(*, session: Session, customer_id: str) -> List[str]:
    return list(session.execute(
        select(Order.order_no).where(Order.customer_id == customer_id)).scalars())


def ticket_conversations(*, session: Session, customer_id: str) -> Set[str]:
    """Conversations in which the customer was identified (their tickets)."""
    rows = session.execute(select(Ticket.conversation_id).where(
        Ticket.customer_id == customer_id, Ticket.conversation_id.is_not(None)))
    return {r for r in rows.scalars() if r}


def rename_conversations(*, session: Session, renames: Dict[str, str], erased: str) -> None:
    """Pseudonyms for the conversations, and their customer-written text erased:
    ticket details, rating comments, queued review messages."""
    for old, new in renames.items():
        session.execute(update(Ticket).where(Ticket.conversation_id == old)
                        .values(conversation_id=new, detail=erased))
        session.execute(update(Rating).where(Rating.conversation_id == old)
                        .values(conversation_id=new, comment=""))
        session.execute(update(ReviewItem).where(ReviewItem.conversation_id == old)
                        .values(conversation_id=new, text=erased, context={}))
        for entry in session.execute(select(AuditEntry).where(
                AuditEntry.target.contains(old, autoescape=True))).scalars():
            entry.target = entry.target.replace(old, new)


def anonymise_customer(*, session: Session, customer: Customer, name: str) -> None:
    """The record stays (orders and statistics refer to it); who it was does not."""
    customer.name = name
    customer.phone = f"erased-{customer.id}"


def _mentioning(column, identifiers: Iterable[str]):  # type: ignore[no-untyped-def]
    return or_(*(column.contains(i, autoescape=True) for i in identifiers))


def scrub_mentions(*, session: Session, identifiers: List[str], replace: Replace) -> int:
    """Identifiers replaced wherever free text mentions them: tickets, notes, queued
    messages, practice replies, audit targets. How many rows changed."""
    if not identifiers:
        return 0
    changed = 0
    for model, columns in (
        (Ticket, ("summary", "detail")),
        (TicketNote, ("text",)),
        (ReviewItem, ("text",)),
        (Rating, ("comment",)),
        (PracticeTurn, ("customer_text", "reply_text")),
        (AuditEntry, ("target",)),
    ):
        condition = or_(*(_mentioning(getattr(model, c), identifiers) for c in columns))
        for row in session.execute(select(model).where(condition)).scalars():
            for column in columns:
                setattr(row, column, replace(getattr(row, column) or ""))
            changed += 1
    for item in session.execute(select(ReviewItem)).scalars().yield_per(500):
        # The context is JSON (the lines around the message): compared as text.
        if any(i in str(item.context) for i in identifiers):
            item.context = {}
            changed += 1
    return changed


def anonymise_trainee(*, session: Session, trainee: str, pseudonym: str,
                      erased: str) -> Tuple[int, int]:
    """A trainee's practice kept as statistics (scores, techniques) under a pseudonym;
    their replies and invitation codes removed. How many drills and invitations."""
    drills = list(session.execute(
        select(PracticeDrill).where(PracticeDrill.trainee == trainee)).scalars())
    for drill in drills:
        drill.trainee = pseudonym
        for turn in drill.turns:
            turn.reply_text = erased
    invitations = list(session.execute(select(PracticeInvitation).where(
        PracticeInvitation.trainee == trainee)).scalars())
    for invitation in invitations:
        session.delete(invitation)
    return len(drills), len(invitations)
