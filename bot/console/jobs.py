"""The console's background work in the Rasa server: the queue watcher that pushes
`queue_changed` to consoles, the deadline alerts, the review-queue scan and the
retention job (conversations anonymised after RETENTION_DAYS)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, List, Optional

from sanic import Blueprint

from bot import live
from shop import desk
from shop.erasure import retention
from shop.insights import alerts
from shop.review import queue as review_queue

logger = logging.getLogger(__name__)

# How often the queue is checked for changes to push to consoles (seconds).
QUEUE_POLL_SECONDS = 2.0


async def watch_queue() -> None:
    """Pushes `queue_changed` to consoles when tickets appear or move (any process
    may create them: the action server opens most)."""
    last: Optional[List[Any]] = None
    while True:
        try:
            signature = await asyncio.to_thread(desk.queue_signature)
            if last is not None and signature != last:
                await live.to_staff("queue_changed")
            last = signature
        except Exception:
            logger.exception("Queue watch failed; retrying")
        await asyncio.sleep(QUEUE_POLL_SECONDS)


def add_listeners(console: Blueprint) -> None:
    """Starts the watchers once the server runs."""

    @console.listener("after_server_start")
    async def start_jobs(app: Any, _loop: Any) -> None:
        app.add_task(watch_queue())
        app.add_task(alerts.watch())
        app.add_task(review_queue.watch())
        app.add_task(retention.watch())
