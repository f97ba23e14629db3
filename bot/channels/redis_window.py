"""A rate-limit window shared by every replica: a sliding one-minute log per key in a
Redis sorted set (the production profile's Redis), counted and added in one Lua script
so two replicas cannot both take the last slot. Redis's own clock times the events, so
replicas' clocks need not agree.

While Redis is unreachable the replica's own window (bot/channels/limits.py `Window`)
takes over — the limits still hold per replica — and Redis is tried again after
RETRY_SECONDS; Redis restarting never stops customers' messages.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any, Callable, Optional

from redis import asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
# A rate limit must not hold a message up: Redis on the LAN answers in a millisecond.
TIMEOUT_SECONDS = 0.5

# KEYS[1]: the key; ARGV: window seconds, limit, a unique member. Returns the seconds
# to wait as a string ("0": taken).
TAKE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(math.max(0.1, tonumber(oldest[2]) + window - now))
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return '0'
"""


class SharedWindow:
    """At most `limit` events per key within `window` seconds, across replicas."""

    def __init__(self, name: str, limit: int, client: Any, fallback: Any, prefix: str,
                 window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.limit = limit
        self.fallback = fallback
        self._client = client
        self._script = client.register_script(TAKE)
        self._prefix = prefix
        self._window = window
        self._clock = clock
        self._down_until: Optional[float] = None

    async def take(self, key: str) -> float:
        if self.limit <= 0:
            return 0.0
        if self._down_until is not None and self._clock() < self._down_until:
            return self.fallback.take(key)
        try:
            wait = await asyncio.wait_for(self._script(
                keys=[f"{self._prefix}:ratelimit:{self.name}:{key}"],
                args=[self._window, self.limit, uuid.uuid4().hex]), TIMEOUT_SECONDS)
        except (RedisError, OSError, asyncio.TimeoutError) as error:
            if self._down_until is None:
                logger.warning("Rate limits: Redis unreachable (%s); this replica's own "
                               "windows apply until it is back", type(error).__name__)
            self._down_until = self._clock() + RETRY_SECONDS
            return self.fallback.take(key)
        if self._down_until is not None:
            logger.info("Rate limits: Redis is back; windows shared again")
            self._down_until = None
        return float(wait)


def client(host: str, port: int, db: int) -> Any:
    """An asyncio Redis client that fails fast (connections made on first use)."""
    return aioredis.Redis(host=host, port=port, db=db, socket_timeout=TIMEOUT_SECONDS,
                          socket_connect_timeout=TIMEOUT_SECONDS)
