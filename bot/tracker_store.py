"""Rasa's SQL tracker store, with its SQLite connection kept open.

SQLAlchemy 1.4 gives a file SQLite database no connection pool: Rasa's
SQLTrackerStore opened and closed a connection for every retrieve and every save,
and closing the last connection to a WAL database checkpoints it, an fsync'd copy
of the log, from inside the event loop. Retrieve and save were a third of the Rasa
server's CPU per message (README, Performance). Here the connection stays open
(one pool, one thread: the event loop), in WAL mode with synchronous=NORMAL: a
committed turn can be lost on power failure, never when a process dies, and
other processes (reports, the review scan) read while the server writes.

On any other database (PostgreSQL in production) it is Rasa's store unchanged.
Configured in endpoints.yml as `type: bot.tracker_store.PooledSQLTrackerStore`.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Text

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy.pool import QueuePool

logger = logging.getLogger(__name__)

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


class PooledSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that keeps its SQLite connection open (see module doc)."""

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
        url = self.engine.url
        if not is_sqlite_file(url):
            return
        self.engine.dispose()
        self.engine = sqlite_engine(url)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        logger.debug("SQLite tracker store %s: pooled connection, WAL", url.database)
