"""Delivery by place: the place names customers write (`knowledge/places.yml`), found in
a message, and what the shop commits to for each (`knowledge/shipping.yml`).

到武汉大概多少天 had the general delivery answer; 杭州 alone, after it, was out of scope.
Here a place is one of China's provinces or prefecture-level places (杭州, 甘孜, 新疆),
or a place abroad the shop names, and its tier (standard, remote, not served) decides
the reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Optional

from shop import knowledge

STANDARD = "standard"
# Suffixes a customer may write after a short name (杭州市, 新疆维吾尔自治区 is listed whole).
FULL_FORMS = ("市", "省", "地区", "州", "盟")


@dataclass(frozen=True)
class Mention:
    """A place found in a text: its canonical name and where it was written."""

    name: str
    start: int
    end: int


def _rules() -> Dict:
    return knowledge.load("shipping")


@lru_cache(maxsize=1)
def provinces() -> Dict[str, str]:
    """Canonical place name → its province's short name (杭州 → 浙江, 浙江 → 浙江)."""
    table: Dict[str, str] = {}
    for province, entry in knowledge.load("places")["provinces"].items():
        table[province] = province
        for place in entry.get("places") or []:
            table.setdefault(place, province)
    return table


@lru_cache(maxsize=1)
def surfaces() -> Dict[str, str]:
    """Every written form → canonical name: 杭州 and 杭州市 → 杭州, 浙江省 → 浙江,
    新疆维吾尔自治区 → 新疆, 美国 → 美国; an ambiguous short name only in its full form."""
    ambiguous = set(_rules().get("ambiguous") or [])
    table: Dict[str, str] = {}
    for province, entry in knowledge.load("places")["provinces"].items():
        table[entry["full"]] = province
    for name in provinces():
        for suffix in FULL_FORMS:
            table.setdefault(name + suffix, name)
        if name not in ambiguous:
            table[name] = name
    for name in _rules()["tiers"]["not_served"].get("places") or []:
        table[name] = name
    return table


@lru_cache(maxsize=1)
def _longest_surface() -> int:
    return max(map(len, surfaces()), default=0)


def find(text: str, table: Optional[Dict[str, str]] = None,
         longest: Optional[int] = None) -> List[Mention]:
    """The places in `text`, left to right, the longest form at each position
    (黑龙江省 before 黑龙江; 大兴安岭 before 兴安), not overlapping. `longest`: the
    table's longest form, if the caller knows it (measuring it is most of the cost)."""
    if table is None:
        table, longest = surfaces(), _longest_surface()
    if longest is None:
        longest = max(map(len, table), default=0)
    found: List[Mention] = []
    position = 0
    while position < len(text):
        for size in range(min(longest, len(text) - position), 1, -1):
            name = table.get(text[position:position + size])
            if name:
                found.append(Mention(name, position, position + size))
                position += size
                break
        else:
            position += 1
    return found


def mentions(entities: List[Dict]) -> List[Mention]:
    """The `place` entities of a parsed message (Rasa's entity dicts), in order."""
    return [
        Mention(str(e["value"]), int(e["start"]), int(e["end"]))
        for e in entities
        if e.get("entity") == "place" and e.get("value") and "start" in e and "end" in e
    ]


def as_written(text: str, mention: Mention) -> str:
    """The place as the customer wrote it (杭州市, not 杭州), else its canonical name."""
    written = text[mention.start:mention.end]
    return written if surfaces().get(written) == mention.name else mention.name


def most_specific(mentions: List[Mention], text: str = "") -> Mention:
    """The place a message means: where the parcel goes (从杭州寄到南京 → 南京), else a
    city over its province (西藏拉萨 → 拉萨), else the first named."""
    markers = tuple(str(m) for m in _rules().get("destination_markers") or [])
    destinations: List[Mention] = []
    for mention in mentions:  # after a marker, or right after such a place (到新疆乌鲁木齐)
        if (markers and text[:mention.start].endswith(markers)) or (
                destinations and destinations[-1].end == mention.start):
            destinations.append(mention)
    if destinations:
        mentions = destinations
    table = provinces()
    return next((m for m in mentions if table.get(m.name) not in (None, m.name)), mentions[0])


def tier(place: str) -> str:
    """The tier of a canonical place name: the tier its province (or itself) is in."""
    province = provinces().get(place)
    for name, entry in _rules()["tiers"].items():
        if province in (entry.get("provinces") or []) or place in (entry.get("places") or []):
            return name
    return STANDARD


def reply(place: str, fee_only: bool = False) -> str:
    """What the shop says about delivering to `place` (the name as the customer wrote it
    or its canonical form): time and fee, or the fee alone."""
    canonical = surfaces().get(place, place)
    entry = _rules()["tiers"][tier(canonical)]
    return str(entry["fee_reply" if fee_only else "reply"]).format(place=place)


def named_alone(text: str, mentions: List[Mention]) -> bool:
    """Whether `text` is only places and words around a place (发杭州, 新疆那边呢,
    我在上海, 西藏拉萨): then it asks the delivery question for that place."""
    if not mentions:
        return False
    rest = text
    for mention in sorted(mentions, key=lambda m: m.start, reverse=True):
        rest = rest[:mention.start] + " " + rest[mention.end:]
    for word in sorted(_rules().get("alone_words") or [], key=len, reverse=True):
        rest = rest.replace(word, "")
    return not rest.strip(" ?？!！。，,~～")
