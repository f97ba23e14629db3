"""The tracker store the assistant uses (bot/tracker_store.py): Rasa's SQL store,
its SQLite connection kept open in WAL mode; unchanged on PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any, List

import pytest
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import event
from sqlalchemy.pool import NullPool, QueuePool

from bench.services import throwaway_databases
from bot.tracker_store import PooledSQLTrackerStore

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT / "domain.yml"))


def turn(tracker: DialogueStateTracker, text: str) -> None:
    tracker.update(UserUttered(text, {"name": "greet", "confidence": 0.9}))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(BotUttered(f"回复:{text}"))
    tracker.update(ActionExecuted("action_listen"))


def converse(store: TrackerStore, sender: str, texts: List[str]) -> DialogueStateTracker:
    """Each message as the processor handles it: retrieve, add the turn, save."""

    async def run() -> DialogueStateTracker:
        for text in texts:
            tracker = await store.retrieve(sender)
            if tracker is None:
                tracker = DialogueStateTracker(sender, store.domain.slots)
                tracker.update(ActionExecuted("action_session_start"))
                tracker.update(SessionStarted())
                tracker.update(ActionExecuted("action_listen"))
            turn(tracker, text)
            await store.save(tracker)
        stored = await store.retrieve(sender)
        assert stored is not None
        return stored

    return asyncio.run(run())


def user_texts(tracker: DialogueStateTracker) -> List[str]:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


def test_endpoints_yml_selects_it_and_it_keeps_one_connection(domain, tmp_path) -> None:
    path = tmp_path / "tracker.db"
    config = EndpointConfig(url=f"sqlite:///{path}", type="bot.tracker_store.PooledSQLTrackerStore",
                            dialect="sqlite")
    store = TrackerStore.create(config, domain)
    inner: Any = getattr(store, "_tracker_store", store)  # Rasa wraps it (awaitable)
    assert isinstance(inner, PooledSQLTrackerStore)
    assert isinstance(inner.engine.pool, QueuePool)

    connects: List[int] = []
    event.listen(inner.engine, "connect", lambda *_: connects.append(1))
    texts = [f"第{i}句 亲 在吗" for i in range(12)]
    stored = converse(store, "alice", texts)

    assert user_texts(stored) == texts  # every message once, in order
    assert len(connects) == 1  # 25 retrieves and 12 saves, one connection
    with sqlite3.connect(path) as other:  # another process reads while it is open
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        count = other.execute(
            "SELECT count(*) FROM events WHERE sender_id='alice' AND type_name='user'"
        ).fetchone()[0]
    assert count == len(texts)


def test_rasas_own_store_reads_what_it_wrote(domain, tmp_path) -> None:
    """Same schema and rows: the reports and the review scan use Rasa's class."""
    path = tmp_path / "tracker.db"
    converse(PooledSQLTrackerStore(domain=domain, host=f"sqlite:///{path}"), "bob",
             ["你好", "风尊空调多少钱"])
    plain = SQLTrackerStore(domain=domain, dialect="sqlite", db=str(path))
    tracker = asyncio.run(plain.retrieve("bob"))
    assert tracker is not None and user_texts(tracker) == ["你好", "风尊空调多少钱"]


def test_in_memory_sqlite_is_left_as_rasa_makes_it(domain) -> None:
    store = PooledSQLTrackerStore(domain=domain, dialect="sqlite", db=":memory:")
    assert not isinstance(store.engine.pool, QueuePool)
    assert user_texts(converse(store, "carol", ["在吗"])) == ["在吗"]


def test_postgresql_is_rasas_store_unchanged(domain) -> None:
    with throwaway_databases(1) as (url,):
        store = PooledSQLTrackerStore(domain=domain, host=url)
        try:
            assert store.engine.dialect.name == "postgresql"
            assert not isinstance(store.engine.pool, NullPool)
            assert user_texts(converse(store, "dave", ["你好", "查订单"])) == ["你好", "查订单"]
        finally:
            store.engine.dispose()


def stored_rows(path: Path) -> List[tuple]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT sender_id, type_name, intent_name, action_name, data "
                          "FROM events ORDER BY id").fetchall()
    return [(s, t, i, a, _without_timestamp(d)) for s, t, i, a, d in rows]


def _without_timestamp(data: str) -> dict:
    import json

    parsed = json.loads(data)
    parsed.pop("timestamp", None)
    return parsed


def test_it_writes_the_rows_rasas_store_writes(domain, tmp_path) -> None:
    """Same conversation, two sessions, through both classes: the same rows."""
    texts = ["你好", "风尊空调多少钱", "谢谢"]

    def two_sessions(store: TrackerStore) -> DialogueStateTracker:
        converse(store, "erin", texts[:2])
        tracker = asyncio.run(store.retrieve("erin"))
        assert tracker is not None
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        tracker.update(ActionExecuted("action_listen"))
        asyncio.run(store.save(tracker))
        return converse(store, "erin", texts[2:])

    ours = two_sessions(PooledSQLTrackerStore(domain=domain, host=f"sqlite:///{tmp_path}/a.db"))
    rasas = two_sessions(SQLTrackerStore(domain=domain, dialect="sqlite", db=f"{tmp_path}/b.db"))
    assert stored_rows(tmp_path / "a.db") == stored_rows(tmp_path / "b.db")
    # the latest session only, as Rasa retrieves it
    assert user_texts(ours) == user_texts(rasas) == ["谢谢"]
    full = asyncio.run(PooledSQLTrackerStore(domain=domain, host=f"sqlite:///{tmp_path}/a.db")
                       .retrieve_full_tracker("erin"))
    assert full is not None and user_texts(full) == texts


def test_a_failed_save_is_noted_although_rasas_fail_safe_store_swallows_it(domain,
                                                                          tmp_path) -> None:
    """Rasa wraps the store in FailSafeTrackerStore, which logs a failed save and keeps
    the tracker in memory: the message would be answered yet be in no shared store.
    SAVE_FAILED lets the channel ask for it again (bot/channels/guard.py)."""
    from rasa.core.tracker_store import FailSafeTrackerStore

    from bot import tracker_store

    path = tmp_path / "t.db"
    store = PooledSQLTrackerStore(domain=domain, host=f"sqlite:///{path}")
    safe = FailSafeTrackerStore(store)
    tracker = DialogueStateTracker("carol", domain.slots)
    turn(tracker, "你好")

    async def save_then_read() -> bool:
        tracker_store.SAVE_FAILED.set(False)
        await safe.save(tracker)
        return tracker_store.SAVE_FAILED.get()

    assert asyncio.run(save_then_read()) is False
    store.engine.dispose()
    path.unlink()
    path.mkdir()  # the database is gone: a directory where the file was
    turn(tracker, "在吗")
    assert asyncio.run(save_then_read()) is True
