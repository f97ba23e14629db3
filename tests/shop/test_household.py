"""Choosing by household size (shop/household.py, knowledge/catalogue.yml `households`)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from shop import household
from shop.db import repository


def category(db, name: str):
    with Session(db) as session:
        return repository.catalogue.find_products(session=session, category=name)


@pytest.mark.parametrize("text, count", [
    ("家里三口人 哪款合适", 3), ("3口之家用多大的", 3), ("两个人用多大的冰箱", 2),
    ("一家五口", 5), ("我一个人住", 1), ("4个人", 4), ("两人用", 2), ("十口人", 10),
])
def test_how_many_people_the_customer_buys_for(text: str, count: int) -> None:
    assert household.people(text) == count


@pytest.mark.parametrize("text", ["这个人不行", "我的个人信息怎么删", "人家旗舰店便宜",
                                  "30个人", "0个人", "多少钱"])
def test_no_household_in_other_words(text: str) -> None:
    assert household.people(text) is None


def test_the_capacity_that_suits_a_household_is_chosen(db) -> None:
    fridges = category(db, "冰箱")  # 250, 510 and 610 litres
    fitted, fits = household.for_household(fridges, 3)
    assert [p.name for p in fitted] == ["美的250升三门冰箱"] and fits
    fitted, fits = household.for_household(fridges, 5)
    assert sorted(p.name for p in fitted) == ["海尔510升十字门冰箱", "西门子610升对开门冰箱"]
    assert fits


def test_none_suits_so_the_nearest_are_said_so(db) -> None:
    # Two people: 6–8 kg; every machine is 10 kg, so all three are the nearest.
    fitted, fits = household.for_household(category(db, "洗衣机"), 2)
    assert len(fitted) == 3 and not fits


def test_a_category_without_a_household_rule_is_not_narrowed(db) -> None:
    assert household.for_household(category(db, "空调"), 3) == ([], False)
