"""Rasa's SQL tracker store: its SQLite connection kept open, its queries precompiled.

SQLAlchemy 1.4 gives a file SQLite database no connection pool: Rasa's
SQLTrackerStore opened and closed a connection for every retrieve and every save,
and closing the last connection to a WAL database checkpoints it, an fsync'd copy
of the log, from inside the event loop. Retrieve and save were a third of the Rasa
server's CPU per message (README, Performance). Here the connection stays open
(one pool, one thread: the event loop), in WAL mode with synchronous=NORMAL: a
committed turn can be lost on power failure, never when a process dies, and
other processes (reports, the review scan) read while the server writes.

Reads and writes are Rasa's, statement for statement (the latest session's events
in id order; the new events appended), written as fixed SQL instead of ORM queries
rebuilt for every message, so the same table serves Rasa's own class, the reports
and the review scan. On PostgreSQL (production) only that part applies.
Configured in endpoints*.yml as `type: bot.tracker_store.PooledSQLTrackerStore`.
"""

from __future__ import annotations

import itertools
import json
import logging
from contextvars import ContextVar
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.pool import QueuePool

logger = logging.getLogger(__name__)

# Set when saving a tracker failed in the current message's task (bot/channels/guard.py
# resets it before a message and reads it after).
SAVE_FAILED: ContextVar[bool] = ContextVar("tracker_save_failed", default=False)

# Rasa touches the store from the event loop only, one session at a time; the
# overflow covers a tool that opens a second session through the same object.
POOL_SIZE = 1
MAX_OVERFLOW = 4


def is_sqlite_file(url: sa.engine.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


def sqlite_engine(url: sa.engine.URL) -> sa.engine.Engine:
    """A pooled engine on a SQLite file, in WAL mode."""
    engine = sa.create_engine(
        url,
        poolclass=QueuePool,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        # The pool hands a connection to whichever thread asks; SQLAlchemy 2.0
        # does the same for file databases.
        connect_args={"check_same_thread": False},
    )

    @sa.event.listens_for(engine, "connect")
    def _wal(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    return engine


def latest_session_sql(table: str, what: str, order: str = "") -> sa.sql.elements.TextClause:
    """Rasa's event query: a sender's events since their latest session start (all of
    them when there is none), as one fixed statement."""
    return sa.text(
        f"SELECT {what} FROM {table} AS e, "
        f"(SELECT max(timestamp) AS start FROM {table} "
        f" WHERE sender_id = :sender_id AND type_name = :session_started) AS s "
        f"WHERE e.sender_id = :sender_id AND (s.start IS NULL OR e.timestamp >= s.start) {order}"
    )


class PooledSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore with fixed statements and, on SQLite, an open connection."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        dialect: Text = "sqlite",
        host: Optional[Text] = None,
        port: Optional[int] = None,
        db: Text = "rasa.db",
        username: Optional[Text] = None,
        password: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        login_db: Optional[Text] = None,
        query: Optional[Dict] = None,
        **kwargs: Dict[Text, Any],
    ) -> None:
        super().__init__(
            domain, dialect, host, port, db, username, password,  # type: ignore[arg-type]
            event_broker, login_db, query, **kwargs,
        )
        table = self.SQLEvent.__tablename__
        self._latest_events = latest_session_sql(table, "e.data", "ORDER BY e.id")
        self._latest_count = latest_session_sql(table, "count(*)")
        self._insert = sa.insert(self.SQLEvent.__table__)
        url = self.engine.url
        if not is_sqlite_file(url):
            return
        self.engine.dispose()
        self.engine = sqlite_engine(url)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        logger.debug("SQLite tracker store %s: pooled connection, WAL", url.database)

    def _params(self, sender_id: Text) -> Dict[str, Any]:
        return {"sender_id": sender_id, "session_started": SessionStarted.type_name}

    async def _retrieve(
        self, sender_id: Text, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        if fetch_events_from_all_sessions:  # rare (exports, the HTTP API): Rasa's query
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        with self.session_scope() as session:
            rows = session.execute(self._latest_events, self._params(sender_id)).all()
        events = [json.loads(data) for (data,) in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Appends the events not stored yet, in one transaction, as Rasa does. A
        failure is also noted in SAVE_FAILED: Rasa's fail-safe wrapper swallows it (and
        keeps the tracker in this process's memory), but a message that is not in the
        shared store is not handled, and the channel asks for it again."""
        try:
            await self._save(tracker)
        except Exception:
            SAVE_FAILED.set(True)
            raise

    async def _save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            stored = session.execute(self._latest_count, self._params(tracker.sender_id)).scalar()
            rows: List[Dict[str, Any]] = []
            for event in itertools.islice(tracker.events, int(stored or 0), None):
                data = event.as_dict()
                intent = data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY)
                rows.append({
                    "sender_id": tracker.sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": intent,
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                })
            if rows:
                session.execute(self._insert, rows)
            session.commit()
