"""The objection playbook: types, technique choice, facts, no repetition."""

from __future__ import annotations

import re
import string
from typing import Any, Dict, List

import pytest
import yaml

from shop import knowledge, playbook
from shop.config import PROJECT_ROOT

PLAYBOOK = knowledge.objections()
TYPES = [t["key"] for t in PLAYBOOK["types"]]
MISCONCEPTIONS = PLAYBOOK["misconceptions"]
CATALOGUE = knowledge.catalogue()["products"]
ALLOWED_PLACEHOLDERS = {
    "product",
    "price",
    "per_day",
    "warranty",
    "warranty_years",
    "category",
    "highlight",
}
QUESTION_END = re.compile(r"[？?]$")


def facts_of(name: str) -> Dict[str, Any]:
    item = next(p for p in CATALOGUE if p["name"] == name)
    return playbook.product_facts(
        item["name"],
        float(item["price"]),
        item["warranty"],
        int(item["warranty_months"]),
        item["category"],
        item.get("specs") or {},
    )


def candidates(kind: str, with_product: bool) -> List[Dict[str, Any]]:
    return [
        s
        for s in PLAYBOOK["scripts"]
        if s["type"] == kind and (with_product or not s["needs_product"])
    ]


def placeholders(text: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# ------------------------------------------------------------ objection_type


@pytest.mark.parametrize(
    "intent, text, kind",
    [
        ("objection_price", "太贵了", "price"),
        ("objection_price", "没时间比价，太贵了", "price"),  # timing only splits a delay
        ("objection_think", "我再考虑考虑", "delay"),
        ("objection_think", "以后再说吧", "delay"),
        ("objection_think", "", "delay"),
        ("objection_think", "我现在没时间", "timing"),
        ("objection_think", "最近太忙了，回头再说", "timing"),
        ("objection_think", "没空看", "timing"),
        ("objection_think", "工作忙，抽不出时间", "timing"),
        ("objection_no_need", "家里已经有了", "no_need"),
        ("objection_competitor", "别家更便宜", "competitor"),
        ("objection_trust", "你们是不是假货", "trust"),
    ],
)
def test_objection_type(intent, text, kind):
    assert playbook.objection_type(intent, text) == kind


@pytest.mark.parametrize("intent", ["greet", "complain", "ask_price", "", "faq"])
def test_objection_type_of_other_intents_is_none(intent):
    assert playbook.objection_type(intent, "没时间") is None


def test_every_objection_intent_in_domain_has_a_type():
    intents = {t["intent"] for t in PLAYBOOK["types"]}
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    objection_intents = {i for i in domain["intents"] if i.startswith("objection_")}
    assert objection_intents == intents


# --------------------------------------------------------------- the playbook data


@pytest.mark.parametrize("kind", TYPES)
def test_every_type_has_replies_with_and_without_product(kind):
    scripts = [s for s in PLAYBOOK["scripts"] if s["type"] == kind]
    assert any(s["needs_product"] for s in scripts)
    assert any(not s["needs_product"] for s in scripts)
    generic = playbook.choose_reply(kind, None)
    assert placeholders(generic.text) == set()
    specific = playbook.choose_reply(kind, facts_of("美的风尊空调"))
    assert next(s for s in scripts if s["id"] == specific.script_id)["needs_product"]
    assert "{" not in specific.text


@pytest.mark.parametrize("kind", TYPES)
def test_every_listed_technique_has_scripts_and_is_allowed(kind):
    spec = next(t for t in PLAYBOOK["types"] if t["key"] == kind)
    techniques = {t["key"]: t for t in PLAYBOOK["techniques"]}
    for technique in spec["techniques"]:
        assert technique != "rebuttal"
        assert kind not in techniques[technique]["never_for"]
        assert any(
            s["type"] == kind and s["technique"] == technique for s in PLAYBOOK["scripts"]
        ), technique


@pytest.mark.parametrize("script", PLAYBOOK["scripts"], ids=lambda s: s["id"])
def test_script_shape(script):
    assert QUESTION_END.search(script["text"]), script["text"]
    assert script["type"] in TYPES
    assert script["technique"] != "rebuttal"
    names = placeholders(script["text"])
    assert names <= ALLOWED_PLACEHOLDERS
    assert bool(names) is script["needs_product"]


def test_script_ids_are_unique():
    ids = [s["id"] for s in PLAYBOOK["scripts"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("entry", MISCONCEPTIONS, ids=lambda m: m["key"])
def test_misconception_texts_end_with_a_question(entry):
    assert QUESTION_END.search(entry["text"])
    assert entry["patterns"]


# ------------------------------------------------------------------ product facts


def test_product_facts_for_a_known_product():
    facts = facts_of("美的风尊空调")
    # 72 months = 2190 days; 2999 / 2190 = 1.369…
    assert facts == {
        "product": "美的风尊空调",
        "price": 2999,
        "per_day": "1.37",
        "warranty": "整机保修6年，压缩机保修10年，免费上门安装",
        "warranty_years": 6,
        "category": "空调",
        "highlight": "1.5匹",
    }


@pytest.mark.parametrize(
    "price, months, per_day, years",
    [(2299, 12, "6.30", 1), (7999, 120, "2.19", 10), (999, 12, "2.74", 1), (100, 3, "1.10", 1)],
)
def test_product_facts_per_day(price, months, per_day, years):
    facts = playbook.product_facts("X", price, "保修", months, "耳机", {})
    assert facts["per_day"] == per_day
    assert facts["warranty_years"] == years
    assert facts["highlight"] == ""


@pytest.mark.parametrize("name", [p["name"] for p in CATALOGUE])
@pytest.mark.parametrize("kind", TYPES)
def test_every_script_is_filled_with_real_facts(kind, name):
    facts = facts_of(name)
    used: List[str] = []
    for _ in candidates(kind, with_product=True):
        reply = playbook.choose_reply(kind, facts, used)
        used.append(reply.script_id)
        assert "{" not in reply.text and "}" not in reply.text, reply.text
        assert QUESTION_END.search(reply.text)
    # Every product script was reached, so every placeholder was exercised.
    assert set(used) == {s["id"] for s in candidates(kind, with_product=True)}


# ---------------------------------------------------------------- choose_reply


@pytest.mark.parametrize("with_product", [True, False])
@pytest.mark.parametrize("kind", TYPES)
def test_never_rebuttal_without_a_misconception(kind, with_product):
    facts = facts_of("格力云佳空调") if with_product else None
    used: List[str] = []
    for text in ["太贵了", "再考虑一下", "别家便宜", "我怕质量不好", "没时间", ""] * 3:
        reply = playbook.choose_reply(kind, facts, used, text)
        assert reply.technique != "rebuttal"
        assert not reply.script_id.startswith("misconception:")
        assert reply.objection_type == kind
        used.append(reply.script_id)


@pytest.mark.parametrize("with_product", [True, False])
@pytest.mark.parametrize("kind", TYPES)
def test_no_script_repeats_until_all_were_used(kind, with_product):
    facts = facts_of("华为Mate60") if with_product else None
    pool = candidates(kind, with_product)
    used: List[str] = []
    for _ in range(len(pool) * 2 + 3):
        reply = playbook.choose_reply(kind, facts, used)
        window = used[-(len(pool) - 1):] if len(pool) > 1 else []
        assert reply.script_id not in window, (reply.script_id, used)
        used.append(reply.script_id)
    assert set(used[: len(pool)]) == {s["id"] for s in pool}


def test_product_scripts_come_first_when_a_product_is_known():
    reply = playbook.choose_reply("price", facts_of("美的风尊空调"))
    assert reply.script_id == "price_compensation_1"
    assert "每天只要1.37元" in reply.text
    assert reply.technique == "compensation"
    assert playbook.choose_reply("price", None).script_id == "price_compensation_3"


def test_technique_order_follows_the_type():
    used: List[str] = []
    techniques = []
    for _ in candidates("delay", with_product=False):
        reply = playbook.choose_reply("delay", None, used)
        used.append(reply.script_id)
        techniques.append(reply.technique)
    order = next(t["techniques"] for t in PLAYBOOK["types"] if t["key"] == "delay")
    assert [t for i, t in enumerate(techniques) if t not in techniques[:i]] == order


@pytest.mark.parametrize(
    "entry, pattern",
    [(m, p) for m in MISCONCEPTIONS for p in m["patterns"]],
    ids=lambda v: v if isinstance(v, str) else v["key"],
)
def test_misconception_detected_and_rebutted(entry, pattern):
    text = f"听说你们{pattern}，真的吗"
    assert playbook.misconception(text)["key"] == entry["key"]
    reply = playbook.choose_reply("trust", None, [], text)
    assert reply.technique == "rebuttal"
    assert reply.script_id == f"misconception:{entry['key']}"
    assert reply.text == entry["text"]


@pytest.mark.parametrize("text", ["太贵了", "保修几年", "能开发票吗", "支持退货吗", ""])
def test_no_misconception_in_plain_questions(text):
    assert playbook.misconception(text) is None


def test_a_misconception_is_corrected_only_once():
    text = "你们是不是不保修"
    first = playbook.choose_reply("trust", None, [], text)
    second = playbook.choose_reply("trust", None, [first.script_id], text)
    assert first.technique == "rebuttal"
    assert second.technique != "rebuttal"
    assert second.text != first.text


@pytest.mark.parametrize(
    "key, name", [("compensation", "补偿法"), ("yes_if", "“是的……如果”法"), ("nope", "nope")]
)
def test_technique_name(key, name):
    assert playbook.technique_name(key) == name
