"""Deadline alerts (四个不漏): warn staff before a ticket's deadline passes.

A check (every `alerts.check_seconds`, in the staff console's process) finds every
unfulfilled deadline due within `alerts.lead_minutes`, marks it alerted in the
database — one conditional UPDATE, so each ticket and deadline is alerted once even
with several processes — logs it and POSTs it as JSON to ALERT_WEBHOOK_URL when set,
retrying with exponential backoff. Deadlines missed while nothing was running are
still alerted (as overdue) for `alerts.late_hours`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional

import requests

from shop import deadlines, knowledge
from shop.config import settings
from shop.db import repository
from shop.db.engine import session_scope
from shop.insights import labels, tickets

logger = logging.getLogger(__name__)


def rules() -> Dict[str, Any]:
    """The `alerts` block of the service commitments."""
    return dict(knowledge.commitments()["alerts"])


@dataclass(frozen=True)
class Alert:
    """One deadline of one ticket that needs attention now."""

    ticket_id: int
    number: str
    kind: str
    commitment: str
    due: datetime
    now: datetime
    priority: int
    tier: str
    assigned_to: Optional[str]
    summary: str

    @property
    def overdue(self) -> bool:
        return self.due <= self.now

    @property
    def minutes(self) -> int:
        """Whole minutes left (or, when overdue, past the deadline)."""
        return int(abs((self.due - self.now).total_seconds()) // 60)

    @property
    def text(self) -> str:
        template = rules()["overdue_text" if self.overdue else "text"]
        return str(template).format(
            ticket=self.number, kind=labels.kind_name(self.kind),
            commitment=labels.commitment_name(self.commitment),
            due=deadlines.format_local(self.due), minutes=self.minutes,
        )

    def payload(self) -> Dict[str, Any]:
        """The JSON body POSTed to the webhook."""
        return {
            "event": "ticket_deadline",
            "text": self.text,
            "ticket": self.number,
            "ticket_id": self.ticket_id,
            "kind": self.kind,
            "kind_name": labels.kind_name(self.kind),
            "commitment": self.commitment,
            "commitment_name": labels.commitment_name(self.commitment),
            "due_at": deadlines.to_local(self.due).isoformat(timespec="seconds"),
            "overdue": self.overdue,
            "minutes_left": -self.minutes if self.overdue else self.minutes,
            "priority": self.priority,
            "tier": self.tier,
            "assigned_to": self.assigned_to,
            "summary": self.summary,
        }


def due_alerts(now: datetime) -> List[Alert]:
    """Unfulfilled, not yet alerted deadlines within the lead time (most urgent first)."""
    config = rules()
    horizon = now + timedelta(minutes=float(config["lead_minutes"]))
    oldest = now - timedelta(hours=float(config["late_hours"]))
    found = []
    for facts in tickets.load_watch(now, oldest, horizon):
        for commitment in labels.COMMITMENTS:
            due = facts.due.get(commitment)
            if due is None or not oldest <= due <= horizon or facts.alerted.get(commitment):
                continue
            if facts.done.get(commitment) is not None:
                continue
            if tickets.commitment_state(facts, commitment, now) not in ("pending", "missed"):
                continue
            found.append(Alert(facts.id, facts.number, facts.kind, commitment, due, now,
                               facts.priority, facts.tier, facts.assigned_to, facts.summary))
    return sorted(found, key=lambda a: (a.due, a.priority, a.ticket_id))


def post(
    url: str, payload: Dict[str, Any], *, attempts: int, backoff: float, timeout: float,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """POSTs JSON; retries server errors, 429 and network failures with doubling pauses.

    A client error (4xx) is not retried: the same request would fail again.
    """
    delay = backoff
    for attempt in range(1, attempts + 1):
        try:
            response = requests.post(url, json=payload, timeout=timeout)
            if 200 <= response.status_code < 300:
                return True
            logger.warning("Alert webhook answered %s (attempt %s/%s)",
                           response.status_code, attempt, attempts)
            if response.status_code < 500 and response.status_code != 429:
                return False
        except requests.RequestException as error:
            logger.warning("Alert webhook unreachable (attempt %s/%s): %s",
                           attempt, attempts, error)
        if attempt < attempts:
            sleep(delay)
            delay *= 2
    return False


def check(
    now: Optional[datetime] = None, url: Optional[str] = None,
    sleep: Callable[[float], None] = time.sleep,
) -> List[Alert]:
    """Raises every alert that is due now; returns those raised by this call."""
    now = now or deadlines.utcnow()
    url = settings.alert_webhook_url if url is None else url
    config = rules()
    raised = []
    for alert in due_alerts(now):
        with session_scope() as session:
            claimed = repository.tickets.claim_alert(session=session, ticket_id=alert.ticket_id,
                                             commitment=alert.commitment, now=now)
        if not claimed:
            continue
        logger.warning("Deadline alert: %s", alert.text)
        raised.append(alert)
        if url and not post(url, alert.payload(), attempts=int(config["attempts"]),
                            backoff=float(config["backoff_seconds"]),
                            timeout=float(config["timeout_seconds"]), sleep=sleep):
            # Marked alerted anyway: the log line stands, and a dead webhook must
            # not turn every check into a storm of retries.
            logger.error("Deadline alert for %s (%s) not delivered to the webhook",
                         alert.number, alert.commitment)
    return raised


async def watch() -> None:
    """Checks for due alerts forever (a background task of the console)."""
    while True:
        try:
            await asyncio.to_thread(check)
        except Exception:
            logger.exception("Deadline alert check failed; retrying")
        await asyncio.sleep(float(rules()["check_seconds"]))
