"""All queries of the assistant. Actions call these; they never build SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from shop import deadlines
from shop.db.models import (
    ChannelCursor,
    ChannelMessage,
    Customer,
    Order,
    OrderItem,
    PracticeSession,
    PracticeTurn,
    Product,
    Rating,
    ReviewItem,
    ScanCursor,
    StaffPresence,
    Ticket,
    TicketNote,
    VerificationFailure,
)


def find_order(*, session: Session, order_no: str) -> Optional[Order]:
    """The order with its items, products and customer, or None."""
    statement = (
        select(Order)
        .where(Order.order_no == order_no.upper())
        .options(
            selectinload(Order.items).selectinload(OrderItem.product),
            selectinload(Order.customer),
        )
    )
    return session.execute(statement).scalar_one_or_none()


def record_verification_failure(
    *, session: Session, order_no: str, client: str, now: datetime
) -> None:
    session.add(VerificationFailure(order_no=order_no.upper(), client=client[:64],
                                    failed_at=now))


def verification_failures(
    *, session: Session, since: datetime, order_no: Optional[str] = None,
    client: Optional[str] = None,
) -> int:
    """Failed order checks since `since` for this order number or this client."""
    statement = select(func.count(VerificationFailure.id)).where(
        VerificationFailure.failed_at >= since)
    if order_no is not None:
        statement = statement.where(VerificationFailure.order_no == order_no.upper())
    if client is not None:
        statement = statement.where(VerificationFailure.client == client[:64])
    return int(session.execute(statement).scalar_one())


def find_products(
    *,
    session: Session,
    name: Optional[str] = None,
    brand: Optional[str] = None,
    category: Optional[str] = None,
) -> List[Product]:
    """Products matching every given criterion, cheapest first."""
    statement = select(Product)
    if name:
        statement = statement.where(Product.name == name)
    if brand:
        statement = statement.where(Product.brand == brand)
    if category:
        statement = statement.where(Product.category == category)
    return list(session.execute(statement.order_by(Product.price, Product.sku)).scalars())


def list_categories(*, session: Session) -> List[str]:
    """Categories that have at least one product."""
    statement = select(Product.category).distinct().order_by(Product.category)
    return list(session.execute(statement).scalars())


def get_customer(*, session: Session, customer_id: str) -> Optional[Customer]:
    """The customer with this id, or None."""
    return session.get(Customer, customer_id)


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


# ----------------------------------------------------------------- staff console

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


def customer_orders(*, session: Session, customer_id: str, limit: int = 10) -> List[Order]:
    """The customer's most recent orders with their items."""
    statement = (
        select(Order)
        .where(Order.customer_id == customer_id)
        .options(selectinload(Order.items).selectinload(OrderItem.product))
        .order_by(Order.placed_at.desc())
        .limit(limit)
    )
    return list(session.execute(statement).scalars())


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


def touch_staff(*, session: Session, name: str, now: Optional[datetime] = None) -> None:
    """Records that a staff member is online now."""
    presence = session.get(StaffPresence, name) or StaffPresence(name=name)
    presence.last_seen = now or deadlines.utcnow()
    session.add(presence)


def staff_online(*, session: Session, since: datetime) -> List[str]:
    """Staff members seen in the console since `since`."""
    statement = select(StaffPresence.name).where(StaffPresence.last_seen >= since)
    return list(session.execute(statement.order_by(StaffPresence.name)).scalars())


def add_rating(
    *, session: Session, conversation_id: str, expected: int, perceived: int,
    channel: str = "web", comment: str = "", now: Optional[datetime] = None,
) -> Rating:
    """Stores a customer's rating; a human took part if the conversation had a ticket
    that staff joined."""
    human = session.execute(
        select(func.count(Ticket.id)).where(
            Ticket.conversation_id == conversation_id, Ticket.assigned_to.is_not(None)
        )
    ).scalar_one()
    rating = Rating(
        conversation_id=conversation_id, channel=channel, expected=expected,
        perceived=perceived, human_involved=int(bool(human)), comment=comment[:2000],
        created_at=now or deadlines.utcnow(),
    )
    session.add(rating)
    session.flush()
    return rating


# ----------------------------------------------------------------- practice mode


def start_practice(
    *, session: Session, trainee: str, scenario_id: str, objection_type: str, seed: int = 0,
    now: Optional[datetime] = None,
) -> PracticeSession:
    """Opens a practice session (kept apart from customer tickets and records)."""
    record = PracticeSession(
        trainee=trainee[:64], scenario_id=scenario_id, objection_type=objection_type,
        seed=seed, started_at=now or deadlines.utcnow(),
    )
    session.add(record)
    session.flush()
    return record


def add_practice_turn(
    *, session: Session, practice_id: int, turn_no: int, customer_text: str, reply_text: str,
    technique: str, suitable: bool, score: int, rubric: List[Dict[str, Any]],
    now: Optional[datetime] = None,
) -> PracticeTurn:
    """Stores one scored reply."""
    turn = PracticeTurn(
        session_id=practice_id, turn_no=turn_no, customer_text=customer_text,
        reply_text=reply_text[:4000], technique=technique, technique_suitable=int(suitable),
        score=score, rubric=rubric, created_at=now or deadlines.utcnow(),
    )
    session.add(turn)
    session.flush()
    return turn


def finish_practice(
    *, session: Session, practice_id: int, outcome: str, score: int,
    now: Optional[datetime] = None,
) -> None:
    """Closes a practice session with its outcome and final score."""
    record = session.get(PracticeSession, practice_id)
    if record is not None:
        record.outcome, record.score = outcome, score
        record.ended_at = now or deadlines.utcnow()


def get_practice(*, session: Session, practice_id: int) -> Optional[PracticeSession]:
    """One practice session with its turns, or None."""
    statement = (
        select(PracticeSession)
        .where(PracticeSession.id == practice_id)
        .options(selectinload(PracticeSession.turns))
    )
    return session.execute(statement).scalar_one_or_none()


def practice_history(*, session: Session, trainee: Optional[str] = None) -> List[PracticeSession]:
    """Finished and unfinished sessions (of one trainee, or all), newest first."""
    statement = select(PracticeSession).options(selectinload(PracticeSession.turns))
    if trainee is not None:
        statement = statement.where(PracticeSession.trainee == trainee)
    return list(session.execute(statement.order_by(PracticeSession.id.desc())).scalars())


# ----------------------------------------------------------------- manager reports


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


def products_of_orders(*, session: Session, order_nos: Sequence[str]) -> Dict[str, List[str]]:
    """Product names of each order, in item order."""
    products: Dict[str, List[str]] = {}
    if not order_nos:
        return products
    statement = (
        select(OrderItem.order_no, Product.name)
        .join(Product, OrderItem.sku == Product.sku)
        .where(OrderItem.order_no.in_(list(order_nos)))
        .order_by(OrderItem.order_no, OrderItem.id)
    )
    for order_no, name in session.execute(statement):
        products.setdefault(order_no, []).append(name)
    return products


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


def ratings_between(*, session: Session, start: datetime, end: datetime) -> List[Rating]:
    """Ratings given in [start, end), oldest first."""
    statement = select(Rating).where(Rating.created_at >= start, Rating.created_at < end)
    return list(session.execute(statement.order_by(Rating.id)).scalars())


# ----------------------------------------------------------------- platform channels


def get_channel_cursor(*, session: Session, channel: str, account: str) -> Optional[str]:
    """The saved sync cursor of a channel account, or None before the first sync."""
    row = session.get(ChannelCursor, (channel, account))
    return row.cursor if row is not None else None


def save_channel_cursor(
    *, session: Session, channel: str, account: str, cursor: str,
    now: Optional[datetime] = None,
) -> None:
    """Remembers where the sync of a channel account stopped."""
    row = session.get(ChannelCursor, (channel, account))
    if row is None:
        row = ChannelCursor(channel=channel, account=account)
        session.add(row)
    row.cursor = cursor
    row.updated_at = now or deadlines.utcnow()
    session.flush()


def claim_channel_message(
    *, session: Session, channel: str, msg_id: str, now: Optional[datetime] = None
) -> bool:
    """Records a platform message as taken; False when it already was (a duplicate).

    The primary key decides, so two processes syncing at once never both take it.
    """
    if session.get(ChannelMessage, (channel, msg_id)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ChannelMessage(channel=channel, msg_id=msg_id,
                                       received_at=now or deadlines.utcnow()))
    except IntegrityError:
        return False
    return True


def prune_channel_messages(*, session: Session, channel: str, before: datetime) -> int:
    """Forgets messages taken before `before` (the platform never resends those)."""
    result = session.execute(
        delete(ChannelMessage)
        .where(ChannelMessage.channel == channel, ChannelMessage.received_at < before)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


# ----------------------------------------------------------------- review queue (四个不漏)


def get_scan_cursor(*, session: Session, name: str) -> int:
    """The last tracker-store event id a scan has looked at (0 before the first)."""
    row = session.get(ScanCursor, name)
    return int(row.last_event_id) if row is not None else 0


def save_scan_cursor(
    *, session: Session, name: str, last_event_id: int, now: Optional[datetime] = None,
    restart: bool = False,
) -> None:
    """Moves a scan cursor forward (never back, as two scans may finish in any order,
    unless `restart`: the scanned store was replaced and its ids begin again)."""
    row = session.get(ScanCursor, name)
    if row is None:
        row = ScanCursor(name=name, last_event_id=0)
        session.add(row)
    current = 0 if restart else int(row.last_event_id or 0)
    row.last_event_id = max(current, last_event_id)
    row.updated_at = now or deadlines.utcnow()
    session.flush()


def add_review_item(
    *,
    session: Session,
    conversation_id: str,
    event_id: int,
    text: str,
    reason: str,
    created_at: datetime,
    predicted_intent: Optional[str] = None,
    confidence: Optional[float] = None,
    context: Optional[Dict[str, Any]] = None,
) -> Optional[ReviewItem]:
    """Queues a message for review; None when that message is queued already.

    The unique (conversation_id, event_id) decides, so overlapping scans never
    queue a message twice.
    """
    existing = session.execute(
        select(ReviewItem.id).where(ReviewItem.conversation_id == conversation_id,
                                    ReviewItem.event_id == event_id)
    ).first()
    if existing is not None:
        return None
    item = ReviewItem(
        conversation_id=conversation_id, event_id=event_id, text=text, reason=reason,
        created_at=created_at, predicted_intent=predicted_intent, confidence=confidence,
        context=dict(context or {}), status="new",
    )
    try:
        with session.begin_nested():
            session.add(item)
    except IntegrityError:
        return None
    return item


def review_items(
    *,
    session: Session,
    statuses: Sequence[str] = (),
    reasons: Sequence[str] = (),
    conversation_ids: Sequence[str] = (),
    item_ids: Sequence[int] = (),
    limit: Optional[int] = None,
    offset: int = 0,
) -> List[ReviewItem]:
    """Queued messages matching every given filter, oldest first."""
    statement = select(ReviewItem)
    if statuses:
        statement = statement.where(ReviewItem.status.in_(list(statuses)))
    if reasons:
        statement = statement.where(ReviewItem.reason.in_(list(reasons)))
    if conversation_ids:
        statement = statement.where(ReviewItem.conversation_id.in_(list(conversation_ids)))
    if item_ids:
        statement = statement.where(ReviewItem.id.in_(list(item_ids)))
    statement = statement.order_by(ReviewItem.created_at, ReviewItem.id).offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.execute(statement).scalars())


def review_counts(*, session: Session) -> Dict[str, int]:
    """How many queued messages there are per status."""
    statement = select(ReviewItem.status, func.count()).group_by(ReviewItem.status)
    return {status: int(count) for status, count in session.execute(statement)}


def get_review_item(*, session: Session, item_id: int) -> Optional[ReviewItem]:
    """One queued message, or None."""
    return session.get(ReviewItem, item_id)


def label_review_item(
    *, session: Session, item: ReviewItem, label: str, staff: str,
    now: Optional[datetime] = None,
) -> None:
    """Records the intent staff picked for a message (it may be changed until exported)."""
    item.label = label
    item.labelled_by = staff
    item.labelled_at = now or deadlines.utcnow()
    item.status = "labelled"
    session.flush()


def set_review_context(*, session: Session, item: ReviewItem, context: Dict[str, Any]) -> None:
    """Replaces a queued message's context (a later scan learned the next message)."""
    item.context = dict(context)
    session.flush()


def mark_review_exported(
    *, session: Session, notes: Dict[int, str], now: Optional[datetime] = None
) -> int:
    """Marks labelled messages as exported, each with where it went (or why not)."""
    now = now or deadlines.utcnow()
    changed = 0
    for item_id, note in notes.items():
        result = session.execute(
            update(ReviewItem)
            .where(ReviewItem.id == item_id, ReviewItem.status == "labelled")
            .values(status="exported", exported_at=now, export_note=note[:255])
            .execution_options(synchronize_session=False)
        )
        changed += int(result.rowcount or 0)
    return changed
