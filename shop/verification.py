"""The identity check before an order is revealed: the failure limits shared by every
conversation, sender and replica (knowledge/policies.yml `verification`), and the
owner the phone digits are checked against."""

from __future__ import annotations

from datetime import timedelta
from typing import Optional, Tuple

from shop import deadlines, knowledge
from shop.db import repository
from shop.db.engine import session_scope


def lock_of(order_no: str, client: str) -> Optional[str]:
    """"order" or "client" when the shared failure limits refuse self-service."""
    rules = knowledge.policies()["verification"]
    since = deadlines.utcnow() - timedelta(hours=float(rules["window_hours"]))
    with session_scope() as session:
        if repository.orders.verification_failures(
                session=session, since=since, order_no=order_no) >= int(rules["per_order_limit"]):
            return "order"
        if client and repository.orders.verification_failures(
                session=session, since=since, client=client) >= int(rules["per_client_limit"]):
            return "client"
    return None


def record_failure(order_no: str, client: str) -> None:
    with session_scope() as session:
        repository.orders.record_verification_failure(
            session=session, order_no=order_no, client=client, now=deadlines.utcnow())


def verified(order_no: str) -> str:
    """The slot value staff see: which order was verified, and when."""
    return f"{order_no}|{deadlines.to_local(deadlines.utcnow()):%Y-%m-%d %H:%M}"


def order_owner(order_no: str) -> Optional[Tuple[str, str]]:
    """(customer id, phone) of the order's owner, or None when there is no such order."""
    with session_scope() as session:
        order = repository.orders.find_order(session=session, order_no=order_no)
        if order is None or order.customer is None:
            return None
        return order.customer.id, order.customer.phone
