"""The data layer on a real PostgreSQL server (DATABASE_URL=postgresql+psycopg2://…).

Uses the local server (127.0.0.1:5432); starts it when it is installed but down.
Every run works in its own throw-away database, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from bench.services import POSTGRES_SERVER, ServiceUnavailable, ensure_postgres
from shop.db import repository
from shop.db.engine import make_engine, session_scope, use_engine
from shop.db.seed import seed

SERVER = POSTGRES_SERVER


@pytest.fixture(scope="module")
def pg_database() -> Iterator[Engine]:
    try:
        ensure_postgres()
    except ServiceUnavailable as error:
        pytest.fail(str(error))
    name = f"cs_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{SERVER}/postgres", future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(f"{SERVER}/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_engine(pg_database: Engine) -> Engine:
    # Installed per test: tests/conftest.py resets the engine before each test.
    use_engine(pg_database)
    return pg_database


def test_seed_and_queries_on_postgres(pg_engine: Engine) -> None:
    counts = seed(now=datetime(2026, 11, 23, 4, 0))
    assert counts == {"products": 23, "customers": 30, "orders": 100}
    assert seed(now=datetime(2026, 11, 23, 4, 0)) == counts  # idempotent
    with session_scope() as session:
        order = repository.orders.find_order(session=session, order_no="dd202611200001")
        assert order is not None and order.customer.phone.endswith("8001")
        assert [p.name for p in repository.catalogue.find_products(
            session=session, brand="格力")] == [
            "格力云佳空调",
            "格力云锦柜机",
        ]
        ticket = repository.tickets.create_ticket(
            session=session, kind="complaint", conversation_id="pg-test",
            summary="投诉：测试", customer_id="C001", now=datetime(2026, 11, 23, 4, 0),
        )
        assert ticket.number.startswith("TK20261123")
        assert ticket.priority == 1


def test_rollback_leaves_nothing_on_postgres(pg_engine: Engine) -> None:
    seed(now=datetime(2026, 11, 23, 4, 0))
    with session_scope() as session:
        before = repository.tickets.count_tickets(session=session)
    with pytest.raises(RuntimeError):
        with session_scope() as session:
            repository.tickets.create_ticket(
                session=session, kind="handoff", conversation_id="pg-x",
                                     summary="s")
            raise RuntimeError("crash after the insert")
    with session_scope() as session:
        assert repository.tickets.count_tickets(session=session) == before
