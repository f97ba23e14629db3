"""Satisfaction index C = perceived / expected (playbook §3): by channel, ISO week and
human involvement, and its distribution — a mean alone hides the disappointed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from statistics import mean, median
from typing import Any, Callable, Dict, List, Optional

from shop.db import repository
from shop.db.engine import session_scope
from shop.insights import labels
from shop.insights.period import Period, iso_week
from shop.insights.tables import Table


@dataclass(frozen=True)
class RatingFacts:
    expected: int
    perceived: int
    channel: str
    human_involved: bool
    created_at: datetime

    @property
    def index(self) -> Fraction:
        """C = perceived / expected, exact (so C = 1 is really 1)."""
        return Fraction(self.perceived, self.expected)


def load_ratings(period: Period) -> List[RatingFacts]:
    """Ratings given in the period."""
    with session_scope() as session:
        return [
            RatingFacts(r.expected, r.perceived, r.channel, bool(r.human_involved), r.created_at)
            for r in repository.ratings.ratings_between(session=session, start=period.start,
                                                end=period.end)
            if r.expected
        ]


def summary(ratings: List[RatingFacts]) -> Dict[str, Any]:
    """Count, mean and median C, share with C ≥ the satisfied threshold, mean gap."""
    if not ratings:
        return {"ratings": 0, "mean_c": None, "median_c": None, "satisfied_share": None,
                "mean_gap": None}
    threshold = Fraction(str(labels.reports()["satisfaction"]["satisfied_at"]))
    indexes = [r.index for r in ratings]
    return {
        "ratings": len(ratings),
        "mean_c": round(float(mean(indexes)), 3),
        "median_c": round(float(median(indexes)), 3),
        "satisfied_share": round(sum(1 for c in indexes if c >= threshold) / len(ratings), 3),
        "mean_gap": round(float(mean(r.perceived - r.expected for r in ratings)), 3),
    }


def _grouped(
    name: str, ratings: List[RatingFacts], key: Callable[[RatingFacts], str],
    label: Callable[[str], str], order: Optional[List[str]] = None,
) -> Table:
    groups: Dict[str, List[RatingFacts]] = defaultdict(list)
    for rating in ratings:
        groups[key(rating)].append(rating)
    keys = [k for k in (order or []) if k in groups] + sorted(k for k in groups
                                                             if k not in (order or []))
    rows = [{"group": label(k), **summary(groups[k])} for k in keys]
    return Table(name, ["group", "ratings", "mean_c", "median_c", "satisfied_share",
                        "mean_gap"], rows)


def bucket_of(index: Fraction) -> str:
    """The distribution bucket label of one C value."""
    buckets = labels.reports()["satisfaction"]["buckets"]
    for bucket in buckets[:-1]:
        upper = Fraction(str(bucket["upper"]))
        if index < upper or (bucket.get("inclusive") and index == upper):
            return str(bucket["label"])
    return str(buckets[-1]["label"])


def distribution_table(ratings: List[RatingFacts]) -> Table:
    """How many ratings fall in each C bucket (every bucket listed, empty ones too)."""
    counts: Dict[str, int] = defaultdict(int)
    for rating in ratings:
        counts[bucket_of(rating.index)] += 1
    rows = [
        {"bucket": b["label"], "ratings": counts[b["label"]],
         "share": round(counts[b["label"]] / len(ratings), 3) if ratings else None}
        for b in labels.reports()["satisfaction"]["buckets"]
    ]
    return Table("satisfaction_distribution", ["bucket", "ratings", "share"], rows)


def satisfaction_tables(ratings: List[RatingFacts], period: Period) -> List[Table]:
    """By channel, by ISO week, by human involvement, and the distribution."""
    names = labels.reports()["satisfaction"]
    return [
        _grouped("satisfaction_by_channel", ratings, lambda r: r.channel,
                 lambda k: str(names["channels"].get(k, k)), list(names["channels"])),
        _grouped("satisfaction_by_week", ratings, lambda r: iso_week(r.created_at),
                 lambda k: k, period.weeks()),
        _grouped("satisfaction_by_human", ratings, lambda r: str(int(r.human_involved)),
                 lambda k: str(names["human"][k]), ["0", "1"]),
        distribution_table(ratings),
    ]
