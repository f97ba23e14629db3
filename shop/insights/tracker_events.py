"""Reading Rasa's SQL tracker store (read-only) for the reports and the review queue.

Rasa's `events` table holds one row per event: sender_id, type_name, timestamp,
intent_name, action_name (the `name` of actions, slots and loops) and the event as
JSON in `data`. A conversation is one Rasa session of one sender (split at
`session_started`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("intent_name", sa.String),
    sa.column("action_name", sa.String),
    sa.column("data", sa.Text),
)


@dataclass(frozen=True)
class EventRow:
    """One stored tracker event (`conversation_id` is Rasa's `sender_id` column)."""

    conversation_id: str
    type_name: str
    timestamp: float
    intent_name: Optional[str] = None
    action_name: Optional[str] = None
    data: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Conversation:
    """One session of one sender; `end` is the next session's start (or None)."""

    conversation_id: str
    events: List[EventRow]
    end: Optional[float] = None

    @property
    def start(self) -> float:
        return self.events[0].timestamp


def read_only_engine(url: str) -> Optional[Engine]:
    """An engine that cannot write: SQLite opened with mode=ro; None if no such file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:" or not Path(database).exists():
            return None
        return sa.create_engine(
            f"sqlite:///file:{Path(database).resolve()}?mode=ro&uri=true", future=True
        )
    engine = sa.create_engine(url, future=True, pool_pre_ping=True)
    if parsed.get_backend_name() == "postgresql":
        return engine.execution_options(postgresql_readonly=True)
    return engine


def unix(moment: datetime) -> float:
    """Unix time of a naive-UTC moment."""
    return moment.replace(tzinfo=timezone.utc).timestamp()


def read_events(url: str, start: float, end: float) -> Tuple[List[EventRow], Dict[str, float]]:
    """Events of every sender active in [start, end), from `start` on, in stored order;
    and each such sender's first event time (to tell a session begun before `start`).

    Raises SQLAlchemyError when the store cannot be read.
    """
    engine = read_only_engine(url)
    if engine is None:
        return [], {}
    try:
        with engine.connect() as connection:
            active = (
                sa.select(EVENTS.c.sender_id)
                .where(EVENTS.c.timestamp >= start, EVENTS.c.timestamp < end)
                .distinct()
                .subquery()
            )
            first = dict(connection.execute(
                sa.select(EVENTS.c.sender_id, sa.func.min(EVENTS.c.timestamp))
                .where(EVENTS.c.sender_id.in_(sa.select(active.c.sender_id)))
                .group_by(EVENTS.c.sender_id)
            ).all())
            result = connection.execute(
                sa.select(EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp,
                          EVENTS.c.intent_name, EVENTS.c.action_name, EVENTS.c.data)
                .where(EVENTS.c.sender_id.in_(sa.select(active.c.sender_id)),
                       EVENTS.c.timestamp >= start)
                .order_by(EVENTS.c.sender_id, EVENTS.c.id)
            )
            rows = [
                EventRow(sender, type_name, float(stamp or 0.0), intent, action,
                         event_data(data))
                for sender, type_name, stamp, intent, action, data in result
            ]
    finally:
        engine.dispose()
    return rows, {sender: float(stamp) for sender, stamp in first.items()}


def event_data(data: Optional[str]) -> Dict[str, Any]:
    try:
        value = json.loads(data or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def split_sessions(
    rows: List[EventRow], first_seen: Dict[str, float], start: float, end: float
) -> List[Conversation]:
    """Sessions that began in [start, end) and in which the customer said something.

    Events before a sender's first `session_started` in `rows` belong to a session
    begun earlier, unless the sender has no earlier events at all.
    """
    by_conversation: Dict[str, List[EventRow]] = {}
    for row in rows:
        by_conversation.setdefault(row.conversation_id, []).append(row)
    conversations: List[Conversation] = []
    for conversation_id, events in by_conversation.items():
        chunks: List[List[EventRow]] = [[]]
        for event in events:
            if event.type_name == "session_started" and chunks[-1]:
                chunks.append([])
            chunks[-1].append(event)
        if chunks[0] and chunks[0][0].type_name != "session_started" and first_seen.get(
            conversation_id, chunks[0][0].timestamp
        ) < chunks[0][0].timestamp:
            chunks = chunks[1:]  # the tail of a session begun before the period
        for number, chunk in enumerate(chunks):
            following = chunks[number + 1][0].timestamp if number + 1 < len(chunks) else None
            if start <= chunk[0].timestamp < end and any(e.type_name == "user" for e in chunk):
                conversations.append(Conversation(conversation_id, chunk, following))
    conversations.sort(key=lambda c: (c.start, c.conversation_id))
    return conversations
