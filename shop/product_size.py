"""Choosing by size: 75寸的有吗, 500升左右的, 有没有大一点的 (knowledge/catalogue.yml
`sizes`), among the products of the category in context. A product's size is the first
number of the spec its category names (电视 尺寸 "65英寸" → 65)."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from shop import knowledge
from shop.db.models import Product

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
BIGGER = "bigger"
SMALLER = "smaller"
# The catalogue attribute of sizes (尺寸): a choice by size is not that fact of each product.
SIZE_ATTRIBUTE = "size"


def _rules() -> Dict[str, Any]:
    return knowledge.catalogue().get("sizes") or {}


def _category(product: Product) -> Dict[str, Any]:
    return (_rules().get("categories") or {}).get(product.category) or {}


def size_of(product: Product) -> Optional[float]:
    """The product's size in its category's unit, or None if the catalogue says none."""
    spec = _category(product).get("spec")
    match = _NUMBER.search(str((product.specs or {}).get(spec, ""))) if spec else None
    return float(match.group(0)) if match else None


def size_text(product: Product) -> Optional[str]:
    """"尺寸75英寸" as the catalogue writes it, for a candidate list or a reply."""
    spec = _category(product).get("spec")
    value = (product.specs or {}).get(spec) if spec else None
    return f"{spec}{value}" if value else None


def _all_units() -> List[str]:
    return [str(u) for c in (_rules().get("categories") or {}).values()
            for u in c.get("units") or []]


def mentions(text: str) -> bool:
    """A size in any category's unit (75寸, 500升) or a size order (大一点的)."""
    return asked_order(text) is not None or _find(text, _all_units()) is not None


def _find(text: str, units: Sequence[str]) -> Optional[Tuple[float, str]]:
    if not units:
        return None
    ordered = sorted(set(units), key=len, reverse=True)
    # Not a unit that is the start of a word (8000Pa is no 匹, 15 Pro no size).
    pattern = (r"(?<![\d.])(\d{1,4}(?:\.\d+)?)\s*(?:" + "|".join(map(re.escape, ordered))
               + r")(?![A-Za-z])")
    match = re.search(pattern, text or "", re.IGNORECASE)
    if match is None or float(match.group(1)) <= 0:
        return None
    return float(match.group(1)), match.group(0).replace(" ", "")


def stated(text: str, products: Sequence[Product]) -> Optional[Tuple[float, str]]:
    """(size, as written) of "75寸" / "500升" in the message, in a unit of the products'
    category; None when the message names no such size (or 0)."""
    return _find(text, [str(u) for p in products for u in _category(p).get("units") or []])


def asked_order(text: str) -> Optional[str]:
    """"bigger" or "smaller" when the message asks for one (有没有大一点的)."""
    for order in (BIGGER, SMALLER):
        if any(str(word) in (text or "") for word in _rules().get(order) or []):
            return order
    return None


def for_size(products: Sequence[Product], size: float) -> Tuple[List[Product], bool]:
    """Those of exactly `size` and True; if none, the nearest ones and False. Products
    without a size are left out; none sized at all → ([], False)."""
    sized = [(p, size_of(p)) for p in products]
    distances = {p.sku: abs(value - size) for p, value in sized if value is not None}
    if not distances:
        return [], False
    nearest = min(distances.values())
    return [p for p in products if distances.get(p.sku) == nearest], nearest == 0


def near_enough(text: str, asked: float, products: Sequence[Product]) -> bool:
    """The nearest `products` meet a size asked as approximate (500升左右 → 510升): the
    message says "about" and each is within the catalogue's `about_share` of it."""
    rules = _rules()
    if not any(str(word) in (text or "") for word in rules.get("about") or []):
        return False
    share = float(rules.get("about_share") or 0)
    sizes = [size_of(p) for p in products]
    return bool(sizes) and all(s is not None and abs(s - asked) <= share * asked
                               for s in sizes)


def pick(products: Sequence[Product], order: str, than: Optional[Product] = None
         ) -> List[Product]:
    """Bigger or smaller than `than` (nearest first); without it, the biggest or smallest."""
    sized = [(p, v) for p in products if (v := size_of(p)) is not None]
    bigger = order == BIGGER
    reference = size_of(than) if than is not None else None
    if reference is None:
        if not sized:
            return []
        extreme = (max if bigger else min)(v for _, v in sized)
        return [p for p, v in sized if v == extreme]
    chosen = [(p, v) for p, v in sized if (v > reference if bigger else v < reference)]
    return [p for p, _ in sorted(chosen, key=lambda pv: pv[1], reverse=not bigger)]
