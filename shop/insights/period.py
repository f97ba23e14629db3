"""The reporting period: whole days in the shop's timezone, stored as naive UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import List, Optional

from shop import deadlines
from shop.insights import labels


@dataclass(frozen=True)
class Period:
    """From the first day `since` to the last day `until`, both included (local)."""

    since: date
    until: date

    def _utc(self, day: date) -> datetime:
        local = datetime.combine(day, time(0), deadlines.shop_zone())
        return local.astimezone(timezone.utc).replace(tzinfo=None)

    @property
    def start(self) -> datetime:
        """Naive UTC start (inclusive)."""
        return self._utc(self.since)

    @property
    def end(self) -> datetime:
        """Naive UTC end (exclusive): midnight after the last day."""
        return self._utc(self.until + timedelta(days=1))

    def days(self) -> List[date]:
        """Every day of the period."""
        return [self.since + timedelta(days=n) for n in range((self.until - self.since).days + 1)]

    def weeks(self) -> List[str]:
        """Every ISO week the period touches (2026-W48)."""
        return sorted({week_of_day(day) for day in self.days()})

    def label(self) -> str:
        """2026-11-17 至 2026-11-23."""
        return f"{self.since.isoformat()} 至 {self.until.isoformat()}"


def local_day(moment: datetime) -> date:
    """The shop-local day of a naive-UTC moment."""
    return deadlines.to_local(moment).date()


def week_of_day(day: date) -> str:
    """The ISO week of a day as 2026-W48."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def iso_week(moment: datetime) -> str:
    """The ISO week (shop-local) of a naive-UTC moment."""
    return week_of_day(local_day(moment))


def _parse(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} 日期格式应为 YYYY-MM-DD（收到 {value!r}）") from None


def make_period(
    since: Optional[str] = None, until: Optional[str] = None, now: Optional[datetime] = None
) -> Period:
    """The period from ISO dates; missing ones default to the last N days up to today.

    Raises ValueError (with a Chinese message) for bad dates or a reversed period.
    """
    today = local_day(now or deadlines.utcnow())
    last = _parse(until, "until") if until else today
    days = int(labels.reports()["default_days"])
    first = _parse(since, "since") if since else last - timedelta(days=days - 1)
    if first > last:
        raise ValueError("开始日期不能晚于结束日期")
    if (last - first).days > 366:
        raise ValueError("统计区间最长一年")
    return Period(first, last)
