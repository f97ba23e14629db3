"""Creates the schema and loads the deterministic seed records from `knowledge/`.

Idempotent: records are upserted by key, tickets are never touched, so `make run`
can call it every time. Order timestamps are derived from `placed_days_ago`
relative to now, which keeps return windows meaningful whenever the seed runs.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Dict, Optional

from sqlalchemy.orm import Session

from shop import deadlines, knowledge
from shop.config import settings
from shop.db.engine import create_schema, get_engine, session_scope
from shop.db.models import Customer, Order, OrderItem, Product

logger = logging.getLogger(__name__)

SHIPPED = {"shipped", "in_transit", "delivered", "refunding", "refunded"}
DELIVERED = {"delivered", "refunding", "refunded"}


def _order_times(status: str, days_ago: int, now: datetime) -> Dict[str, Optional[datetime]]:
    placed = now - timedelta(days=days_ago, hours=1)
    paid = placed + timedelta(minutes=10) if status not in {"pending_payment"} else None
    shipped = None
    delivered = None
    if status in SHIPPED:
        shipped = placed + (timedelta(days=1) if days_ago >= 2 else timedelta(minutes=40))
    if status in DELIVERED:
        delivered = placed + timedelta(days=min(2, days_ago), minutes=50)
    return {"placed_at": placed, "paid_at": paid, "shipped_at": shipped, "delivered_at": delivered}


def seed_products(session: Session) -> int:
    """Upserts the catalogue's products."""
    products = knowledge.catalogue()["products"]
    for item in products:
        session.merge(
            Product(
                sku=item["sku"],
                name=item["name"],
                brand=item["brand"],
                category=item["category"],
                price=int(item["price"]),
                stock=int(item["stock"]),
                warranty_months=int(item["warranty_months"]),
                warranty=item["warranty"],
                specs=item.get("specs") or {},
            )
        )
    return len(products)


def seed_customers(session: Session, records: Dict[str, Any]) -> int:
    """Upserts the seed customers."""
    for item in records["customers"]:
        session.merge(
            Customer(id=item["id"], name=item["name"], phone=str(item["phone"]), tier=item["tier"])
        )
    return len(records["customers"])


def seed_orders(session: Session, records: Dict[str, Any], now: datetime) -> int:
    """Upserts the seed orders and replaces their items."""
    prices = {p["sku"]: int(p["price"]) for p in knowledge.catalogue()["products"]}
    for item in records["orders"]:
        order = session.get(Order, item["order_no"]) or Order(order_no=item["order_no"])
        order.customer_id = item["customer"]
        order.status = item["status"]
        order.carrier = item.get("carrier")
        order.tracking_no = item.get("tracking_no")
        for field, value in _order_times(item["status"], int(item["placed_days_ago"]), now).items():
            setattr(order, field, value)
        order.items = [
            OrderItem(sku=line["sku"], qty=int(line.get("qty", 1)), unit_price=prices[line["sku"]])
            for line in item["items"]
        ]
        session.add(order)
    return len(records["orders"])


def seed(now: Optional[datetime] = None) -> Dict[str, int]:
    """Creates missing tables and upserts every seed record in one transaction."""
    now = now or deadlines.utcnow()
    create_schema(get_engine())
    seed_dir = settings.knowledge_dir / "seed"
    customers = knowledge.load("customers", seed_dir)
    orders = knowledge.load("orders", seed_dir)
    with session_scope() as session:
        counts = {"products": seed_products(session)}
        counts["customers"] = seed_customers(session, customers)
        session.flush()
        counts["orders"] = seed_orders(session, orders, now)
    return counts


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    result = seed()
    print(
        f"database seeded ({get_engine().url.render_as_string(hide_password=True)}): "
        + ", ".join(f"{count} {name}" for name, count in result.items())
    )
