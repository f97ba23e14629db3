"""Retention: conversations idle for longer than RETENTION_DAYS are anonymised —
customer and bot texts and personal slots emptied, the conversation id replaced by
a pseudonym in the tracker store and the records — by a job in the Rasa server
(bot/console/jobs.py) or `python -m shop.erasure.cli retention`."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Optional

from shop import deadlines
from shop.config import settings
from shop.db import repository
from shop.db.engine import session_scope
from shop.erasure import tracker
from shop.erasure.customer import rules
from shop.erasure.identifiers import ERASED, Scrubber, pseudonym
from shop.insights.tracker_events import EVENTS, unix

logger = logging.getLogger(__name__)

# Conversations per pass: each is rewritten in bounded batches, so memory stays flat.
CONVERSATIONS_PER_PASS = 200
# How often the job looks (seconds): retention is counted in days.
INTERVAL_SECONDS = 3600.0


def anonymise_idle(days: Optional[int] = None, tracker_url: Optional[str] = None,
                   limit: int = CONVERSATIONS_PER_PASS) -> int:
    """Anonymises up to `limit` conversations idle for more than `days`; how many.
    0 days (the setting's "off") anonymises nothing."""
    days = settings.retention_days if days is None else days
    if days <= 0:
        return 0
    engine = tracker.writable_engine(tracker_url or settings.tracker_store_url)
    if engine is None:
        return 0
    slots = list(rules()["personal_slots"])
    nobody = Scrubber([])
    try:
        before = unix(deadlines.utcnow() - timedelta(days=days))
        idle = tracker.idle_senders(engine, before, limit)
        for conversation in idle:
            tracker.rewrite(engine, EVENTS.c.sender_id == conversation,
                            lambda e: tracker.anonymise_event(e, nobody, True, slots))
            renames = {conversation: pseudonym(conversation, "anon")}
            # Records first: a pass that stops here finds the conversation again.
            with session_scope() as session:
                repository.erasure.rename_conversations(
                    session=session, renames=renames, erased=ERASED)
            tracker.rename_senders(engine, renames)
        if idle:
            tracker.checkpoint(engine)
            logger.info("Retention: %d conversations older than %d days anonymised",
                        len(idle), days)
        return len(idle)
    finally:
        engine.dispose()


async def watch() -> None:
    """The scheduled job: one pass per interval, in a worker thread."""
    while True:
        try:
            while await asyncio.to_thread(anonymise_idle) >= CONVERSATIONS_PER_PASS:
                pass  # a backlog (first run): keep going until it is done
        except Exception:
            logger.exception("Retention pass failed; retrying in %.0f s", INTERVAL_SECONDS)
        await asyncio.sleep(INTERVAL_SECONDS)
