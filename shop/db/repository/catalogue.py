"""Products and categories of the catalogue."""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.db.models import (
    OrderItem,
    Product,
)


def find_products(
    *,
    session: Session,
    name: Optional[str] = None,
    brand: Optional[str] = None,
    category: Optional[str] = None,
) -> List[Product]:
    """Products matching every given criterion, cheapest first."""
    statement = select(Product)
    if name:
        statement = statement.where(Product.name == name)
    if brand:
        statement = statement.where(Product.brand == brand)
    if category:
        statement = statement.where(Product.category == category)
    return list(session.execute(statement.order_by(Product.price, Product.sku)).scalars())


def find_named_or_in(*, session: Session, names: Sequence[str], brand: Optional[str] = None,
                     category: Optional[str] = None) -> List[Product]:
    """The products named (in the order named), else those of the brand and category
    given; [] when nothing is given."""
    if names:
        return [p for name in names for p in find_products(session=session, name=name)]
    if brand or category:
        return find_products(session=session, brand=brand, category=category)
    return []


def list_categories(*, session: Session) -> List[str]:
    """Categories that have at least one product."""
    statement = select(Product.category).distinct().order_by(Product.category)
    return list(session.execute(statement).scalars())


def products_of_orders(*, session: Session, order_nos: Sequence[str]) -> Dict[str, List[str]]:
    """Product names of each order, in item order."""
    products: Dict[str, List[str]] = {}
    if not order_nos:
        return products
    statement = (
        select(OrderItem.order_no, Product.name)
        .join(Product, OrderItem.sku == Product.sku)
        .where(OrderItem.order_no.in_(list(order_nos)))
        .order_by(OrderItem.order_no, OrderItem.id)
    )
    for order_no, name in session.execute(statement):
        products.setdefault(order_no, []).append(name)
    return products
