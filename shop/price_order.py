"""Choosing by price: 最便宜的是哪个, 有没有更便宜的, 最贵的那款 (knowledge/catalogue.yml
`price_order`), among the products of the category in context."""

from __future__ import annotations

from typing import List, Optional, Sequence

from shop import knowledge
from shop.db.models import Product


def asked(text: str) -> Optional[str]:
    """"cheapest", "cheaper" or "priciest" when the message asks for that order."""
    for order, words in (knowledge.catalogue().get("price_order") or {}).items():
        if any(word in (text or "") for word in words):
            return str(order)
    return None


def pick(products: Sequence[Product], order: str, than: Optional[Product] = None
         ) -> List[Product]:
    """The cheapest or dearest one, or those cheaper than `than` (cheapest first)."""
    ordered = sorted(products, key=lambda p: (p.price, p.sku))
    if order == "cheapest":
        return ordered[:1]
    if order == "priciest":
        return ordered[-1:]
    return [p for p in ordered if than is None or p.price < than.price]
