"""Two dev-set runs compared message by message (bench/compare.py), on readings made
up for the purpose."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from sklearn.metrics import f1_score

from bench.compare import (
    CLARIFIED,
    compare,
    load,
    main,
    served_readings,
    sign_test,
)

INTENTS = ["ask_price", "complain", "order_status", "out_of_scope"]


def reading(text: str, intent: str, top: str, confidence: float = 0.9,
            second_confidence: float = 0.05, source: str = "ecd") -> Dict[str, Any]:
    return {"source": source, "text": text, "intent": intent, "top": top,
            "confidence": confidence, "second": "thank",
            "second_confidence": second_confidence}


def document(rows: List[Dict[str, Any]], threshold: float = 0.3,
             ambiguity: float = 0.05) -> Dict[str, Any]:
    return {"threshold": threshold, "ambiguity": ambiguity, "readings": rows}


def run(answers: List[str], gold: Optional[List[str]] = None) -> Dict[str, Any]:
    gold = gold or [INTENTS[i % len(INTENTS)] for i in range(len(answers))]
    return document([reading(f"m{i}", g, a) for i, (g, a) in
                     enumerate(zip(gold, answers, strict=True))])


def test_a_split_as_even_as_it_can_be_is_no_evidence() -> None:
    assert sign_test(0, 0) == 1.0
    assert sign_test(3, 3) == 1.0
    assert sign_test(22, 21) == 1.0


def test_a_one_sided_split_is_the_binomial_tail() -> None:
    assert sign_test(10, 0) == pytest.approx(2 / 2 ** 10)
    assert sign_test(0, 10) == sign_test(10, 0)
    # 38 better, 33 worse: P(X ≤ 33 | n = 71, ½), both tails
    tail = sum(math.comb(71, i) for i in range(34)) / 2 ** 71
    assert sign_test(38, 33) == pytest.approx(2 * tail)
    assert 0.5 < sign_test(38, 33) < 0.8


def test_an_unsure_reading_is_served_as_a_clarification() -> None:
    readings = served_readings(document([
        reading("低", "ask_price", "ask_price", confidence=0.25),
        reading("近", "ask_price", "ask_price", confidence=0.5, second_confidence=0.47),
        reading("稳", "ask_price", "ask_price", confidence=0.5, second_confidence=0.4),
    ]))
    assert readings[("ecd", "低")] == ("ask_price", CLARIFIED)
    assert readings[("ecd", "近")] == ("ask_price", CLARIFIED)
    assert readings[("ecd", "稳")] == ("ask_price", "ask_price")


def test_a_run_with_intent_floors_is_read_with_them() -> None:
    doc = document([reading("稳", "ask_price", "ask_price", confidence=0.9),
                    reading("争", "complain", "objection_competitor", confidence=0.6)])
    doc["intent_thresholds"] = {"objection_competitor": 0.7}
    readings = served_readings(doc)
    assert readings[("ecd", "稳")] == ("ask_price", "ask_price")
    assert readings[("ecd", "争")] == ("complain", CLARIFIED)


def test_the_same_run_twice_differs_in_nothing() -> None:
    answers = ["ask_price", "complain", "ask_price", "out_of_scope"] * 10
    readings = served_readings(run(answers))
    result = compare(readings, readings)
    assert result["better"] == result["worse"] == []
    assert result["sign_test_p"] == 1.0
    assert result["macro_f1_difference"] == 0.0
    assert result["interval"] == (0.0, 0.0)
    assert result["before"] == result["after"]


def test_the_scores_are_scikit_learns_with_a_clarification_wrong() -> None:
    gold = [INTENTS[i % 4] for i in range(40)]
    answers = [g if i % 3 else ("complain" if i % 2 else "thank") for i, g in enumerate(gold)]
    answers[5] = answers[7] = "whatever_else"
    readings = served_readings(run(answers, gold))
    result = compare(readings, readings)
    expected = f1_score(gold, answers, average="macro", labels=sorted(set(gold)))
    assert result["before"]["macro_f1"] == pytest.approx(expected)
    assert result["before"]["accuracy"] == pytest.approx(
        sum(g == a for g, a in zip(gold, answers, strict=True)) / len(gold))


def test_a_run_that_fixes_many_messages_is_told_apart_from_noise() -> None:
    gold = [INTENTS[i % 4] for i in range(200)]
    before = [g if i % 5 else "complain" for i, g in enumerate(gold)]   # 40 wrong or lucky
    after = list(gold)
    result = compare(served_readings(run(before, gold)), served_readings(run(after, gold)))
    fixed = sum(b != g for b, g in zip(before, gold, strict=True))
    assert len(result["better"]) == fixed and result["worse"] == []
    assert result["sign_test_p"] < 0.001
    low, high = result["interval"]
    assert 0 < low <= result["macro_f1_difference"] <= high


def test_a_reshuffle_of_errors_is_not() -> None:
    gold = [INTENTS[i % 4] for i in range(200)]
    before = [g if i % 10 else "thank" for i, g in enumerate(gold)]
    after = [g if (i + 5) % 10 else "thank" for i, g in enumerate(gold)]
    result = compare(served_readings(run(before, gold)), served_readings(run(after, gold)))
    assert len(result["better"]) == len(result["worse"]) > 0
    assert result["sign_test_p"] == 1.0
    low, high = result["interval"]
    assert low < 0 < high


def test_only_the_messages_both_runs_parsed_are_compared(tmp_path: Path) -> None:
    before = run(["ask_price", "complain"], ["ask_price", "complain"])
    after = document(before["readings"] + [reading("新", "complain", "ask_price")])
    paths = []
    for name, doc in (("a.json", before), ("b.json", after)):
        paths.append(tmp_path / name)
        paths[-1].write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = compare(load(paths[0]), load(paths[1]))
    assert result["messages"] == 2
    assert (result["only_before"], result["only_after"]) == (0, 1)
    assert result["after"]["accuracy"] == 1.0


def test_the_report_names_the_messages_gained_and_lost(tmp_path: Path, capsys) -> None:
    gold = ["ask_price", "complain", "order_status"]
    (tmp_path / "a.json").write_text(json.dumps(run(["ask_price", "ask_price", "order_status"],
                                                    gold)), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(run(["ask_price", "complain", "complain"],
                                                    gold)), encoding="utf-8")
    assert main([str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--examples", "5"]) == 0
    out = capsys.readouterr().out
    assert "better 1, worse 1: sign test p = 1.000" in out
    assert "+ m1  (complain: ask_price → complain)" in out
    assert "− m2  (order_status: order_status → complain)" in out
    assert "| complain | 1 | 0 → 2 | 0 → 1 |" in out
