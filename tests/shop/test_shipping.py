"""Delivery by place (shop/shipping.py): the gazetteer, the tiers and the replies, and
that they agree with the shop's other commitments (faq.yml, policies.yml)."""

from __future__ import annotations

import collections
from typing import List, Tuple

import pytest

from shop import knowledge, shipping


def found(text: str) -> List[Tuple[str, int, int]]:
    return [(m.name, m.start, m.end) for m in shipping.find(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("到武汉大概多少天", [("武汉", 1, 3)]),
        ("寄到乌鲁木齐要几天", [("乌鲁木齐", 2, 6)]),
        ("发到香港吗", [("香港", 2, 4)]),
        ("杭州市", [("杭州", 0, 3)]),
        # The longest form at each position: the province with its suffix, then the city.
        ("黑龙江省哈尔滨市", [("黑龙江", 0, 4), ("哈尔滨", 4, 8)]),
        ("新疆维吾尔自治区", [("新疆", 0, 8)]),
        ("大兴安岭", [("大兴安岭", 0, 4)]),
        ("甘孜州", [("甘孜", 0, 3)]),  # 甘孜藏族自治州, as people say it
        ("发美国吗", [("美国", 1, 3)]),
        # 海南 is the province, not Qinghai's 海南藏族自治州.
        ("海南", [("海南", 0, 2)]),
        # Names that are everyday words or goods only in their full form.
        ("开封了能退吗", []),
        ("开封市几天到", [("开封", 0, 3)]),
        ("三明治", []),
        ("普洱茶", []),
        ("大理石台面", []),
        ("阿里旺旺", []),
        ("今天天气不错", []),
        ("", []),
    ],
)
def test_find(text, expected):
    assert found(text) == expected


def test_the_gazetteer_has_every_province_once_and_no_place_twice():
    provinces = knowledge.load("places")["provinces"]
    assert len(provinces) == 34
    names = collections.Counter(
        name for entry in provinces.values() for name in entry.get("places") or [])
    assert not [name for name, count in names.items() if count > 1]
    assert set(names) & set(provinces) == {"吉林"}  # 吉林市, in its own province
    assert {"杭州", "拉萨", "乌鲁木齐", "甘孜", "仙桃", "石河子"} <= set(names)


@pytest.mark.parametrize(
    "place, tier",
    [("杭州", "standard"), ("北京", "standard"), ("新疆", "remote"), ("喀什", "remote"),
     ("拉萨", "remote"), ("香港", "not_served"), ("台湾", "not_served"),
     ("美国", "not_served")],
)
def test_tier(place, tier):
    assert shipping.tier(place) == tier


def test_replies_name_the_place_and_keep_the_shops_promises():
    fees = knowledge.policies()["fees"]["shipping"]
    faq = knowledge.faq()
    remote = knowledge.load("shipping")["tiers"]["remote"]
    # The remote provinces and their fee are the ones policies.yml and faq.yml state.
    for province in remote["provinces"]:
        assert province in fees and province in faq["delivery_time"]
    assert "30元" in fees and "30元" in shipping.reply("拉萨")
    assert "3-7天" in faq["delivery_time"] and "3-7天" in shipping.reply("喀什")
    assert "1-3天" in faq["delivery_time"] and "1-3天" in shipping.reply("杭州")
    assert "包邮" in fees and "包邮" in shipping.reply("杭州", fee_only=True)
    assert "港澳台" in faq["delivery_area"] and "暂不支持" in shipping.reply("澳门")
    assert shipping.reply("杭州市").startswith("亲，发往杭州市")
    assert "30元" in shipping.reply("新疆", fee_only=True)


@pytest.mark.parametrize(
    "text, alone",
    [("杭州", True), ("发杭州", True), ("新疆那边呢", True), ("寄到上海的", True),
     ("我在杭州", True), ("西藏拉萨", True), ("香港呢？", True),
     ("我在杭州上学", False), ("杭州到货了吗", False), ("杭州的那个订单怎么还没到", False)],
)
def test_named_alone(text, alone):
    assert shipping.named_alone(text, shipping.find(text)) is alone


def test_a_city_is_meant_over_its_province():
    assert shipping.most_specific(shipping.find("西藏拉萨")).name == "拉萨"
    assert shipping.most_specific(shipping.find("新疆")).name == "新疆"
    assert shipping.most_specific(shipping.find("北京上海")).name == "北京"


@pytest.mark.parametrize("text, meant", [
    ("杭州到南京要几天", "南京"), ("从杭州寄到南京要几天", "南京"), ("北京到上海", "上海"),
    ("发往西藏拉萨吗", "拉萨"), ("我在杭州 寄到新疆乌鲁木齐多少钱", "乌鲁木齐"),
    ("寄到杭州", "杭州"),
])
def test_the_place_a_parcel_goes_to_is_meant(text, meant):
    assert shipping.most_specific(shipping.find(text), text).name == meant
