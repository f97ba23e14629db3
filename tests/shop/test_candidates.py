"""Lines of a candidate list (shop/candidates.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shop import candidates
from shop.db import repository
from shop.product_facts import attribute


def product(db, name: str):
    with Session(db) as session:
        return repository.catalogue.find_products(session=session, name=name)[0]


def test_a_comparison_is_asked_in_the_catalogues_words():
    assert candidates.asks_comparison("小米14和华为哪个好")
    assert candidates.asks_comparison("这两款有什么区别")
    assert not candidates.asks_comparison("小米14多少钱")
    assert not candidates.asks_comparison("")


def test_what_follows_the_price_says_why_the_list_is_shown(db):
    phone = product(db, "小米14")
    assert candidates.line(phone) == "· 小米14  3,999元"
    assert candidates.line(phone, compared=True).startswith("· 小米14  3,999元（屏幕6.36英寸OLED，")
    warranty = attribute("warranty")
    assert candidates.line(phone, warranty, compared=True) == (
        "· 小米14  3,999元（保修：三包1年，全国联保）")  # the fact asked wins
    tv = product(db, "索尼X90L电视")
    assert candidates.line(tv, measured=True) == "· 索尼X90L电视  9,999元（尺寸75英寸）"


def test_brands_compared_in_the_categories_they_share(db):
    with Session(db) as session:
        gree = repository.catalogue.find_products(session=session, brand="格力")
        midea = repository.catalogue.find_products(session=session, brand="美的")
    assert {p.category for p in midea} > {"空调"}  # 美的 sells more than air conditioners
    compared = candidates.comparable(gree + midea)
    assert compared and {p.category for p in compared} == {"空调"}
    assert {p.brand for p in compared} == {"格力", "美的"}
    assert candidates.comparable(gree) == gree
