"""The pinyin the ensemble's character model reads (bot/nlu/pinyin.py)."""

from __future__ import annotations

import pytest

from bot.nlu.pinyin import syllables


@pytest.mark.parametrize("typed, meant", [
    ("不会在订了", "不会再订了"),   # 在 for 再: the commonest pinyin-keyboard slip
    ("定单到哪了", "订单到哪了"),
    ("发漂能开吗", "发票能开吗"),
    ("已经收到货了", "以经收到货了"),
])
def test_homophone_typos_read_the_same(typed, meant) -> None:
    assert syllables(typed) == syllables(meant)
    assert typed != meant


def test_other_characters_stay_one_lower_case_token_and_punctuation_goes() -> None:
    assert syllables("iPhone15多少钱？") == "iphone15 duo shao qian"
    assert syllables("好的，谢谢！！") == "hao de xie xie"


@pytest.mark.parametrize("text", ["", "！！", "？。，", "   "])
def test_nothing_to_read_gives_an_empty_string(text) -> None:
    assert syllables(text) == ""


def test_tones_are_dropped_so_near_homophones_meet() -> None:
    assert syllables("买") == syllables("卖") == "mai"
