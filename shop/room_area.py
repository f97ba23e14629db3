"""Which products suit a room of the size the customer names (15平米, 20平的房间).

The sizes a product suits are the catalogue's own `area` attribute (适用面积 of an air
conditioner, "15-20平方米"); nothing here knows a product or a category by name.
"""

from __future__ import annotations

import re
from typing import List, Optional, Sequence, Tuple

from shop.db.models import Product
from shop.product_facts import attribute, attribute_value

# "15平米", "20平的", "18个平方", "25㎡": a number and a unit of area. Not "15平" inside a
# longer word the customer did not mean as a size (平板, 平安, 平时, 平价).
_STATED = re.compile(
    r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s*(?:个)?\s*(?:平方米|平方|平米|㎡|m²|m2|平(?![板安时价台常稳衡均]))",
    re.IGNORECASE)
# "15-20平方米", "10～15平方米", "30到45平方米"
_RANGE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:-|~|～|—|到|至)\s*(\d+(?:\.\d+)?)")
# A room named without a size still asks which size suits it.
ROOM_WORDS = ("卧室", "主卧", "次卧", "客厅", "书房", "房间", "儿童房", "餐厅", "办公室")

AREA_ATTRIBUTE = "area"


def stated_match(text: str) -> Optional[Tuple[float, int, int]]:
    """(square metres, start, end) of the room size the message names (1–500), if any."""
    match = _STATED.search(text or "")
    if match is None:
        return None
    value = float(match.group(1))
    return (value, match.start(), match.end()) if 1 <= value <= 500 else None


def stated_area(text: str) -> Optional[float]:
    """The room size in square metres the message names, if any (1–500)."""
    match = stated_match(text)
    return match[0] if match else None


def mentions_room(text: str) -> bool:
    return stated_area(text) is not None or any(word in (text or "") for word in ROOM_WORDS)


def suited_range(product: Product) -> Optional[Tuple[float, float]]:
    """(smallest, largest) room this product suits, from the catalogue; None if unsaid."""
    wanted = attribute(AREA_ATTRIBUTE)
    value = attribute_value(wanted, product) if wanted else None
    match = _RANGE.search(value or "")
    if match is None:
        return None
    low, high = sorted((float(match.group(1)), float(match.group(2))))
    return low, high


def suited_text(product: Product) -> Optional[str]:
    """"适用面积15-20平方米" as the catalogue writes it, for a candidate list."""
    wanted = attribute(AREA_ATTRIBUTE)
    value = attribute_value(wanted, product) if wanted else None
    return f"{wanted.name}{value}" if wanted and value else None


def _distance(product: Product, area: float) -> float:
    """0 inside the product's range, else how many square metres outside it."""
    suited = suited_range(product)
    if suited is None:
        return float("inf")
    low, high = suited
    return max(low - area, 0.0, area - high)


def for_area(products: Sequence[Product], area: float) -> Tuple[List[Product], bool]:
    """The products that suit `area` and True; if none does, the nearest ones and False.
    Products the catalogue gives no size for are left out; none at all → ([], False)."""
    sized = [p for p in products if suited_range(p) is not None]
    fitting = [p for p in sized if _distance(p, area) == 0]
    if fitting:
        return fitting, True
    if not sized:
        return [], False
    nearest = min(_distance(p, area) for p in sized)
    return [p for p in sized if _distance(p, area) == nearest], False
