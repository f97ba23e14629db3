"""The fallback thresholds' cross-validated choice (bench/thresholds.py), on parses
made up for the purpose: the sweep's arithmetic, the 5 % cap and the two-button pairs."""

from __future__ import annotations

from bench.thresholds import choose, fold_scores, pairs, sweep

# target, top, its confidence, runner-up's confidence, runner-up
RIGHT_SURE = ("ask_price", "ask_price", 0.9, 0.05, "ask_product")
WRONG_SURE = ("complain", "order_status", 0.8, 0.1, "complain")
WRONG_UNSURE = ("ask_product", "after_sales", 0.22, 0.21, "ask_product")
RIGHT_CLOSE = ("greet", "greet", 0.4, 0.38, "thank")
OUT_OF_SCOPE = ("out_of_scope", "greet", 0.1, 0.05, "thank")


def row(rows, threshold, ambiguity):
    return next(r for r in rows if r["threshold"] == threshold and r["ambiguity"] == ambiguity)


def test_cost_counts_wrong_answers_and_half_of_each_clarification() -> None:
    parses = [RIGHT_SURE] * 6 + [WRONG_SURE, WRONG_UNSURE, RIGHT_CLOSE, OUT_OF_SCOPE]
    rows = sweep(parses)
    # out_of_scope is not an in-scope message: 9 of them.
    low = row(rows, 0.15, 0.0)  # nothing clarified: two wrong answers
    assert (low["clarify_share"], low["wrong_share"], low["cost"]) == (0.0, round(2 / 9, 4),
                                                                      round(2 / 9, 4))
    high = row(rows, 0.25, 0.05)  # the unsure and the close call clarified
    assert high["clarify_share"] == round(2 / 9, 4)
    assert high["cost"] == round((1 + 0.5 * 2) / 9, 4)
    assert high["clarified_were_wrong"] == 0.5


def test_choice_is_the_cheapest_and_of_equals_the_one_that_clarifies_least() -> None:
    rows = [
        {"threshold": 0.35, "ambiguity": 0.0, "clarify_share": 0.10, "cost": 0.194},
        {"threshold": 0.3, "ambiguity": 0.0, "clarify_share": 0.07, "cost": 0.194},
        {"threshold": 0.25, "ambiguity": 0.0, "clarify_share": 0.04, "cost": 0.197},
    ]
    assert choose(rows)["threshold"] == 0.3
    assert choose(rows[2:])["threshold"] == 0.25


def test_pairs_show_how_often_the_right_intent_is_offered() -> None:
    unsure_other = ("thank", "goodbye", 0.2, 0.19, "greet")
    result = pairs([WRONG_UNSURE, unsure_other, RIGHT_SURE], threshold=0.25, ambiguity=0.0)
    at = {r["min_confidence"]: r for r in result}
    assert at[0.1]["offered_share"] == 1.0 and at[0.1]["right_pair_share"] == 0.5
    assert at[0.2]["offered_share"] == 0.5 and at[0.2]["right_pair_share"] == 1.0


def test_fold_scores_judge_the_top_intent_before_the_fallback() -> None:
    # WRONG_UNSURE would be clarified when served; here its wrong top intent counts.
    scores = fold_scores([RIGHT_SURE, RIGHT_SURE, WRONG_SURE, WRONG_UNSURE])
    assert scores["accuracy"] == 0.5
    # F1 over the targets: ask_price 1.0, complain 0, ask_product 0.
    assert scores["macro_f1"] == round(1 / 3, 4)
