"""Room sizes in a message, and which products of the catalogue suit them."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from shop import room_area
from shop.db import repository


@pytest.mark.parametrize("text, area", [
    ("15平米", 15), ("20平的房间用哪个", 20), ("卧室18个平方", 18), ("大概25㎡", 25),
    ("12.5平方米", 12.5), ("30平方", 30),
    ("平板多少钱", None), ("15平安险", None), ("买两台", None), ("卧室用的", None),
    ("9999平米", None), ("0平米", None), ("", None),
])
def test_the_stated_area(text, area):
    assert room_area.stated_area(text) == area


@pytest.mark.parametrize("text, mentions", [
    ("卧室用的", True), ("客厅用哪款", True), ("20平", True), ("多少钱", False),
    ("风尊怎么样", False),
])
def test_a_room_named_with_or_without_a_size(text, mentions):
    assert room_area.mentions_room(text) is mentions


def air_conditioners(db):
    with Session(db) as session:
        products = repository.catalogue.find_products(session=session, category="空调")
        session.expunge_all()
    return products


def test_the_suited_range_is_the_catalogues(db):
    ranges = {p.name: room_area.suited_range(p) for p in air_conditioners(db)}
    assert ranges["格力云佳空调"] == (15.0, 20.0)
    assert ranges["格力云锦柜机"] == (30.0, 45.0)


def test_products_that_suit_a_size_and_else_the_nearest(db):
    products = air_conditioners(db)
    fitted, fits = room_area.for_area(products, 18)
    assert fits and {p.name for p in fitted} == {"美的风尊空调", "格力云佳空调"}
    fitted, fits = room_area.for_area(products, 12)
    assert fits and [p.name for p in fitted] == ["海尔静悦空调"]
    # 24 ㎡: no air conditioner suits it; the nearest (up to 22: 风尊; from 30: 云锦) is told.
    fitted, fits = room_area.for_area(products, 24)
    assert not fits and [p.name for p in fitted] == ["美的风尊空调"]


def test_products_without_a_size_are_not_recommended_by_size(db):
    with Session(db) as session:
        phones = repository.catalogue.find_products(session=session, category="手机")
        session.expunge_all()
    assert phones and room_area.for_area(phones, 15) == ([], False)
