"""The data layer: seed, queries, tickets and transactions."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from conftest import NOW
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop.db import repository
from shop.db.engine import session_scope
from shop.db.models import Customer, Order, OrderItem, Product, Ticket
from shop.db.seed import seed

SHANGHAI = timedelta(hours=8)


def count(session: Session, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def new_ticket(kind: str = "complaint", **values: object) -> Ticket:
    with session_scope() as session:
        return repository.tickets.create_ticket(
            session=session,
            kind=kind,
            conversation_id=str(values.pop("conversation_id", "conv-1")),
            summary="测试",
            **values,  # type: ignore[arg-type]
        )


# ------------------------------------------------------------------------ seed


def test_seed_counts(db):
    with Session(db) as session:
        products = count(session, Product)
        categories = session.execute(select(func.count(func.distinct(Product.category))))
        statuses = set(session.execute(select(Order.status)).scalars())
        assert products >= 20
        assert categories.scalar_one() >= 3
        assert count(session, Customer) == 30
        assert count(session, Order) == 100
        assert count(session, Ticket) == 0
        assert {"pending_payment", "paid", "shipped", "delivered", "cancelled"} <= statuses


def test_seed_every_order_has_items_at_catalogue_prices(db):
    with Session(db) as session:
        orders = session.execute(select(Order)).scalars().all()
        assert all(order.items for order in orders)
        for item in session.execute(select(OrderItem)).scalars():
            assert item.unit_price == item.product.price


@pytest.mark.parametrize(
    "status, paid, shipped, delivered",
    [
        ("pending_payment", False, False, False),
        ("paid", True, False, False),
        ("shipped", True, True, False),
        ("in_transit", True, True, False),
        ("delivered", True, True, True),
        ("refunded", True, True, True),
        ("cancelled", True, False, False),
    ],
)
def test_seed_timestamps_follow_status(db, status, paid, shipped, delivered):
    with Session(db) as session:
        orders = session.execute(select(Order).where(Order.status == status)).scalars().all()
        assert orders
        for order in orders:
            assert order.placed_at <= NOW
            assert (order.paid_at is not None) is paid
            assert (order.shipped_at is not None) is shipped
            assert (order.delivered_at is not None) is delivered
            if delivered:
                assert order.placed_at < order.shipped_at <= order.delivered_at <= NOW


def test_reseed_is_idempotent_and_keeps_tickets(db):
    ticket = new_ticket(customer_id="C001")
    with Session(db) as session:
        before = {m: count(session, m) for m in (Product, Customer, Order, OrderItem)}
    assert seed(now=NOW) == {"products": before[Product], "customers": 30, "orders": 100}
    assert seed(now=NOW + timedelta(days=1))["orders"] == 100
    with Session(db) as session:
        assert {m: count(session, m) for m in before} == before
        assert count(session, Ticket) == 1
        assert session.get(Ticket, ticket.id).number == ticket.number
        # Timestamps move with the seed's `now`, keeping return windows meaningful.
        order = session.get(Order, "DD202611180002")
        assert order.placed_at == NOW + timedelta(days=1) - timedelta(days=3, hours=1)


def test_schema_has_the_expected_tables(db):
    assert set(inspect(db).get_table_names()) == {
        "audit_log",
        "customers",
        "products",
        "orders",
        "order_items",
        "tickets",
        "ticket_notes",
        "ratings",
        "staff_presence",
        "practice_sessions",
        "practice_turns",
        "channel_cursors",
        "channel_messages",
        "review_items",
        "verification_failures",
        "scan_cursors",
        "staff_login_failures",
        "revoked_tokens",
        "practice_invitations",
    }


# ------------------------------------------------------------------ find_order


@pytest.mark.parametrize("typed", ["DD202611200001", "dd202611200001", "Dd202611200001"])
def test_find_order_any_case(db, typed):
    with session_scope() as session:
        order = repository.orders.find_order(session=session, order_no=typed)
        assert order is not None
        assert order.order_no == "DD202611200001"
        assert order.customer.id == "C001"
        assert order.customer.phone == "13800138001"
        assert [(i.product.sku, i.qty) for i in order.items] == [("EP-SN-XM5", 1)]
        assert order.status == "in_transit"
        assert order.carrier == "顺丰速运"
    # Relationships were loaded eagerly: usable after the session closed.
    assert order.items[0].product.name == "索尼WH-1000XM5耳机"
    assert order.customer.tier == "A"


@pytest.mark.parametrize(
    "order_no", ["DD999999999999", "DD20261120000", "", "DD2026'; DROP TABLE orders;--"]
)
def test_find_order_unknown_is_none(db, order_no):
    with session_scope() as session:
        assert repository.orders.find_order(session=session, order_no=order_no) is None
        assert count(session, Order) == 100


# --------------------------------------------------------------- find_products


@pytest.mark.parametrize(
    "criteria, expected",
    [
        ({"name": "美的风尊空调"}, ["AC-MD-15"]),
        ({"name": "风尊"}, []),  # aliases are resolved by NLU, not by the query
        ({"brand": "格力"}, ["AC-GL-15", "AC-GL-30"]),
        ({"category": "耳机"}, ["EP-HW-FP2", "EP-SN-XM5"]),
        ({"brand": "海尔", "category": "空调"}, ["AC-HE-10"]),
        ({"brand": "格力", "category": "冰箱"}, []),
        ({"brand": "苹果"}, []),
        ({}, None),
    ],
)
def test_find_products_filters(db, criteria, expected):
    with session_scope() as session:
        found = repository.catalogue.find_products(session=session, **criteria)
        if expected is None:
            assert len(found) == count(session, Product)
        else:
            assert [p.sku for p in found] == expected


def test_find_products_cheapest_first(db):
    with session_scope() as session:
        prices = [p.price for p in repository.catalogue.find_products(
            session=session, category="空调")]
    assert prices == sorted(prices)
    assert prices[0] == Decimal("1899")


def test_list_categories(db):
    with session_scope() as session:
        categories = repository.catalogue.list_categories(session=session)
    assert categories == sorted(set(categories))
    assert {"空调", "冰箱", "洗衣机", "电视", "手机", "笔记本电脑", "耳机"} <= set(categories)


# ---------------------------------------------------------------- create_ticket


@pytest.mark.parametrize(
    "now, local_date",
    [
        (datetime(2026, 11, 23, 4, 0), "20261123"),
        # 23:30 UTC is already the next day in Shanghai.
        (datetime(2026, 11, 23, 23, 30), "20261124"),
        (datetime(2026, 12, 31, 15, 59), "20261231"),
        (datetime(2026, 12, 31, 16, 0), "20270101"),
    ],
)
def test_ticket_number_uses_local_date(db, now, local_date):
    first = new_ticket(now=now)
    second = new_ticket(now=now)
    pattern = rf"TK{local_date}\d{{5}}"
    assert re.fullmatch(pattern, first.number)
    assert re.fullmatch(pattern, second.number)
    assert first.number != second.number
    assert int(first.number[-5:]) == first.id


@pytest.mark.parametrize(
    "customer_id, priority",
    [("C001", 1), ("C007", 2), ("C002", 3), ("C003", 4), (None, 3), ("C999", 3)],
)
def test_ticket_priority_from_tier(db, customer_id, priority):
    ticket = new_ticket(customer_id=customer_id)
    assert ticket.priority == priority
    # An unknown customer is not linked (the foreign key would reject it).
    assert ticket.customer_id == (customer_id if customer_id in {"C001", "C002", "C003", "C007"}
                                  else None)


@pytest.mark.parametrize(
    "local_created, local_respond",
    [
        (datetime(2026, 11, 23, 8, 0), datetime(2026, 11, 23, 21, 0)),
        (datetime(2026, 11, 23, 20, 59), datetime(2026, 11, 23, 21, 0)),
        (datetime(2026, 11, 23, 21, 0), datetime(2026, 11, 24, 21, 0)),
        (datetime(2026, 11, 23, 23, 45), datetime(2026, 11, 24, 21, 0)),
        (datetime(2026, 11, 24, 0, 30), datetime(2026, 11, 24, 21, 0)),
        (datetime(2026, 12, 31, 22, 0), datetime(2027, 1, 1, 21, 0)),
    ],
)
def test_complaint_ticket_deadlines(db, local_created, local_respond):
    created = local_created - SHANGHAI  # naive UTC, as stored
    ticket = new_ticket("complaint", now=created, customer_id="C002", detail="空调不制冷")
    assert ticket.created_at == created
    assert ticket.respond_due == local_respond - SHANGHAI
    assert ticket.resolve_due == created + timedelta(hours=72)
    assert ticket.callback_due == ticket.resolve_due + timedelta(hours=48)
    assert ticket.status == "open"
    assert ticket.detail == "空调不制冷"


@pytest.mark.parametrize(
    "kind, resolve_hours, callback_hours",
    [("return", 48, None), ("repair", 72, 48), ("handoff", None, None)],
)
def test_other_ticket_kinds_deadlines(db, kind, resolve_hours, callback_hours):
    ticket = new_ticket(kind, now=NOW, order_no="DD202611180002")
    assert ticket.respond_due == datetime(2026, 11, 23, 21, 0) - SHANGHAI
    if resolve_hours is None:
        assert ticket.resolve_due is None
    else:
        assert ticket.resolve_due == NOW + timedelta(hours=resolve_hours)
    if callback_hours is None:
        assert ticket.callback_due is None
    else:
        assert ticket.callback_due == ticket.resolve_due + timedelta(hours=callback_hours)


def test_ticket_defaults_to_the_clock_and_caps_detail(db):
    ticket = new_ticket(detail="很长" * 3000)
    assert ticket.created_at == NOW
    assert len(ticket.detail) == 4000


def test_ticket_persists(db):
    ticket = new_ticket("repair", customer_id="C001", order_no="DD202611200001")
    with Session(db) as session:
        stored = session.execute(select(Ticket).where(Ticket.number == ticket.number)).scalar_one()
        assert (stored.kind, stored.customer_id, stored.order_no) == (
            "repair",
            "C001",
            "DD202611200001",
        )


def test_ticket_for_unknown_order_is_rejected(db):
    with pytest.raises(IntegrityError):
        new_ticket(order_no="DD000000000000")
    with Session(db) as session:
        assert count(session, Ticket) == 0


# ------------------------------------------------------------------ open_tickets


def test_open_tickets_per_conversation_and_kind(db):
    a1 = new_ticket("complaint", conversation_id="a")
    a2 = new_ticket("handoff", conversation_id="a")
    new_ticket("handoff", conversation_id="b")
    closed = new_ticket("handoff", conversation_id="a")
    with session_scope() as session:
        session.get(Ticket, closed.id).status = "closed"
    with session_scope() as session:
        assert [t.id for t in repository.tickets.open_tickets(
            session=session, conversation_id="a")] == [
            a1.id,
            a2.id,
        ]
        handoffs = repository.tickets.open_tickets(
            session=session, conversation_id="a", kinds=["handoff"])
        assert [t.id for t in handoffs] == [a2.id]
        assert repository.tickets.open_tickets(session=session, conversation_id="c") == []
        assert repository.tickets.count_tickets(session=session, conversation_id="a") == 3
        assert repository.tickets.count_tickets(session=session) == 4


def test_get_customer(db):
    with session_scope() as session:
        assert repository.orders.get_customer(session=session, customer_id="C002").name == "张建华"
        assert repository.orders.get_customer(session=session, customer_id="nobody") is None


# ------------------------------------------------------------------ transactions


def test_session_scope_rolls_back_on_error(db):
    with pytest.raises(RuntimeError):
        with session_scope() as session:
            repository.tickets.create_ticket(
                session=session, kind="complaint", conversation_id="x", summary="s"
            )
            session.get(Order, "DD202611200001").status = "cancelled"
            raise RuntimeError("boom")
    with Session(db) as session:
        assert count(session, Ticket) == 0
        assert session.get(Order, "DD202611200001").status == "in_transit"


def test_session_scope_rolls_back_on_database_error(db):
    with pytest.raises(IntegrityError):
        with session_scope() as session:
            repository.tickets.create_ticket(
                session=session, kind="complaint", conversation_id="x", summary="s"
            )
            # Same phone as C001: the unique constraint fails at commit.
            session.add(Customer(id="C999", name="重复", phone="13800138001", tier="C"))
    with Session(db) as session:
        assert count(session, Ticket) == 0
        assert session.get(Customer, "C999") is None


def test_session_scope_commits(db):
    with session_scope() as session:
        session.get(Order, "DD202611230004").status = "paid"
    with Session(db) as session:
        assert session.get(Order, "DD202611230004").status == "paid"



def test_a_sqlite_database_in_a_missing_folder_is_created(tmp_path) -> None:
    """A fresh clone has no var/: `make seed` must still find somewhere to write."""
    from sqlalchemy import text as sql

    from shop.db.engine import make_engine

    path = tmp_path / "var" / "nested" / "shop.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.execute(sql("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
    assert path.exists()
