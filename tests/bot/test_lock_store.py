"""The production lock store against a real Redis server (our own, on a free port)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
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
            return sorted(client.keys("test:*"))

    assert asyncio.run(hold()) == sorted([
        f"test:lockmeta:alive:{store.server_id}".encode(), b"test:lock:conversation-1",
        b"test:lockmeta:owners:conversation-1"])
    # Released: only the server's heartbeat stays.
    assert client.keys("test:*") == [f"test:lockmeta:alive:{store.server_id}".encode()]


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


# A Rasa server's lock store in a process of its own: it takes the conversation's
# ticket and then hangs in the middle of the turn, until it is killed.
HOLDER = """
import sys, time
from rasa.utils.endpoints import EndpointConfig
from bot.lock_store import ResilientRedisLockStore
store = ResilientRedisLockStore(endpoint_config=EndpointConfig(
    url="127.0.0.1", port=sys.argv[1], db="0", key_prefix="test"))
print(store.issue_ticket("interrupted"), flush=True)
time.sleep(600)
"""


def acquire_within(store: ResilientRedisLockStore, conversation_id: str,
                   seconds: float) -> bool:
    """Whether `store` gets the conversation's lock within `seconds`."""
    async def take() -> None:
        async with store.lock(conversation_id, wait_time_in_seconds=0.2):
            pass

    try:
        asyncio.run(asyncio.wait_for(take(), seconds))
        return True
    except asyncio.TimeoutError:
        return False


def test_a_killed_servers_ticket_is_dropped_within_seconds(redis_server, caplog) -> None:
    """Before: Rasa's tickets expire only after 60 s, so the conversation whose message
    was being handled when its server was killed waited a minute."""
    caplog.set_level(logging.WARNING)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(redis_server.port)],
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "0"
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    killed_at = time.monotonic()
    store = store_for(redis_server.port, Clock())
    assert acquire_within(store, "interrupted", 15)
    # The dead server's heartbeat lasts ALIVE_SECONDS (5), then its ticket goes.
    assert time.monotonic() - killed_at < 8
    assert "stopped while holding it" in caplog.text


def test_a_live_servers_ticket_is_kept_however_long_its_turn(redis_server) -> None:
    holder, waiter = (store_for(redis_server.port, Clock()) for _ in range(2))
    holder.issue_ticket("slow-turn")
    # Longer than a dead server's heartbeat lasts (ALIVE_SECONDS): still its turn.
    assert not acquire_within(waiter, "slow-turn", 7)
    holder.close()  # as if killed: no more heartbeats
    assert acquire_within(waiter, "slow-turn", 10)
