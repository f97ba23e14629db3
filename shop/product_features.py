"""Choosing by a feature: 滚筒的有吗, 能烘干吗, 打游戏用哪款好 (knowledge/catalogue.yml
`features`), among the products of the category in context. A product has the feature
when its name, specs or details say one of the feature's words."""

from __future__ import annotations

from typing import List, Sequence

from shop import knowledge
from shop.db.models import Product


def asked(text: str) -> List[str]:
    """The words to look for in the products, for every feature the message names."""
    features = knowledge.catalogue().get("features") or {}
    return [str(w) for name, words in features.items() if str(name) in (text or "")
            for w in words]


def _described(product: Product) -> str:
    entry = knowledge.catalogue_product(product.name) or {}
    parts = [product.name]
    for facts in (product.specs or {}, entry.get("details") or {}):
        parts.extend(f"{key}{value}" for key, value in facts.items())
    return " ".join(parts)


def having(products: Sequence[Product], words: Sequence[str]) -> List[Product]:
    """The products that have one of `words`, in the order given."""
    return [p for p in products if any(word in _described(p) for word in words)]
