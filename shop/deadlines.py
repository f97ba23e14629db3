"""Ticket deadlines and staff hours from the service commitments (pure functions).

Times are stored as naive UTC in the database and shown in the shop's timezone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any, Dict, Optional
from zoneinfo import ZoneInfo

from shop import knowledge


@dataclass(frozen=True)
class Deadlines:
    """When a ticket must get a response, a resolution and a return call (UTC)."""

    respond: datetime
    resolve: Optional[datetime]
    callback: Optional[datetime]


def utcnow() -> datetime:
    """Naive UTC now, the form stored in the database."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def from_timestamp(timestamp: float) -> datetime:
    """A Unix timestamp (as in Rasa events) as naive UTC."""
    return datetime.fromtimestamp(timestamp, timezone.utc).replace(tzinfo=None)


def shop_zone(commitments: Optional[Dict[str, Any]] = None) -> ZoneInfo:
    """The shop's timezone."""
    return ZoneInfo((commitments or knowledge.commitments())["timezone"])


def to_local(moment: datetime, commitments: Optional[Dict[str, Any]] = None) -> datetime:
    """Converts a naive-UTC database time to the shop's local time."""
    return moment.replace(tzinfo=timezone.utc).astimezone(shop_zone(commitments))


def _to_utc(local: datetime) -> datetime:
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def sunset_deadline(created: datetime, commitments: Optional[Dict[str, Any]] = None) -> datetime:
    """Sunset rule: today's cut-off, or tomorrow's when the contact came after it."""
    commitments = commitments or knowledge.commitments()
    local = to_local(created, commitments)
    cutoff = datetime.combine(local.date(), _clock(commitments["sunset"]), local.tzinfo)
    if local >= cutoff:
        cutoff += timedelta(days=1)
    return _to_utc(cutoff)


def ticket_deadlines(
    kind: str, created: datetime, commitments: Optional[Dict[str, Any]] = None
) -> Deadlines:
    """Deadlines of a new ticket of `kind` created at `created` (naive UTC)."""
    commitments = commitments or knowledge.commitments()
    rules = commitments["tickets"][kind]
    respond = sunset_deadline(created, commitments)
    resolve = (
        created + timedelta(hours=rules["resolve_hours"]) if "resolve_hours" in rules else None
    )
    callback = (
        resolve + timedelta(hours=rules["callback_hours"])
        if resolve is not None and "callback_hours" in rules
        else None
    )
    return Deadlines(respond=respond, resolve=resolve, callback=callback)


def priority_for_tier(tier: Optional[str], commitments: Optional[Dict[str, Any]] = None) -> int:
    """Queue priority from the customer tier (A first)."""
    commitments = commitments or knowledge.commitments()
    return int(commitments["tier_priority"].get(tier or "", commitments["default_priority"]))


def staff_available(moment: datetime, commitments: Optional[Dict[str, Any]] = None) -> bool:
    """Whether human staff work at `moment` (naive UTC)."""
    commitments = commitments or knowledge.commitments()
    hours = commitments["staff_hours"]
    local = to_local(moment, commitments)
    if local.isoweekday() not in hours["days"]:
        return False
    return _clock(hours["start"]) <= local.time() < _clock(hours["end"])


def format_local(moment: Optional[datetime], commitments: Optional[Dict[str, Any]] = None) -> str:
    """`11月23日 21:00` in the shop's timezone; empty for None."""
    if moment is None:
        return ""
    local = to_local(moment, commitments)
    return f"{local.month}月{local.day}日 {local:%H:%M}"
