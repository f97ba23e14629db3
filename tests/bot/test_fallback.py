"""The fallback with intents' own thresholds (bot/nlu/fallback.py), on messages whose
intent ranking is set by hand, and the bench's reading of it (bench/thresholds.py)."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import pytest
from rasa.nlu.classifiers.fallback_classifier import (
    is_fallback_classifier_prediction,
    undo_fallback_prediction,
)
from rasa.shared.nlu.training_data.message import Message

from bench.thresholds import clarified, configured_floors
from bot.nlu.fallback import IntentFloorFallbackClassifier

FLOORS = {"objection_competitor": 0.7}


def classifier(floors: Dict[str, float]) -> IntentFloorFallbackClassifier:
    return IntentFloorFallbackClassifier({**IntentFloorFallbackClassifier.get_default_config(),
                                          "threshold": 0.3, "ambiguity_threshold": 0.05,
                                          "intent_thresholds": floors})


def message(*ranking: Tuple[str, float]) -> Message:
    intents = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    return Message(data={"text": "老顾客了便宜点", "intent": dict(intents[0]),
                         "intent_ranking": intents})


def parsed(floors: Dict[str, float], *ranking: Tuple[str, float]) -> Dict[str, Any]:
    processed = classifier(floors).process([message(*ranking)])[0]
    return {"intent": processed.get("intent"), "intent_ranking": processed.get("intent_ranking")}


def test_an_intent_under_its_own_floor_is_clarified_as_rasa_would() -> None:
    result = parsed(FLOORS, ("objection_competitor", 0.62), ("objection_price", 0.31))
    assert result["intent"]["name"] == "nlu_fallback"
    assert result["intent"]["confidence"] == 0.3  # Rasa's: the fallback threshold
    # Rasa's own helpers (rasa test, the review queue) see an ordinary fallback, and the
    # clarification still has both meanings to offer.
    assert is_fallback_classifier_prediction(result)
    assert undo_fallback_prediction(result)["intent"]["name"] == "objection_competitor"
    assert [i["name"] for i in result["intent_ranking"][1:3]] == [
        "objection_competitor", "objection_price"]


@pytest.mark.parametrize("ranking", [
    [("objection_competitor", 0.75), ("objection_price", 0.2)],   # sure enough
    [("objection_price", 0.62), ("objection_competitor", 0.31)],  # no floor of its own
])
def test_other_readings_are_answered(ranking: List[Tuple[str, float]]) -> None:
    assert parsed(FLOORS, *ranking)["intent"]["name"] == ranking[0][0]


def test_the_general_thresholds_still_apply() -> None:
    assert parsed(FLOORS, ("objection_price", 0.25), ("complain", 0.2))["intent"]["name"] \
        == "nlu_fallback"
    assert parsed(FLOORS, ("objection_price", 0.45), ("complain", 0.42))["intent"]["name"] \
        == "nlu_fallback"


def test_without_floors_it_is_rasas_fallback() -> None:
    ranking = [("objection_competitor", 0.62), ("objection_price", 0.31)]
    assert parsed({}, *ranking)["intent"]["name"] == "objection_competitor"
    assert IntentFloorFallbackClassifier.get_default_config()["intent_thresholds"] == {}


def test_the_bench_counts_the_same_turns_as_clarified() -> None:
    # (target, top, confidence, runner-up's confidence, runner-up)
    unsure = ("objection_price", "objection_competitor", 0.62, 0.31, "objection_price")
    sure = ("objection_competitor", "objection_competitor", 0.75, 0.2, "objection_price")
    assert clarified(unsure, 0.3, 0.05, FLOORS) and not clarified(unsure, 0.3, 0.05)
    assert not clarified(sure, 0.3, 0.05, FLOORS)


def test_the_served_floors_are_read_from_config() -> None:
    floors = configured_floors()
    assert floors and all(0.3 < floor < 1 for floor in floors.values())
