"""The rate limiter's windows (bot/channels/limits.py) on a fake clock, and the
windows shared by replicas through a real Redis server (our own, on a free port)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, List

from bot.channels import redis_window
from bot.channels.limits import MAX_KEYS, Limits, Window


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_allows_its_limit_per_minute_then_says_how_long_to_wait():
    clock = Clock()
    window = Window(3, clock)
    assert [window.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    clock.now += 20
    assert window.take("a") == 40.0  # the first event leaves the window in 40 s
    assert window.take("b") == 0.0  # another key is not affected
    clock.now += 40.5
    assert window.take("a") == 0.0


def test_zero_means_no_limit():
    window = Window(0, Clock())
    assert all(window.take("a") == 0.0 for _ in range(1000))


def test_messages_are_limited_per_address_and_per_conversation():
    limits = Limits(address=5, conversation=2, form=1, clock=Clock())

    def message(address: str, conversation: str) -> float:
        return asyncio.run(limits.message(address, conversation))

    def form(address: str, route: str) -> float:
        return asyncio.run(limits.form_post(address, route))

    assert message("10.0.0.1", "c1") == 0 and message("10.0.0.1", "c1") == 0
    assert message("10.0.0.1", "c1") > 0  # the conversation's third in a minute
    assert message("10.0.0.1", "c2") == 0 and message("10.0.0.1", "c3") == 0
    assert message("10.0.0.1", "c4") > 0  # the address's sixth
    assert message("10.0.0.2", "c5") == 0
    assert form("10.0.0.1", "/rating") == 0
    assert form("10.0.0.1", "/rating") > 0
    assert form("10.0.0.1", "/login") == 0  # each form on its own


def test_a_flood_of_fresh_addresses_keeps_memory_bounded():
    window = Window(5, Clock())
    for number in range(MAX_KEYS + 500):
        window.take(f"k{number}")
    assert len(window._events) == MAX_KEYS


# ------------------------------------------------------------------ shared windows


def replicas(port: int, count: int = 2, clock: Any = None) -> List[Limits]:
    """Rate limiters as `count` Rasa servers would build them, sharing one Redis."""
    return [Limits(address=4, conversation=100, form=3, clock=clock or Clock(),
                   redis_client=redis_window.client("127.0.0.1", port, 0), prefix="test")
            for _ in range(count)]


def test_replicas_share_one_window(redis_server):
    async def scenario() -> List[float]:
        first, second = replicas(redis_server.port)
        waits = []
        for n in range(6):  # alternating, as nginx spreads one client's requests
            limiter = first if n % 2 == 0 else second
            waits.append(await limiter.message("192.0.2.1", f"c{n}"))
        waits.append(await second.message("192.0.2.2", "c9"))  # another address
        return waits

    waits = asyncio.run(scenario())
    # 4 a minute in all, not 4 per replica: the 5th and 6th are refused by either.
    assert waits[:4] == [0.0] * 4
    assert 55 < waits[4] <= 60 and 55 < waits[5] <= 60
    assert waits[6] == 0.0


def test_concurrent_requests_cannot_both_take_the_last_slot(redis_server):
    async def scenario() -> List[float]:
        limiters = replicas(redis_server.port, count=4)
        return list(await asyncio.gather(*(
            limiters[n % 4].form_post("192.0.2.7", "/login") for n in range(12))))

    waits = asyncio.run(scenario())
    assert sum(w == 0.0 for w in waits) == 3  # exactly the limit, whatever the order


def test_redis_down_falls_back_to_the_replica_window_and_comes_back(redis_server, caplog):
    clock = Clock()
    [limiter] = replicas(redis_server.port, count=1, clock=clock)
    caplog.set_level(logging.INFO, logger="bot.channels.redis_window")

    async def take(n: int) -> List[float]:
        return [await limiter.form_post("192.0.2.9", "/rating") for _ in range(n)]

    async def scenario() -> None:
        assert await take(1) == [0.0]
        redis_server.stop()
        # Still limited (by this replica's own window), never an error for the customer.
        waits = await take(4)
        assert waits[:3] == [0.0, 0.0, 0.0] and waits[3] > 0
        assert "Redis unreachable" in caplog.text
        redis_server.start()
        clock.now += redis_window.RETRY_SECONDS + 1
        # Shared again: the restarted Redis (no persistence) has an empty window.
        waits = await take(4)
        assert waits[:3] == [0.0, 0.0, 0.0] and waits[3] > 0
        assert "Redis is back" in caplog.text

    asyncio.run(scenario())
