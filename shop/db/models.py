"""SQLAlchemy models of the shop's records (SQLAlchemy 1.4, 2.0-style usage)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class Customer(Base):
    __tablename__ = "customers"

    id = Column(String(16), primary_key=True)
    name = Column(String(64), nullable=False)
    phone = Column(String(20), nullable=False, unique=True)
    # A top / B high potential / C core / D low value (playbook §5).
    tier = Column(String(1), nullable=False, default="C")

    orders = relationship("Order", back_populates="customer")


class Product(Base):
    __tablename__ = "products"

    sku = Column(String(32), primary_key=True)
    name = Column(String(128), nullable=False, unique=True)
    brand = Column(String(64), nullable=False, index=True)
    category = Column(String(64), nullable=False, index=True)
    # Whole yuan: the catalogue prices in yuan, and SQLite has no exact decimals.
    price = Column(Integer, nullable=False)
    stock = Column(Integer, nullable=False, default=0)
    warranty_months = Column(Integer, nullable=False, default=12)
    warranty = Column(Text, nullable=False, default="")
    specs = Column(JSON, nullable=False, default=dict)


class Order(Base):
    __tablename__ = "orders"

    order_no = Column(String(32), primary_key=True)
    customer_id = Column(String(16), ForeignKey("customers.id"), nullable=False)
    status = Column(String(32), nullable=False)
    carrier = Column(String(32))
    tracking_no = Column(String(64))
    placed_at = Column(DateTime, nullable=False)
    paid_at = Column(DateTime)
    shipped_at = Column(DateTime)
    delivered_at = Column(DateTime)

    customer = relationship("Customer", back_populates="orders")
    items = relationship(
        "OrderItem", back_populates="order", cascade="all, delete-orphan"
    )


class OrderItem(Base):
    __tablename__ = "order_items"

    id = Column(Integer, primary_key=True, autoincrement=True)
    order_no = Column(String(32), ForeignKey("orders.order_no"), nullable=False)
    sku = Column(String(32), ForeignKey("products.sku"), nullable=False)
    qty = Column(Integer, nullable=False, default=1)
    unit_price = Column(Integer, nullable=False)

    order = relationship("Order", back_populates="items")
    product = relationship("Product")


class Ticket(Base):
    __tablename__ = "tickets"

    id = Column(Integer, primary_key=True, autoincrement=True)
    number = Column(String(32), unique=True)
    # complaint / handoff / return / repair
    kind = Column(String(16), nullable=False, index=True)
    # open (waiting) → in_progress (a staff member joined) → handed_back / closed
    status = Column(String(16), nullable=False, default="open", index=True)
    assigned_to = Column(String(64))
    # 1 is served first; derived from the customer tier.
    priority = Column(Integer, nullable=False, default=3)
    customer_id = Column(String(16), ForeignKey("customers.id"))
    order_no = Column(String(32), ForeignKey("orders.order_no"))
    conversation_id = Column(String(128), index=True)
    summary = Column(Text, nullable=False, default="")
    detail = Column(Text, nullable=False, default="")
    created_at = Column(DateTime, nullable=False)
    respond_due = Column(DateTime)
    resolve_due = Column(DateTime)
    callback_due = Column(DateTime)
    closed_at = Column(DateTime)
    # When staff first responded (joined, handed back or closed): the sunset rule.
    responded_at = Column(DateTime)
    # When each deadline's alert went out (shop/insights/alerts.py): once only.
    respond_alerted_at = Column(DateTime)
    resolve_alerted_at = Column(DateTime)
    callback_alerted_at = Column(DateTime)

    customer = relationship("Customer")


class TicketNote(Base):
    """An internal note of staff on a ticket (never shown to the customer)."""

    __tablename__ = "ticket_notes"

    id = Column(Integer, primary_key=True, autoincrement=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id"), nullable=False, index=True)
    author = Column(String(64), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False)


class Rating(Base):
    """A customer's rating of a conversation: expected and perceived (1–5).

    The satisfaction index of the playbook is C = perceived / expected.
    """

    __tablename__ = "ratings"

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    channel = Column(String(32), nullable=False, default="web")
    expected = Column(Integer, nullable=False)
    perceived = Column(Integer, nullable=False)
    human_involved = Column(Integer, nullable=False, default=0)
    comment = Column(Text, nullable=False, default="")
    created_at = Column(DateTime, nullable=False)


class StaffPresence(Base):
    """When each staff member was last seen in the console (who is online)."""

    __tablename__ = "staff_presence"

    name = Column(String(64), primary_key=True)
    last_seen = Column(DateTime, nullable=False)


class PracticeDrill(Base):
    """A trainee's rehearsal against a simulated customer (never customer traffic)."""

    # The table keeps its first name: existing databases need no migration.
    __tablename__ = "practice_sessions"

    id = Column(Integer, primary_key=True, autoincrement=True)
    trainee = Column(String(64), nullable=False, index=True)
    scenario_id = Column(String(64), nullable=False)
    objection_type = Column(String(16), nullable=False, index=True)
    # Seed of the simulated customer: replaying the stored turns with it rebuilds
    # the session exactly, so any channel can continue it.
    seed = Column(Integer, nullable=False, default=0)
    started_at = Column(DateTime, nullable=False)
    ended_at = Column(DateTime)
    # agreed / left / turns (ran out of turns) / abandoned
    outcome = Column(String(16))
    score = Column(Integer)

    turns = relationship(
        "PracticeTurn", back_populates="drill", cascade="all, delete-orphan",
        order_by="PracticeTurn.turn_no",
    )


class PracticeTurn(Base):
    """One trainee reply with its feedback."""

    __tablename__ = "practice_turns"

    id = Column(Integer, primary_key=True, autoincrement=True)
    drill_id = Column("session_id", Integer, ForeignKey("practice_sessions.id"), nullable=False,
                      index=True)
    turn_no = Column(Integer, nullable=False)
    customer_text = Column(Text, nullable=False)
    reply_text = Column(Text, nullable=False)
    technique = Column(String(16), nullable=False)
    technique_suitable = Column(Integer, nullable=False, default=0)
    score = Column(Integer, nullable=False)
    # The explained rubric results: [{key, name, delta, phrase, tip}, ...]
    rubric = Column(JSON, nullable=False, default=list)
    created_at = Column(DateTime, nullable=False)

    drill = relationship("PracticeDrill", back_populates="turns")


class VerificationFailure(Base):
    """A failed order check (number and phone digits that do not match), kept so the
    limits hold across conversations, sender ids and replicas (shared database)."""

    __tablename__ = "verification_failures"

    id = Column(Integer, primary_key=True, autoincrement=True)
    # The number as typed (well-formed, upper case): the order may not exist.
    order_no = Column(String(32), nullable=False, index=True)
    # The client's network address as the channel saw it ("" when it has none).
    client = Column(String(64), nullable=False, default="", index=True)
    failed_at = Column(DateTime, nullable=False, index=True)


class ChannelCursor(Base):
    """Where a channel's message sync stopped (WeCom 微信客服: sync_msg's next_cursor)."""

    __tablename__ = "channel_cursors"

    channel = Column(String(32), primary_key=True)
    # The platform account the cursor belongs to (WeCom: the open_kfid).
    account = Column(String(64), primary_key=True)
    cursor = Column(String(512), nullable=False, default="")
    updated_at = Column(DateTime, nullable=False)


class ChannelMessage(Base):
    """A platform message already taken (a duplicate delivery is skipped)."""

    __tablename__ = "channel_messages"

    channel = Column(String(32), primary_key=True)
    msg_id = Column(String(128), primary_key=True)
    received_at = Column(DateTime, nullable=False, index=True)


class ReviewItem(Base):
    """A customer message the bot did not understand, queued for staff to label
    (四个不漏: nothing missed). One row per tracker event of a message."""

    __tablename__ = "review_items"
    __table_args__ = (UniqueConstraint("conversation_id", "event_id"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    # The `events.id` of the message in Rasa's tracker store.
    event_id = Column(Integer, nullable=False)
    text = Column(Text, nullable=False)
    predicted_intent = Column(String(128))
    confidence = Column(Float)
    # nlu_fallback / low_confidence / asked_human
    reason = Column(String(32), nullable=False, index=True)
    # {"bot_before": ..., "bot_reply": ..., "customer_next": ...} where known.
    context = Column(JSON, nullable=False, default=dict)
    # When the customer sent the message.
    created_at = Column(DateTime, nullable=False, index=True)
    # new → labelled → exported
    status = Column(String(16), nullable=False, default="new", index=True)
    # An intent of the domain (faq/<key> for FAQ questions) or "new_topic".
    label = Column(String(128))
    labelled_by = Column(String(64))
    labelled_at = Column(DateTime)
    exported_at = Column(DateTime)
    # Where the export put it (data file, topic list) or why it was skipped.
    export_note = Column(String(255))


class ScanCursor(Base):
    """Up to which tracker-store event id a scan has looked (review queue, …)."""

    __tablename__ = "scan_cursors"

    name = Column(String(32), primary_key=True)
    last_event_id = Column(Integer, nullable=False, default=0)
    updated_at = Column(DateTime, nullable=False)


class AuditEntry(Base):
    """One staff action on personal data or records (PIPL): who, what, when, from where.
    Written in the request's own transaction-free unit of work; never updated."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True, autoincrement=True)
    at = Column(DateTime, nullable=False, index=True)
    staff = Column(String(64), nullable=False, index=True)
    role = Column(String(16), nullable=False)
    # view_conversation, reply, note, join, handback, close, view_report, export_report,
    # label_review, export_review, view_trainee, login, login_failed, view_audit, …
    action = Column(String(32), nullable=False, index=True)
    # What it was about: "ticket 12 (T2026…)", "report tickets_by_kind.csv", …
    target = Column(String(255), nullable=False, default="")
    address = Column(String(64), nullable=False, default="")


class StaffLoginFailure(Base):
    """A failed console login, per account name tried and client address: the login
    throttle counts these across replicas (shop/staff_login.py)."""

    __tablename__ = "staff_login_failures"

    id = Column(Integer, primary_key=True, autoincrement=True)
    name = Column(String(64), nullable=False, index=True)
    address = Column(String(64), nullable=False, index=True)
    at = Column(DateTime, nullable=False, index=True)


class RevokedToken(Base):
    """A console token ended by logout before it expired (its `jti`)."""

    __tablename__ = "revoked_tokens"

    token_id = Column(String(64), primary_key=True)
    expires_at = Column(DateTime, nullable=False, index=True)


class PracticeInvitation(Base):
    """A code a trainer gave one trainee: practice in the chat starts only with it, and
    it decides whose practice (and history) it is. Only the code's hash is stored."""

    __tablename__ = "practice_invitations"

    code_hash = Column(String(64), primary_key=True)
    trainee = Column(String(64), nullable=False, index=True)
    created_by = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False)
