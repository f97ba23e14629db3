"""Sizes named in a message, and which products have them (knowledge/catalogue.yml `sizes`)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from shop import product_size
from shop.db import repository


def category(db, name: str):
    with Session(db) as session:
        return repository.catalogue.find_products(session=session, category=name)


def names(products) -> list:
    return [p.name for p in products]


def test_a_products_size_is_the_first_number_of_its_categorys_spec(db):
    tvs = {p.name: p for p in category(db, "电视")}
    assert product_size.size_of(tvs["海信65英寸E8电视"]) == 65
    assert product_size.size_text(tvs["索尼X90L电视"]) == "尺寸75英寸"
    assert product_size.size_of(category(db, "耳机")[0]) is None  # no size for earbuds


@pytest.mark.parametrize("text, size", [
    ("75寸的有吗", (75, "75寸")), ("有没有65 英寸的", (65, "65英寸")),
    ("55吋", (55, "55吋")), ("多少钱", None), ("0寸", None), ("尺寸多大", None),
])
def test_a_size_is_read_in_the_categorys_units(db, text, size):
    assert product_size.stated(text, category(db, "电视")) == size


def test_a_unit_of_another_category_or_word_is_no_size(db):
    assert product_size.stated("500升的", category(db, "电视")) is None
    assert product_size.stated("500升的", category(db, "冰箱")) == (500, "500升")
    assert product_size.mentions("1.5匹的空调") and product_size.mentions("1.5P的")
    assert not product_size.mentions("吸力8000Pa够吗")
    assert not product_size.mentions("15 Pro有吗")


def test_the_nearest_size_when_none_is_exact(db):
    tvs = category(db, "电视")
    assert (names(product_size.for_size(tvs, 75)[0]), product_size.for_size(tvs, 75)[1]) == (
        ["索尼X90L电视"], True)
    fitted, exact = product_size.for_size(tvs, 85)
    assert names(fitted) == ["索尼X90L电视"] and exact is False
    assert product_size.for_size(category(db, "耳机"), 50) == ([], False)


def test_bigger_and_smaller(db):
    tvs = {p.name: p for p in category(db, "电视")}
    every = list(tvs.values())
    assert product_size.asked_order("有没有大一点的") == product_size.BIGGER
    assert product_size.asked_order("小巧一点的有吗") == product_size.SMALLER
    assert product_size.asked_order("多少钱") is None
    # Relative to the one talked about, nearest first; without it, the extreme.
    assert names(product_size.pick(every, product_size.BIGGER, tvs["小米电视A55"])) == [
        "海信65英寸E8电视", "索尼X90L电视"]
    assert product_size.pick(every, product_size.BIGGER, tvs["索尼X90L电视"]) == []
    assert names(product_size.pick(every, product_size.SMALLER)) == ["小米电视A55"]


def test_about_a_size_is_within_a_tenth_of_it(db):
    fridges = {p.name: p for p in category(db, "冰箱")}
    haier = [fridges["海尔510升十字门冰箱"]]
    assert product_size.near_enough("500升左右的", 500, haier)
    assert product_size.near_enough("大概500升", 500, haier)
    assert not product_size.near_enough("500升的", 500, haier)  # not said as "about"
    assert not product_size.near_enough("450升左右", 450, haier)  # 510 is 13 % off
    assert not product_size.near_enough("500升左右", 500, [])
