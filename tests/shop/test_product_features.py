"""Features named in a message, and which products have them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shop import product_features
from shop.db import repository


def test_the_words_of_the_features_named():
    assert product_features.asked("能烘干吗") == ["洗烘", "烘干"]
    assert product_features.asked("滚筒的有吗") == ["滚筒"]
    assert product_features.asked("多少钱") == []
    assert product_features.asked("") == []


def test_a_feature_is_found_in_specs_and_details_not_only_names(db):
    with Session(db) as session:
        machines = repository.catalogue.find_products(session=session, category="洗衣机")
        laptops = repository.catalogue.find_products(session=session, category="笔记本电脑")
        # 洗烘一体 is a spec; 电竞鼠标 a gift in the details; RTX a spec value.
        assert [p.name for p in product_features.having(machines, ["洗烘"])] == [
            "小米滚筒洗衣机", "西门子10公斤滚筒洗衣机"]
        assert [p.name for p in product_features.having(laptops, ["电竞"])] == [
            "联想拯救者Y9000P"]
        assert product_features.having(laptops, ["滚筒"]) == []
