"""One line of a candidate list: "· 小米14  3,999元（屏幕6.36英寸）".

What follows the price depends on why the list is shown: the fact asked of each
(冰箱有多大), its size when choosing by size, the room sizes it suits when a room was
named, or, when products are compared (小米14和华为Mate60哪个好, knowledge/catalogue.yml
`compare`), its main specs.
"""

from __future__ import annotations

from typing import Optional

from shop import knowledge, product_size, room_area
from shop.db.models import Product
from shop.product_facts import Attribute, attribute_value


def asks_comparison(text: str) -> bool:
    """The message compares the products it names (哪个好, 区别, 对比 …)."""
    return any(str(word) in (text or "") for word in knowledge.catalogue().get("compare") or [])


def price_text(product: Product) -> str:
    """"3,999", as every reply writes a price."""
    return f"{product.price:,.0f}"


def specs_text(product: Product) -> str:
    return "，".join(f"{key}{value}" for key, value in (product.specs or {}).items())


def line(product: Product, wanted: Optional[Attribute] = None, measured: bool = False,
         room_named: bool = False, compared: bool = False) -> str:
    if wanted is not None:
        value = attribute_value(wanted, product)
        suits = f"{wanted.name}：{value}" if value else None
    elif compared:
        suits = specs_text(product) or None
    elif measured:
        suits = product_size.size_text(product)
    else:
        suits = room_area.suited_text(product) if room_named else None
    shown = f"· {product.name}  {price_text(product)}元"
    return f"{shown}（{suits}）" if suits else shown
