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


def _suited_value(product: Product) -> Optional[str]:
    wanted = attribute(AREA_ATTRIBUTE)
    return attribute_value(wanted, product) if wanted else None


def suited_range(product: Product) -> Optional[Tuple[float, float]]:
    """(smallest, largest) room this product suits, from the catalogue; None if unsaid."""
    match = _RANGE.search(_suited_value(product) or "")
    if match is None:
        return None
    low, high = sorted((float(match.group(1)), float(match.group(2))))
    return low, high


def suited_text(product: Product) -> Optional[str]:
    """"适用面积15-20平方米" as the catalogue writes it, for a candidate list."""
    value = _suited_value(product)
    return f"{attribute(AREA_ATTRIBUTE).name}{value}" if value else None


def _distance(suited: Tuple[float, float], area: float) -> float:
    """0 inside the range, else how many square metres outside it."""
    low, high = suited
    return max(low - area, 0.0, area - high)


def for_area(products: Sequence[Product], area: float) -> Tuple[List[Product], bool]:
    """The products that suit `area` and True; if none does, the nearest ones and False.
    Products the catalogue gives no size for are left out; none at all → ([], False)."""
    # Each product's range read once (a catalogue lookup and a regex each).
    distances = {}
    for product in products:
        suited = suited_range(product)
        if suited is not None:
            distances[product.sku] = _distance(suited, area)
    sized = [p for p in products if p.sku in distances]
    if not sized:
        return [], False
    nearest = min(distances.values())
    return [p for p in sized if distances[p.sku] == nearest], nearest == 0
