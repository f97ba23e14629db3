"""`make backup` / `make restore`: every conversation, ticket and rating comes back,
on SQLite (online backup API) and on PostgreSQL (pg_dump / pg_restore)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
from conftest import DOMAIN_PATH, NOW
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.services import POSTGRES_SERVER, ServiceUnavailable, ensure_postgres
from shop.db import backup, repository
from shop.db.engine import make_engine, use_engine
from shop.db.models import Rating, Ticket
from shop.db.seed import seed

SENDERS = ["web-1", "wechat:o6_abc", "rest-客户3"]


def fill_records(url: str) -> None:
    engine = make_engine(url)
    use_engine(engine)  # tests/conftest.py puts the test's own engine back afterwards
    seed(NOW)
    with Session(engine) as session:
        for sender in SENDERS:
            repository.tickets.create_ticket(
                session=session, kind="complaint", conversation_id=sender,
                                     summary=f"投诉 {sender}", now=NOW)
            repository.ratings.add_rating(session=session, conversation_id=sender, expected=4,
                                  perceived=5, now=NOW)
        session.commit()
    engine.dispose()


def fill_tracker(url: str, dialect: str, **where: str) -> None:
    domain = Domain.load(str(DOMAIN_PATH))
    store = SQLTrackerStore(domain=domain, dialect=dialect, **where)
    for sender in SENDERS:
        events = [ActionExecuted("action_listen"), UserUttered("你好", {"name": "greet"}),
                  ActionExecuted("utter_greet")]
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events, domain.slots)))
    store.engine.dispose()


def what_is_there(urls: Dict[str, str]) -> Dict[str, List]:
    records = create_engine(urls["records"], future=True)
    tracker = create_engine(urls["tracker"], future=True)
    with Session(records) as session:
        tickets = sorted(t.conversation_id for t in session.query(Ticket))
        ratings = sorted((r.conversation_id, r.expected, r.perceived)
                         for r in session.query(Rating))
    with tracker.connect() as connection:
        senders = sorted(connection.execute(text("SELECT DISTINCT sender_id FROM events"))
                         .scalars())
    records.dispose()
    tracker.dispose()
    return {"tickets": tickets, "ratings": ratings, "conversations": senders}


def filled_sqlite(folder: Path) -> Dict[str, str]:
    """Records and a tracker store with the three conversations, as SQLite files."""
    urls = {"records": f"sqlite:///{folder / 'shop.db'}",
            "tracker": f"sqlite:///{folder / 'tracker.db'}"}
    fill_records(urls["records"])
    fill_tracker(urls["tracker"], "sqlite", db=str(folder / "tracker.db"))
    return urls


def test_sqlite_backup_restores_into_empty_databases(tmp_path: Path) -> None:
    source = filled_sqlite(tmp_path)
    folder = backup.backup(tmp_path / "backups", urls=source)
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json", "records.sqlite3", "tracker.sqlite3"]
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no leftovers

    empty = {"records": f"sqlite:///{tmp_path / 'new' / 'shop.db'}",
             "tracker": f"sqlite:///{tmp_path / 'new' / 'tracker.db'}"}
    found = backup.restore(folder, urls=empty)
    assert found["records"]["tickets"] >= 3 and found["tracker"]["conversations"] == 3
    assert what_is_there(empty) == what_is_there(source)
    restored = what_is_there(empty)
    assert set(SENDERS) <= set(restored["tickets"]) and restored["conversations"] == sorted(
        SENDERS)
    assert [r for r in restored["ratings"] if r[0] in SENDERS] == sorted(
        (s, 4, 5) for s in SENDERS)


def test_a_restore_never_overwrites_data_unless_forced(tmp_path: Path) -> None:
    urls = filled_sqlite(tmp_path)
    folder = backup.backup(tmp_path / "backups", urls=urls)
    with pytest.raises(backup.BackupError, match="已有数据"):
        backup.restore(folder, urls=urls)
    with sqlite3.connect(tmp_path / "shop.db") as connection:
        connection.execute("DELETE FROM ratings")
    backup.restore(folder, urls=urls, force=True)
    assert len(what_is_there(urls)["ratings"]) >= 3


def test_the_cli_answers_in_chinese(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert backup.main(["restore", str(tmp_path / "nothing")]) == 1
    assert "不是一个完整的备份目录" in capsys.readouterr().err


@pytest.fixture
def pg_databases() -> Iterator[List[str]]:
    try:
        ensure_postgres()
    except ServiceUnavailable as error:
        pytest.fail(str(error))
    names = [f"cs_backup_{os.getpid()}_{uuid.uuid4().hex[:6]}_{n}" for n in range(4)]
    admin = create_engine(f"{POSTGRES_SERVER}/postgres", future=True,
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield names
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_postgres_backup_restores_into_empty_databases(pg_databases: List[str],
                                                      tmp_path: Path) -> None:
    source = {"records": f"{POSTGRES_SERVER}/{pg_databases[0]}",
              "tracker": f"{POSTGRES_SERVER}/{pg_databases[1]}"}
    fill_records(source["records"])
    server = POSTGRES_SERVER.split("://", 1)[1]  # user@host:port
    user, _, address = server.rpartition("@")
    host, _, port = address.partition(":")
    fill_tracker(source["tracker"], "postgresql", host=host, port=int(port or 5432),
                 db=pg_databases[1], username=user or None)
    folder = backup.backup(tmp_path / "backups", urls=source)
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json", "records.dump", "tracker.dump"]
    empty = {"records": f"{POSTGRES_SERVER}/{pg_databases[2]}",
             "tracker": f"{POSTGRES_SERVER}/{pg_databases[3]}"}
    backup.restore(folder, urls=empty)
    assert what_is_there(empty) == what_is_there(source)
    assert what_is_there(empty)["conversations"] == sorted(SENDERS)


def test_a_database_not_created_yet_is_noted_not_fatal(tmp_path: Path) -> None:
    urls = {"records": f"sqlite:///{tmp_path / 'shop.db'}",
            "tracker": f"sqlite:///{tmp_path / 'no-conversations-yet.db'}"}
    fill_records(urls["records"])
    folder = backup.backup(tmp_path / "backups", urls=urls)
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "records.sqlite3"]
    empty = {"records": f"sqlite:///{tmp_path / 'new.db'}",
             "tracker": f"sqlite:///{tmp_path / 'new-tracker.db'}"}
    assert set(backup.restore(folder, urls=empty)) == {"records"}
    assert not (tmp_path / "new-tracker.db").exists()
