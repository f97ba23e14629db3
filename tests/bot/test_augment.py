"""Polite variants of the team's request examples (bot/nlu/augment.py)."""

from __future__ import annotations

from bench.source_out import source_of_text
from bot.nlu import augment

WORDS = {"before": ["你好，"], "after": ["谢谢"]}


def test_the_committed_file_is_what_the_generator_writes() -> None:
    # A changed example or politeness word without `python -m bot.nlu.augment` fails here.
    expected = augment.render(augment.variants(augment.team_examples(), augment.politeness()))
    assert augment.OUT.read_text(encoding="utf-8") == expected


def test_each_request_gets_one_polite_variant_with_its_intent() -> None:
    out = augment.variants([("多少钱", "ask_price"), ("能开发票吗", "faq/invoice")], WORDS)
    assert len(out) == 2
    for (text, _), original in zip(out, ["多少钱", "能开发票吗"], strict=True):
        assert text in (f"你好，{original}", f"{original}谢谢")
    assert [intent for _, intent in out] == ["ask_price", "faq/invoice"]


def test_greetings_thanks_and_answers_are_not_varied() -> None:
    examples = [(text, intent) for text, intent in [
        ("你好", "greet"), ("谢谢", "thank"), ("好的", "affirm"), ("不用了", "deny"),
        ("再见", "goodbye"), ("DD20261105", "inform"), ("讲个笑话", "out_of_scope")]]
    assert augment.variants(examples, WORDS) == []


def test_a_variant_the_data_already_has_is_not_added_again() -> None:
    examples = [("有货吗", "ask_product"), ("有货吗谢谢", "ask_product")]
    assert augment.variants(examples, {"before": [], "after": ["谢谢"]}) == [
        ("有货吗谢谢谢谢", "ask_product")]


def test_the_choice_is_the_same_on_every_run() -> None:
    examples = [(f"第{n}台多少钱", "ask_price") for n in range(40)]
    words = {"before": ["你好，", "亲，"], "after": ["谢谢", "麻烦了"]}
    first = augment.variants(examples, words)
    assert first == augment.variants(examples, words)
    # and it spreads over the words rather than always taking one
    assert len({text.replace(f"第{n}台多少钱", "") for n, (text, _) in enumerate(first)}) > 2


def test_annotated_and_real_examples_are_left_alone() -> None:
    # A variant of a real message would leak it into training when the dev set leaves
    # its source out (bench/source_out.py).
    texts = {text for text, _ in augment.team_examples()}
    assert len(texts) > 1000
    assert not any("](" in text for text in texts)
    assert not texts & set(source_of_text())
