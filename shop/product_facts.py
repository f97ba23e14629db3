"""One fact about one product (size, noise, origin, gifts, fees …) from the catalogue.

Which fact a message asks for and where its answer is are data
(knowledge/catalogue.yml `attributes`, knowledge/policies.yml `fees`); the record's
own fields (warranty, stock) come from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from shop import knowledge, playbook
from shop.db import repository
from shop.db.engine import session_scope
from shop.db.models import Product


@dataclass(frozen=True)
class Attribute:
    key: str
    name: str
    sources: List[str]
    words: List[str]
    # The same answer for every product (shipping fee, price protection).
    shop_wide: bool = False


def attributes() -> List[Attribute]:
    return [
        Attribute(str(a["key"]), str(a["name"]), [str(s) for s in a["from"]],
                  [str(w) for w in a["words"]], bool(a.get("shop_wide")))
        for a in knowledge.catalogue().get("attributes", [])
    ]


def attribute(key: Optional[str]) -> Optional[Attribute]:
    return next((a for a in attributes() if a.key == key), None)


def asked_attribute(text: str) -> Optional[Attribute]:
    """The first attribute (in the catalogue's order) one of whose words is in `text`."""
    lowered = (text or "").lower()
    return next((a for a in attributes() if any(w in lowered for w in a.words)), None)


def asks_fact_only(text: str) -> Optional[Attribute]:
    """The product fact a message asks when it says nothing of owning the product or of
    a fault (保修呢, 安装呢; not 我的空调坏了能保修吗): policies.yml `after_sales`."""
    asked = asked_attribute(text)
    markers = knowledge.policies()["after_sales"].get("owned_or_fault") or []
    if asked is None or any(str(word) in (text or "") for word in markers):
        return None
    return asked


def _installation(product: Product) -> str:
    fees = knowledge.policies()["fees"]["installation"]
    return str(fees.get(product.category) or fees["default"])


def policy_explanation(key: str) -> str:
    """A policy's `explain` from knowledge/policies.yml, its figures filled in."""
    policy = knowledge.policies().get(key) or {}
    return str(policy.get("explain") or "").format(**policy).strip()


def shop_wide_value(wanted: Attribute) -> Optional[str]:
    """The answer of a shop-wide attribute: a fee or a policy's explanation."""
    for source in wanted.sources:
        kind, _, key = source.partition(".")
        if kind == "fees" and key != "installation":
            value = knowledge.policies()["fees"].get(key)
        elif kind == "policy":
            value = policy_explanation(key)
        else:
            raise ValueError(f"{source!r} is not shop-wide in knowledge/catalogue.yml")
        if value:
            # The reply adds its own full stop (utter_shop_fee).
            return str(value).strip().rstrip("。")
    return None


def stock_state(product: Product) -> str:
    """现货充足 / 仅剩N件 / 暂时缺货, worded by policies.yml `stock_states`."""
    texts = knowledge.policies()["stock_states"]
    if product.stock <= 0:
        return texts["out_of_stock"]
    if product.stock < 10:
        return texts["low"].format(stock=product.stock)
    return texts["in_stock"]


def _source(source: str, product: Product) -> Any:
    entry: Dict[str, Any] = knowledge.catalogue_product(product.name) or {}
    kind, _, key = source.partition(".")
    if kind == "details":
        return (entry.get("details") or {}).get(key)
    if kind == "specs":
        return (product.specs or {}).get(key)
    if kind == "fees":
        return _installation(product) if key == "installation" else \
            knowledge.policies()["fees"].get(key)
    if kind == "warranty":
        return product.warranty
    if kind == "stock":
        return stock_state(product)
    raise ValueError(f"unknown attribute source {source!r} in knowledge/catalogue.yml")


def attribute_value(
    wanted: Attribute, product: Product
) -> Optional[str]:
    """The answer for this product, or None when the catalogue does not say."""
    for source in wanted.sources:
        value = _source(source, product)
        if value:
            return str(value)
    return None


def script_facts(product_name: Optional[str]) -> Optional[Dict[str, Any]]:
    """The placeholders of a sales script ({price}, {warranty} …) for a catalogue product,
    or None if unknown (shop/playbook.py then picks a script without them)."""
    if not product_name:
        return None
    with session_scope() as session:
        products = repository.catalogue.find_products(session=session, name=product_name)
        if not products:
            return None
        p = products[0]
        return dict(playbook.product_facts(
            p.name, float(p.price), p.warranty, p.warranty_months, p.category, p.specs or {}))
