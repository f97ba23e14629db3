"""One engine per process, one short session per unit of work."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from shop.config import settings
from shop.db.models import Base

logger = logging.getLogger(__name__)

_engine: Optional[Engine] = None
_session_factory: Optional[sessionmaker] = None


def make_engine(url: str) -> Engine:
    """Creates an engine with the options each backend needs."""
    if url.startswith("sqlite"):
        # A fresh clone has no var/ yet: SQLite creates the file, not its folder.
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, future=True, connect_args={"check_same_thread": False, "timeout": 15}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # Erased personal data (shop/erasure/) must not survive in free pages.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    # Stale pooled connections (database restarted) are detected before use.
    return create_engine(url, future=True, pool_pre_ping=True, pool_size=5)


def get_engine() -> Engine:
    """The process-wide engine, created on first use from `DATABASE_URL`."""
    global _engine, _session_factory
    if _engine is None:
        _engine = make_engine(settings.database_url)
        _session_factory = sessionmaker(bind=_engine, future=True, expire_on_commit=False)
    return _engine


def use_engine(engine: Engine) -> None:
    """Points the data layer at another engine (tests, tools)."""
    global _engine, _session_factory
    _engine = engine
    _session_factory = sessionmaker(bind=engine, future=True, expire_on_commit=False)


def create_schema(engine: Optional[Engine] = None) -> None:
    """Creates missing tables and adds missing nullable columns; data is left alone.

    Enough for additive changes of this small schema; a destructive change would
    need a real migration tool.
    """
    engine = engine or get_engine()
    Base.metadata.create_all(engine)
    inspector = inspect(engine)
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            present = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present and column.nullable:
                    kind = column.type.compile(dialect=engine.dialect)
                    logger.info("Adding column %s.%s", table.name, column.name)
                    connection.execute(
                        text(f'ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}')
                    )


@contextmanager
def session_scope() -> Iterator[Session]:
    """A transaction: committed when the block succeeds, rolled back otherwise."""
    get_engine()
    assert _session_factory is not None
    session = _session_factory()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
