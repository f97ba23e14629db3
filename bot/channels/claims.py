"""Messages already taken, claimed in the shared database.

Several Rasa servers may receive the same WeChat retry, sync the same WeCom messages
or get a web chat message the widget resent: the primary key of `channel_messages`
decides which one answers. Old claims are pruned now and then (nobody resends them).
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Callable

PRUNE_EVERY_SECONDS = 3600.0


def _claim(channel: str, key: str) -> bool:
    from shop.db import repository
    from shop.db.engine import session_scope

    with session_scope() as session:
        return repository.channels.claim_channel_message(session=session, channel=channel,
                                                msg_id=key[:128])


def _retake(channel: str, key: str, older_than: timedelta) -> bool:
    from shop import deadlines
    from shop.db import repository
    from shop.db.engine import session_scope

    with session_scope() as session:
        return repository.channels.retake_channel_message(
            session=session, channel=channel, msg_id=key[:128],
            older_than=deadlines.utcnow() - older_than)


def _release(channel: str, key: str) -> None:
    from shop.db import repository
    from shop.db.engine import session_scope

    with session_scope() as session:
        repository.channels.release_channel_message(session=session, channel=channel,
                                                    msg_id=key[:128])


def _prune(channel: str, keep: timedelta) -> int:
    from shop import deadlines
    from shop.db import repository
    from shop.db.engine import session_scope

    with session_scope() as session:
        return repository.channels.prune_channel_messages(
            session=session, channel=channel, before=deadlines.utcnow() - keep)


class DeliveryClaims:
    """Claims of one channel; `claim` is False when another process took the key."""

    def __init__(self, channel: str, keep: timedelta,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.channel = channel
        self.keep = keep
        self._clock = clock
        self._pruned_at = float("-inf")

    async def claim(self, key: str) -> bool:
        if self._clock() - self._pruned_at > PRUNE_EVERY_SECONDS:
            self._pruned_at = self._clock()
            await asyncio.to_thread(_prune, self.channel, self.keep)
        return await asyncio.to_thread(_claim, self.channel, key)

    async def release(self, key: str) -> None:
        """Forgets a claim (its message failed): a resend is handled anew."""
        await asyncio.to_thread(_release, self.channel, key)

    async def retake(self, key: str, older_than: timedelta) -> bool:
        """Takes over a claim older than `older_than` (its taker died): one caller wins."""
        return await asyncio.to_thread(_retake, self.channel, key, older_than)
