"""Deadline alerts: raised once, before the deadline, POSTed to a webhook (a local
threaded HTTP server) and retried with backoff when it fails."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List

import pytest
from conftest import NOW

from shop.db import repository
from shop.db.engine import session_scope
from shop.insights import alerts

# A handoff opened at NOW (12:00 in Shanghai) must be answered by 21:00 = 13:00 UTC.
DUE = datetime(2026, 11, 23, 13, 0)
LEAD = timedelta(minutes=alerts.rules()["lead_minutes"])


class Hook:
    """A local webhook: records JSON bodies, fails the first `failures` requests."""

    def __init__(self) -> None:
        self.bodies: List[Dict[str, Any]] = []
        self.failures = 0
        self.status = 500
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", 0))
                hook.bodies.append(json.loads(self.rfile.read(length).decode("utf-8")))
                failing = hook.failures > 0
                hook.failures -= 1
                self.send_response(hook.status if failing else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
    server.thread.join(timeout=5)


@pytest.fixture
def pauses() -> List[float]:
    return []


def open_ticket(kind: str = "handoff", created: datetime = NOW, customer: str = "C001") -> int:
    with session_scope() as session:
        return repository.tickets.create_ticket(
            session=session, kind=kind, conversation_id="conv-a",
                                        summary="原因：客户要求转人工", customer_id=customer,
                                        now=created).id


def check(at: datetime, url: str, pauses: List[float]) -> List[alerts.Alert]:
    return alerts.check(now=at, url=url, sleep=pauses.append)


def test_alert_is_sent_once_before_the_deadline(db, hook, pauses, caplog):
    ticket_id = open_ticket()
    # More than the lead time before the deadline: nothing yet.
    assert check(DUE - LEAD - timedelta(minutes=1), hook.url, pauses) == []
    assert hook.bodies == []
    caplog.set_level(logging.WARNING, logger="shop.insights.alerts")
    [alert] = check(DUE - LEAD + timedelta(minutes=1), hook.url, pauses)
    assert (alert.ticket_id, alert.commitment, alert.overdue) == (ticket_id, "respond", False)
    [body] = hook.bodies
    assert body["event"] == "ticket_deadline"
    assert body["commitment"] == "respond" and body["kind"] == "handoff"
    assert body["kind_name"] == "人工服务" and body["commitment_name"].startswith("首次响应")
    assert body["due_at"] == "2026-11-23T21:00:00+08:00"
    assert body["minutes_left"] == 59 and body["overdue"] is False
    assert body["tier"] == "A" and body["priority"] == 1
    assert "还剩 59 分钟" in body["text"] and body["ticket"] in body["text"]
    assert body["ticket"] in caplog.text  # logged as well
    # The conversation id opens nothing by itself any more, but it stays in the console:
    # the webhook (a chat group, a pager) gets the ticket number only.
    assert "conv-a" not in str(body) and "conv-a" not in caplog.text
    assert pauses == []
    # Alerted once: later checks, even past the deadline, send nothing more.
    assert check(DUE - timedelta(minutes=5), hook.url, pauses) == []
    assert check(DUE + timedelta(minutes=30), hook.url, pauses) == []
    assert len(hook.bodies) == 1
    with session_scope() as session:
        stored = repository.tickets.get_ticket(session=session, ticket_id=ticket_id)
        assert stored.respond_alerted_at == DUE - LEAD + timedelta(minutes=1)
        assert stored.resolve_alerted_at is None


def test_failed_delivery_is_retried_with_backoff(db, hook, pauses):
    open_ticket()
    hook.failures = 2
    [alert] = check(DUE - timedelta(minutes=30), hook.url, pauses)
    assert len(hook.bodies) == 3  # two 500s, then delivered
    assert hook.bodies[0] == hook.bodies[2] == alert.payload()
    first = alerts.rules()["backoff_seconds"]
    assert pauses == [first, first * 2]
    assert check(DUE - timedelta(minutes=20), hook.url, pauses) == []
    assert len(hook.bodies) == 3


def test_a_dead_webhook_is_given_up_after_the_attempts(db, hook, pauses, caplog):
    open_ticket()
    hook.failures = 100
    caplog.set_level(logging.ERROR, logger="shop.insights.alerts")
    assert len(check(DUE - timedelta(minutes=30), hook.url, pauses)) == 1
    attempts = alerts.rules()["attempts"]
    assert len(hook.bodies) == attempts and len(pauses) == attempts - 1
    assert "not delivered" in caplog.text
    # Still counted as alerted: no storm of retries on every check.
    assert check(DUE - timedelta(minutes=10), hook.url, pauses) == []
    assert len(hook.bodies) == attempts


def test_a_client_error_is_not_retried(db, hook, pauses):
    open_ticket()
    hook.failures, hook.status = 1, 404
    check(DUE - timedelta(minutes=30), hook.url, pauses)
    assert len(hook.bodies) == 1 and pauses == []


def test_unreachable_webhook_is_retried(db, pauses):
    open_ticket()
    closed = "http://127.0.0.1:9/alerts"  # discard port: connection refused
    assert len(check(DUE - timedelta(minutes=30), closed, pauses)) == 1
    assert len(pauses) == alerts.rules()["attempts"] - 1


def test_without_a_webhook_the_alert_is_only_logged(db, caplog):
    open_ticket()
    caplog.set_level(logging.WARNING, logger="shop.insights.alerts")
    [alert] = alerts.check(now=DUE - timedelta(minutes=30), url="")
    assert "Deadline alert" in caplog.text and alert.number in caplog.text
    assert alerts.check(now=DUE - timedelta(minutes=29), url="") == []


def test_fulfilled_deadlines_are_not_alerted(db, hook, pauses):
    ticket_id = open_ticket()
    with session_scope() as session:
        record = repository.tickets.get_ticket(session=session, ticket_id=ticket_id)
        repository.tickets.set_ticket_status(session=session, ticket=record, status="in_progress",
                                     staff="王客服", now=NOW + timedelta(minutes=5))
    assert check(DUE - timedelta(minutes=30), hook.url, pauses) == []
    assert hook.bodies == []


def test_each_deadline_of_a_complaint_is_alerted_in_turn(db, hook, pauses):
    created = NOW - timedelta(hours=71, minutes=30)  # resolution due in 30 minutes
    ticket_id = open_ticket("complaint", created)
    with session_scope() as session:
        record = repository.tickets.get_ticket(session=session, ticket_id=ticket_id)
        repository.tickets.set_ticket_status(session=session, ticket=record, status="in_progress",
                                     staff="王客服", now=created + timedelta(hours=1))
    [alert] = check(NOW, hook.url, pauses)
    assert (alert.commitment, hook.bodies[0]["minutes_left"]) == ("resolve", 30)
    # Handled late; the return call is due 48 h after the resolution deadline.
    with session_scope() as session:
        record = repository.tickets.get_ticket(session=session, ticket_id=ticket_id)
        repository.tickets.set_ticket_status(session=session, ticket=record, status="closed",
                                     now=NOW + timedelta(hours=1))
    callback_due = created + timedelta(hours=72 + 48)
    [alert] = check(callback_due - timedelta(minutes=10), hook.url, pauses)
    assert alert.commitment == "callback"
    assert [b["commitment"] for b in hook.bodies] == ["resolve", "callback"]


def test_a_missed_deadline_is_alerted_late_once_but_not_after_late_hours(db, hook, pauses):
    open_ticket()  # due 13:00 UTC; the server was down until 14:00
    [alert] = check(DUE + timedelta(hours=1), hook.url, pauses)
    assert alert.overdue and hook.bodies[0]["minutes_left"] == -60
    assert "超时 60 分钟" in hook.bodies[0]["text"]
    old = open_ticket(created=NOW - timedelta(days=3))
    late = timedelta(hours=alerts.rules()["late_hours"])
    assert [a.ticket_id for a in check(DUE + timedelta(hours=2), hook.url, pauses)] == []
    assert old  # its deadline passed more than `late_hours` ago: report only
    assert late < timedelta(days=2)


def test_two_checkers_never_alert_the_same_deadline_twice(db):
    ticket_id = open_ticket()
    with session_scope() as session:
        assert repository.tickets.claim_alert(session=session, ticket_id=ticket_id,
                                      commitment="respond", now=NOW)
    with session_scope() as session:
        assert not repository.tickets.claim_alert(session=session, ticket_id=ticket_id,
                                          commitment="respond", now=NOW)
