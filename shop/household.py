"""Choosing by household: 家里三口人 哪款合适, 两个人用多大的冰箱, 一家五口 (knowledge/
catalogue.yml `households`). The capacity that suits that many people, among the
products of the category in context; a product's capacity is its size
(shop/product_size.py)."""

from __future__ import annotations

import re
from typing import List, Optional, Sequence, Tuple

from shop import knowledge
from shop.db.models import Product
from shop.product_size import size_of

_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
             "九": 9, "十": 10}
_COUNT = r"(\d{1,2}|[一二两三四五六七八九十])"
# 三口人, 3口之家, 两个人用, 一家五口; not 这个人 (no number) or 个人信息 (not people counted).
_PEOPLE = re.compile(rf"{_COUNT}\s*(?:口人|口之家|个人(?!信息|隐私|资料|中心|账户|主页)"
                     rf"|人(?:用|住|家))|一家{_COUNT}口")


def people(text: str) -> Optional[int]:
    """How many people the customer buys for (1–20), if the message says."""
    match = _PEOPLE.search(text or "")
    if match is None:
        return None
    said = match.group(1) or match.group(2)
    count = int(said) if said.isdigit() else _NUMERALS[said]
    return count if 1 <= count <= 20 else None


def _band(category: str, count: int) -> Optional[Tuple[float, float]]:
    for band in (knowledge.catalogue().get("households") or {}).get(category) or []:
        if count <= int(band["up_to"]):
            return float(band["from"]), float(band["to"])
    return None


def for_household(products: Sequence[Product], count: int) -> Tuple[List[Product], bool]:
    """Those whose capacity suits `count` people and True; if none, the nearest and
    False; ([], False) when the category has no such rule (phones, TVs)."""
    distances = {}
    for product in products:
        band, size = _band(product.category, count), size_of(product)
        if band is not None and size is not None:
            distances[product.sku] = max(band[0] - size, size - band[1], 0.0)
    if not distances:
        return [], False
    nearest = min(distances.values())
    return [p for p in products if distances.get(p.sku) == nearest], nearest == 0
