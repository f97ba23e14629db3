"""Budgets named in a message, and which products they buy (knowledge/catalogue.yml `budget`)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from shop import budget
from shop.db import repository


def category(db, name: str):
    with Session(db) as session:
        return repository.catalogue.find_products(session=session, category=name)


@pytest.mark.parametrize("text, said", [
    ("3000以内的有吗", "3000元以内"),
    ("5千以下的手机", "5000元以内"),
    ("2k以内", "2000元以内"),
    ("我预算只有两千块钱", "2000元以内"),  # Chinese numerals, words between
    ("不超过3000", "3000元以内"),
    ("预算两千左右", "2000元左右"),
    ("预算大概三千五", "3500元左右"),
    ("1500元左右的", "1500元左右"),
    ("预算一百万以内", "1000000元以内"),  # as digits, never 1e+06
    # ranges: spoken (两三千), written, with a multiplier on one end or both
    ("两三千的", "2000到3000元"),
    ("预算一两万", "10000到20000元"),
    ("两千到三千的空调", "2000到3000元"),
    ("预算2000-3000", "2000到3000元"),  # not "2000元以内"
    ("2到3千", "2000到3000元"),
    ("2k-3k", "2000到3000元"),
    ("1000~2000块", "1000到2000元"),
    ("价格在1500至2500之间", "1500到2500元"),
])
def test_a_budget_is_read(text, said):
    assert str(budget.stated(text)) == said


@pytest.mark.parametrize("text", [
    "75寸的有吗", "500升左右的", "我家15平米", "DD202611050012", "13800138000",
    "手机3000", "3000块的那款", "预算不够", "预算0元", "",
    "预算一亿", "预算-100", "12345678以内",  # beyond any shop's goods, negative
    # ranges of sizes, rooms, dates and parts of a phone number are no price range
    "15到20平米", "500到600升的", "75到85寸", "2023-2024年", "138-1234-5678",
    "三五千", "3000到2000", "预算0-0",
])
def test_other_numbers_are_no_budget(text):
    assert budget.stated(text) is None


def test_below_keeps_what_it_buys_dearest_first(db):
    phones = category(db, "手机")
    fitted, fits = budget.within(phones, budget.stated("5000以内"))
    assert fits and fitted and all(p.price <= 5000 for p in fitted)
    assert [p.price for p in fitted] == sorted((p.price for p in fitted), reverse=True)
    assert {p.sku for p in fitted} == {p.sku for p in phones if p.price <= 5000}


def test_about_keeps_those_near_it_and_none_gets_the_cheapest(db):
    fridges = category(db, "冰箱")  # 1,699 / 4,599 / 6,999
    fitted, fits = budget.within(fridges, budget.stated("4500左右"))
    assert fits and [p.name for p in fitted] == ["海尔510升十字门冰箱"]
    fitted, fits = budget.within(fridges, budget.stated("1000以内"))
    assert not fits and [p.name for p in fitted] == ["美的250升三门冰箱"]


def test_about_with_none_near_it_gets_the_nearest(db):
    fridges = category(db, "冰箱")  # 1,699 / 4,599 / 6,999
    fitted, fits = budget.within(fridges, budget.stated("预算3500左右"))
    assert not fits and [p.name for p in fitted] == ["海尔510升十字门冰箱"]


def test_a_range_keeps_those_in_it_dearest_first_and_none_gets_the_nearest(db):
    fridges = category(db, "冰箱")  # 1,699 / 4,599 / 6,999
    fitted, fits = budget.within(fridges, budget.stated("四五千的"))
    assert fits and [p.name for p in fitted] == ["海尔510升十字门冰箱"]
    fitted, fits = budget.within(fridges, budget.stated("2000到3000"))
    assert not fits and [p.name for p in fitted] == ["美的250升三门冰箱"]  # 301 below it
    fitted, fits = budget.within(fridges, budget.stated("预算1000-7000"))
    assert fits and [p.price for p in fitted] == sorted((p.price for p in fridges), reverse=True)


def test_only_the_start_of_a_long_message_is_read():
    # 900 characters of 两三千 become 2,700 of digit ranges: reading all took 350 ms.
    assert str(budget.stated("预算两三千" + "的" * 900)) == "2000到3000元"
    assert budget.stated("的" * 300 + "3000以内") is None
    assert budget.stated("3000以内" + "的" * 900).span == (0, 6)
    assert budget.stated("两千以内").span is None  # 2000以内: positions moved
