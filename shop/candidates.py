"""One line of a candidate list: "· 小米14  3,999元（屏幕6.36英寸）".

What follows the price depends on why the list is shown: the fact asked of each
(冰箱有多大), its size when choosing by size, the room sizes it suits when a room was
named, or, when products are compared (小米14和华为Mate60哪个好, knowledge/catalogue.yml
`compare`), its main specs.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence, Tuple

from shop import knowledge, product_size, room_area
from shop.db import repository
from shop.db.models import Product
from shop.product_facts import Attribute, attribute_value


def asks_comparison(text: str) -> bool:
    """The message compares the products it names (哪个好, 区别, 对比 …)."""
    return any(str(word) in (text or "") for word in knowledge.catalogue().get("compare") or [])


def comparable(products: Sequence[Product]) -> List[Product]:
    """Of several brands' products, those in a category every one of the brands has
    (格力和美的哪个好: their air conditioners, not 美的's fridge); all if none is shared."""
    brands = {p.brand for p in products}
    shared = {c for c in {p.category for p in products}
              if all(any(p.brand == b and p.category == c for p in products) for b in brands)}
    return [p for p in products if p.category in shared] or list(products)


def lookup(session: object, names: Sequence[str], brands: Sequence[str],
           category: Optional[str], text: str) -> Tuple[List[Product], bool]:
    """The products named, else those of the brand and category; with brands compared
    (格力和美的哪个好), each one's in the categories they share. And whether compared."""
    compared = len(brands) > 1 and not names and asks_comparison(text)
    found = [p for brand in (list(brands) if compared else list(brands[:1]) or [None])
             for p in repository.catalogue.find_named_or_in(
                 session=session, names=names, brand=brand, category=category)]
    return (comparable(found) if compared else found), compared


def quoted(products: Sequence[Product], text: str) -> List[Product]:
    """Those whose price the message quotes: 是4599吗 after the fridges were listed is the
    fridge at 4,599, not the list again."""
    numbers = {int(n.replace(",", "")) for n in re.findall(r"\d[\d,]{2,}", text or "")}
    return [p for p in products if round(float(p.price)) in numbers]


def button(title: str, entity: str, value: str) -> Dict[str, str]:
    """A button that asks about a product or category (the payload sets the entity)."""
    return {"title": title, "payload": f'/ask_product{{"{entity}": "{value}"}}'}


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
