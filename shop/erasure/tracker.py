"""Rewriting Rasa's tracker store (the `events` table) for erasure and retention.

Every pass reads in id order, `BATCH` rows at a time, and commits per batch: memory
stays bounded however large the store is (the review scan's lesson, issue 16).
On SQLite, `secure_delete` overwrites the old content of the rewritten pages, so a
phone number does not survive in free pages of the file.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Set

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from shop.erasure.identifiers import ERASED, Scrubber
from shop.insights.tracker_events import EVENTS

logger = logging.getLogger(__name__)

BATCH = 500


def writable_engine(url: str) -> Optional[Engine]:
    """An engine on the tracker store; None if it has no `events` table yet."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:" or not Path(database).exists():
            return None
        engine = sa.create_engine(url, future=True, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _secure(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()
    else:
        engine = sa.create_engine(url, future=True, pool_pre_ping=True)
    if not sa.inspect(engine).has_table("events"):
        engine.dispose()
        return None
    return engine


def checkpoint(engine: Engine) -> None:
    """SQLite in WAL mode keeps old page versions in the -wal file until a checkpoint."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def mentions(scrubber: Scrubber) -> sa.sql.ColumnElement:
    """Rows whose JSON mentions one of the identifiers (plain or \\u-escaped)."""
    return sa.or_(*(EVENTS.c.data.like(p, escape="\\") for p in scrubber.like_patterns()))


def senders_where(engine: Engine, condition: sa.sql.ColumnElement) -> Set[str]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(EVENTS.c.sender_id).where(condition).distinct())
        return {r[0] for r in rows}


def anonymise_event(event: Dict[str, Any], scrubber: Scrubber, wipe: bool,
                    personal_slots: Iterable[str]) -> Dict[str, Any]:
    """The event with identifiers replaced; with `wipe`, also every customer text,
    entity value and personal slot value (the conversation itself is personal)."""
    event = scrubber.value(event)
    if not wipe:
        return event
    kind = event.get("event")
    if kind == "user":
        event["text"] = ERASED
        event["metadata"] = {}
        parse = event.get("parse_data")
        if isinstance(parse, dict):
            parse["text"] = ERASED
            parse["entities"] = [
                {**e, "value": ERASED} for e in parse.get("entities") or [] if isinstance(e, dict)
            ]
    elif kind == "bot" and event.get("text"):
        event["text"] = ERASED
    elif kind == "slot" and event.get("name") in set(personal_slots):
        event["value"] = None
    return event


def rewrite(engine: Engine, condition: sa.sql.ColumnElement,
            change: Callable[[Dict[str, Any]], Dict[str, Any]]) -> int:
    """Applies `change` to the JSON of every row matching `condition`, in batches:
    how many rows changed."""
    changed, last_id = 0, 0
    while True:
        with engine.begin() as connection:
            rows = connection.execute(
                sa.select(EVENTS.c.id, EVENTS.c.data)
                .where(condition, EVENTS.c.id > last_id)
                .order_by(EVENTS.c.id).limit(BATCH)
            ).all()
            for row_id, data in rows:
                try:
                    event = json.loads(data)
                except (TypeError, ValueError):
                    logger.warning("Tracker event %s is not JSON; replaced", row_id)
                    event = {"event": "unreadable"}
                new = json.dumps(change(event))
                if new != data:
                    connection.execute(
                        sa.update(EVENTS).where(EVENTS.c.id == row_id).values(data=new))
                    changed += 1
        if len(rows) < BATCH:
            return changed
        last_id = rows[-1][0]


def rename_senders(engine: Engine, renames: Dict[str, str]) -> None:
    """Gives conversations their pseudonyms (their events stay one conversation)."""
    with engine.begin() as connection:
        for old, new in renames.items():
            connection.execute(
                sa.update(EVENTS).where(EVENTS.c.sender_id == old).values(sender_id=new))


def idle_senders(engine: Engine, before: float, limit: int,
                 skip_prefixes: Iterable[str] = ("erased-", "anon-")) -> List[str]:
    """Up to `limit` conversations whose last event is older than `before` (unix
    time) and that have no pseudonym yet."""
    last = sa.func.max(EVENTS.c.timestamp)
    query = sa.select(EVENTS.c.sender_id).group_by(EVENTS.c.sender_id).having(last < before)
    for prefix in skip_prefixes:
        query = query.where(sa.not_(EVENTS.c.sender_id.startswith(prefix, autoescape=True)))
    with engine.connect() as connection:
        return [r[0] for r in connection.execute(query.order_by(last).limit(limit))]
