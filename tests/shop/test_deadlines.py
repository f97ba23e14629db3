"""Deadlines, staff hours and priorities (pure functions over the commitments)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from shop import deadlines, knowledge

SHANGHAI = timedelta(hours=8)


def utc(local: datetime) -> datetime:
    """Naive UTC of a naive Shanghai wall-clock time."""
    return local - SHANGHAI


@pytest.mark.parametrize(
    "local, available",
    [
        (datetime(2026, 11, 23, 8, 59), False),
        (datetime(2026, 11, 23, 9, 0), True),
        (datetime(2026, 11, 23, 12, 0), True),
        (datetime(2026, 11, 23, 20, 59), True),
        (datetime(2026, 11, 23, 21, 0), False),
        (datetime(2026, 11, 23, 23, 30), False),
        (datetime(2026, 11, 24, 0, 30), False),
        (datetime(2026, 11, 29, 10, 0), True),  # Sunday: staff work every day
        (datetime(2027, 1, 1, 15, 0), True),
    ],
)
def test_staff_available(local, available):
    assert deadlines.staff_available(utc(local)) is available


def test_staff_available_uses_local_time_not_utc():
    # 02:00 UTC is 10:00 in Shanghai: open; 14:00 UTC is 22:00: closed.
    assert deadlines.staff_available(datetime(2026, 11, 23, 2, 0)) is True
    assert deadlines.staff_available(datetime(2026, 11, 23, 14, 0)) is False


def test_staff_available_respects_working_days():
    commitments = {**knowledge.commitments()}
    commitments["staff_hours"] = {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}
    saturday_noon = utc(datetime(2026, 11, 28, 12, 0))
    monday_noon = utc(datetime(2026, 11, 23, 12, 0))
    assert deadlines.staff_available(saturday_noon, commitments) is False
    assert deadlines.staff_available(monday_noon, commitments) is True
    assert deadlines.staff_available(utc(datetime(2026, 11, 23, 18, 0)), commitments) is False


@pytest.mark.parametrize(
    "local_created, local_due",
    [
        (datetime(2026, 11, 23, 0, 0), datetime(2026, 11, 23, 21, 0)),
        (datetime(2026, 11, 23, 7, 59), datetime(2026, 11, 23, 21, 0)),  # 23:59 UTC the day before
        (datetime(2026, 11, 23, 8, 0), datetime(2026, 11, 23, 21, 0)),
        (datetime(2026, 11, 23, 20, 59), datetime(2026, 11, 23, 21, 0)),
        (datetime(2026, 11, 23, 21, 0), datetime(2026, 11, 24, 21, 0)),
        (datetime(2026, 11, 23, 23, 59), datetime(2026, 11, 24, 21, 0)),
        (datetime(2026, 11, 30, 22, 0), datetime(2026, 12, 1, 21, 0)),
        (datetime(2026, 12, 31, 21, 30), datetime(2027, 1, 1, 21, 0)),
    ],
)
def test_sunset_deadline(local_created, local_due):
    due = deadlines.sunset_deadline(utc(local_created))
    assert due == utc(local_due)
    assert due.tzinfo is None  # stored as naive UTC


@pytest.mark.parametrize(
    "sunset, local_created, local_due",
    [
        ("18:00", datetime(2026, 11, 23, 17, 59), datetime(2026, 11, 23, 18, 0)),
        ("18:00", datetime(2026, 11, 23, 18, 0), datetime(2026, 11, 24, 18, 0)),
    ],
)
def test_sunset_deadline_follows_commitments(sunset, local_created, local_due):
    commitments = {**knowledge.commitments(), "sunset": sunset}
    assert deadlines.sunset_deadline(utc(local_created), commitments) == utc(local_due)


@pytest.mark.parametrize(
    "kind, resolve, callback",
    [
        ("complaint", timedelta(hours=72), timedelta(hours=72 + 48)),
        ("repair", timedelta(hours=72), timedelta(hours=72 + 48)),
        ("return", timedelta(hours=48), None),
        ("handoff", None, None),
    ],
)
def test_ticket_deadlines(kind, resolve, callback):
    created = utc(datetime(2026, 11, 23, 22, 15))
    due = deadlines.ticket_deadlines(kind, created)
    assert due.respond == utc(datetime(2026, 11, 24, 21, 0))
    assert due.resolve == (created + resolve if resolve else None)
    assert due.callback == (created + callback if callback else None)


def test_ticket_deadlines_unknown_kind_fails_loudly():
    with pytest.raises(KeyError):
        deadlines.ticket_deadlines("gift", datetime(2026, 11, 23))


@pytest.mark.parametrize(
    "tier, priority",
    [("A", 1), ("B", 2), ("C", 3), ("D", 4), (None, 3), ("", 3), ("Z", 3)],
)
def test_priority_for_tier(tier, priority):
    assert deadlines.priority_for_tier(tier) == priority


def test_priority_orders_tiers():
    ranked = sorted("DCBA", key=deadlines.priority_for_tier)
    assert ranked == ["A", "B", "C", "D"]


@pytest.mark.parametrize(
    "moment, shown",
    [
        (datetime(2026, 11, 23, 13, 0), "11月23日 21:00"),
        (datetime(2026, 11, 23, 16, 5), "11月24日 00:05"),
        (datetime(2026, 1, 1, 1, 7), "1月1日 09:07"),
        (None, ""),
    ],
)
def test_format_local(moment, shown):
    assert deadlines.format_local(moment) == shown


def test_to_local_is_shanghai():
    local = deadlines.to_local(datetime(2026, 11, 23, 16, 0))
    assert (local.day, local.hour, local.utcoffset()) == (24, 0, SHANGHAI)


def test_utcnow_is_naive_utc():
    now = deadlines.utcnow()
    assert now.tzinfo is None
    assert abs(now - datetime.utcnow()) < timedelta(seconds=5)
