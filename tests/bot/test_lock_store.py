"""The production lock store against a real Redis server (our own, on a free port)."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import List

import pytest
import redis
from rasa.utils.endpoints import EndpointConfig

from bench.services import RedisServer
from bench.stack import free_port
from bot.lock_store import LockStoreUnavailable, ResilientRedisLockStore


class Clock:
    """A hand-moved clock for the retry interval."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def store_for(port: int, clock: Clock) -> ResilientRedisLockStore:
    config = EndpointConfig(url="127.0.0.1", type="bot.lock_store.ResilientRedisLockStore",
                            port=str(port), db="0", key_prefix="test")
    return ResilientRedisLockStore(endpoint_config=config, retry_seconds=5, clock=clock)


def test_created_from_the_production_endpoints_file(monkeypatch, redis_server) -> None:
    from rasa.core.lock_store import LockStore
    from rasa.core.utils import AvailableEndpoints

    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_PORT", str(redis_server.port))
    monkeypatch.setenv("REDIS_DB", "0")
    monkeypatch.setenv("REDIS_KEY_PREFIX", "prod")
    monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:1/webhook")
    monkeypatch.setenv("TRACKER_STORE_URL", "postgresql://nobody@127.0.0.1:1/none")
    endpoints = AvailableEndpoints.read_endpoints("endpoints.production.yml")
    store = LockStore.create(endpoints.lock_store)
    assert isinstance(store, ResilientRedisLockStore)
    assert store.key_prefix.startswith("prod:")


def test_locks_live_in_redis(redis_server) -> None:
    store = store_for(redis_server.port, Clock())
    client = redis.StrictRedis(port=redis_server.port, db=0)

    async def hold() -> List[bytes]:
        async with store.lock("conversation-1"):
            return client.keys("test:*")

    assert asyncio.run(hold()) == [b"test:lock:conversation-1"]
    assert client.keys("test:*") == []  # released


def test_refuses_to_start_without_redis(caplog) -> None:
    caplog.set_level(logging.ERROR)
    with pytest.raises(LockStoreUnavailable):
        store_for(free_port(), Clock())
    assert "Refusing to start" in caplog.text


def test_degrades_to_local_locks_and_comes_back(redis_server, caplog) -> None:
    caplog.set_level(logging.INFO)
    clock = Clock()
    store = store_for(redis_server.port, clock)
    port = redis_server.port
    redis_server.stop()

    async def handle(conversation_id: str) -> None:
        async with store.lock(conversation_id):
            await asyncio.sleep(0)

    asyncio.run(handle("during-outage"))  # still served, with a local lock
    assert store.degraded
    assert "Degraded mode" in caplog.text
    assert caplog.text.count("Degraded mode") == 1  # said once, not per call

    # Local locks still serialise this process's messages of one conversation.
    order: List[str] = []

    async def step(name: str) -> None:
        async with store.lock("same"):
            order.append(f"{name}-in")
            await asyncio.sleep(0.05)
            order.append(f"{name}-out")

    async def both() -> None:
        await asyncio.gather(step("a"), step("b"))

    asyncio.run(both())
    assert order in (["a-in", "a-out", "b-in", "b-out"], ["b-in", "b-out", "a-in", "a-out"])

    revived = RedisServer(redis_server.workdir, port=port).start()
    try:
        asyncio.run(handle("still-local"))  # before the retry interval: no Redis call
        assert store.degraded
        clock.now += 6
        asyncio.run(handle("after-recovery"))
        assert not store.degraded
        assert "is back" in caplog.text
    finally:
        revived.stop()


def test_two_servers_taking_tickets_at_once_never_share_one(redis_server) -> None:
    """Rasa's store reads, changes and writes the lock: two servers at the same
    instant both got ticket 0. The mutex makes every ticket unique."""
    servers = [store_for(redis_server.port, Clock()) for _ in range(2)]
    start = threading.Barrier(2)
    tickets: List[int] = []

    def take(store: ResilientRedisLockStore) -> None:
        start.wait()
        for _ in range(50):
            tickets.append(store.issue_ticket("busy-conversation"))

    threads = [threading.Thread(target=take, args=(store,)) for store in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(tickets) == list(range(100))
