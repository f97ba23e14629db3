"""Orders, their customers and the phone-check failures counted against them."""

from __future__ import annotations

from datetime import datetime
from typing import List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from shop.db.models import (
    Customer,
    Order,
    OrderItem,
    VerificationFailure,
)


def find_order(*, session: Session, order_no: str) -> Optional[Order]:
    """The order with its items, products and customer, or None."""
    statement = (
        select(Order)
        .where(Order.order_no == order_no.upper())
        .options(
            selectinload(Order.items).selectinload(OrderItem.product),
            selectinload(Order.customer),
        )
    )
    return session.execute(statement).scalar_one_or_none()


def record_verification_failure(
    *, session: Session, order_no: str, client: str, now: datetime
) -> None:
    session.add(VerificationFailure(order_no=order_no.upper(), client=client[:64],
                                    failed_at=now))


def verification_failures(
    *, session: Session, since: datetime, order_no: Optional[str] = None,
    client: Optional[str] = None,
) -> int:
    """Failed order checks since `since` for this order number or this client."""
    statement = select(func.count(VerificationFailure.id)).where(
        VerificationFailure.failed_at >= since)
    if order_no is not None:
        statement = statement.where(VerificationFailure.order_no == order_no.upper())
    if client is not None:
        statement = statement.where(VerificationFailure.client == client[:64])
    return int(session.execute(statement).scalar_one())


def get_customer(*, session: Session, customer_id: str) -> Optional[Customer]:
    """The customer with this id, or None."""
    return session.get(Customer, customer_id)


def customer_orders(*, session: Session, customer_id: str, limit: int = 10) -> List[Order]:
    """The customer's most recent orders with their items."""
    statement = (
        select(Order)
        .where(Order.customer_id == customer_id)
        .options(selectinload(Order.items).selectinload(OrderItem.product))
        .order_by(Order.placed_at.desc())
        .limit(limit)
    )
    return list(session.execute(statement).scalars())
