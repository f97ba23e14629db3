"""Shared fixtures: a seeded in-memory database, the real domain, trackers, a dispatcher.

The database is seeded once per test session with the real seed functions and then
copied (SQLite backup API) into a fresh in-memory engine for every test, so each test
starts from the same records and may write freely. The clock of the data layer is
frozen at `NOW`, the moment the seed's `placed_days_ago` counts back from.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any, Dict, Iterator, List, Optional

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from shop import deadlines
from shop.config import PROJECT_ROOT
from shop.db import engine as engine_module
from shop.db.seed import seed

# Chart tests check every glyph drawn (tests/glyphs.py: the `watch_charts` fixture).
pytest_plugins = ("glyphs", "tracker_scripts")

# 2026-11-23 12:00 in Shanghai (a Monday, inside staff hours), naive UTC.
NOW = datetime(2026, 11, 23, 4, 0)
DOMAIN_PATH = PROJECT_ROOT / "domain.yml"


def make_memory_engine() -> Engine:
    """A private in-memory SQLite engine with the pragmas production uses."""
    engine = create_engine(
        "sqlite://",
        future=True,
        poolclass=StaticPool,
        connect_args={"check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _foreign_keys(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def _raw(connection: Any) -> Any:
    """The sqlite3 connection under an SQLAlchemy connection."""
    return connection.connection.dbapi_connection


@pytest.fixture(autouse=True)
def _isolated_engine() -> Iterator[None]:
    """No test touches var/shop.db; whatever a test installs is put back afterwards.

    Without the `db` fixture the data layer sees an empty database (no tables), so a
    test that needs records but forgot the fixture fails loudly.
    """
    previous = (engine_module._engine, engine_module._session_factory)
    empty = make_memory_engine()
    engine_module.use_engine(empty)
    yield
    engine_module._engine, engine_module._session_factory = previous
    empty.dispose()


@pytest.fixture(scope="session")
def seeded_template() -> Iterator[Engine]:
    """One engine seeded by `shop.db.seed.seed` at `NOW` (copied for each test)."""
    previous = (engine_module._engine, engine_module._session_factory)
    template = make_memory_engine()
    engine_module.use_engine(template)
    try:
        seed(now=NOW)
    finally:
        engine_module._engine, engine_module._session_factory = previous
    yield template
    template.dispose()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Freezes the data layer's clock (`deadlines.utcnow`) at `NOW`."""
    monkeypatch.setattr(deadlines, "utcnow", lambda: NOW)
    return NOW


@pytest.fixture
def db(seeded_template: Engine, clock: datetime) -> Iterator[Engine]:
    """A fresh seeded in-memory database installed as the data layer's engine."""
    engine = make_memory_engine()
    with seeded_template.connect() as source, engine.connect() as target:
        _raw(source).backup(_raw(target))
    engine_module.use_engine(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def staff_online(db: Engine, clock: datetime) -> str:
    """A staff member seen in the console just now."""
    from shop.db import repository

    with engine_module.session_scope() as session:
        repository.staff.touch_staff(session=session, name="王客服", now=clock)
    return "王客服"


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    """The real domain, as the action server receives it."""
    with DOMAIN_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    """Collects what an action says."""
    return CollectingDispatcher()


def user_event(
    text: str = "",
    intent: Optional[str] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    response_selector: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """A `user` event as Rasa sends it to the action server."""
    parse_data: Dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": entities or [],
    }
    if response_selector is not None:
        parse_data["response_selector"] = response_selector
    return {"event": "user", "text": text, "parse_data": parse_data}


def entity(name: str, value: str, text: str = "") -> Dict[str, Any]:
    """An entity dict; offsets point at `value` in `text` when it occurs there."""
    start = max(text.find(value), 0)
    return {"entity": name, "value": value, "start": start, "end": start + len(value)}



def make_tracker(
    domain: Dict[str, Any],
    slots: Optional[Dict[str, Any]] = None,
    text: str = "",
    intent: Optional[str] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    response_selector: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    conversation_id: Optional[str] = None,
    active_loop: Optional[str] = None,
    paused: bool = False,
) -> Tracker:
    """A rasa_sdk Tracker shaped like the one Rasa sends to the action server.

    Every domain slot is present with its initial value unless given in `slots`.
    Without `events`, the history is the latest user message alone.
    """
    all_slots = {
        name: spec.get("initial_value") for name, spec in domain.get("slots", {}).items()
    }
    all_slots.update(slots or {})
    latest = user_event(text, intent, entities, response_selector)
    history = events if events is not None else [latest]
    return Tracker(
        conversation_id or f"test-{uuid.uuid4().hex[:8]}",
        all_slots,
        latest["parse_data"],
        history,
        paused,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


def run_action(
    action: Action, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
) -> List[EventType]:
    """Runs an action's coroutine to completion."""
    return asyncio.run(action.run(dispatcher, tracker, domain))


def responses(dispatcher: CollectingDispatcher) -> List[Optional[str]]:
    """Names of the responses uttered, in order (None for plain text)."""
    return [message.get("response") for message in dispatcher.messages]


def texts(dispatcher: CollectingDispatcher) -> List[str]:
    """Plain texts uttered, in order."""
    return [message["text"] for message in dispatcher.messages if message.get("text")]


def slot_events(events: List[EventType]) -> Dict[str, Any]:
    """The `slot` events as {name: value} (the last value wins)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def render(domain: Dict[str, Any], message: Dict[str, Any]) -> str:
    """The text a response would show, filled with the message's values like Rasa's NLG."""
    if message.get("text"):
        return str(message["text"])
    template = domain["responses"][message["response"]][0]["text"]
    values = {k: v for k, v in message.items() if k not in {"response", "template"}}
    return template.format(**values)


@pytest.fixture
def redis_server(tmp_path) -> Iterator["RedisServer"]:  # noqa: F821
    """A private redis-server on a free port (the lock store and the shared rate-limit
    windows are tested against a real one), stopped by PID after the test."""
    from bench.services import RedisServer, ServiceUnavailable

    try:
        server = RedisServer(tmp_path).start()
    except ServiceUnavailable as error:
        pytest.fail(str(error))
    try:
        yield server
    finally:
        server.stop()
