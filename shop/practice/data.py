"""The practice knowledge under knowledge/practice/ (scenarios, examples, rubric, texts)."""

from __future__ import annotations

from typing import Any, Dict, List

from shop import knowledge
from shop.config import settings

PRACTICE_DIR = settings.knowledge_dir / "practice"
TECHNIQUES = ("ignore", "compensation", "turnaround", "ask", "yes_if", "rebuttal")
NONE = "none"


def scenarios() -> List[Dict[str, Any]]:
    """Every scenario of the bank."""
    return list(knowledge.load("scenarios", PRACTICE_DIR)["scenarios"])


def scenario(scenario_id: str) -> Dict[str, Any]:
    """One scenario by id (KeyError when unknown)."""
    for entry in scenarios():
        if entry["id"] == scenario_id:
            return entry
    raise KeyError(scenario_id)


def technique_examples() -> List[Dict[str, str]]:
    """Labelled replies the technique classifier learns from."""
    return list(knowledge.load("technique_examples", PRACTICE_DIR)["examples"])


def rubric() -> List[Dict[str, Any]]:
    """The explainable rubric points."""
    return list(knowledge.load("rubric", PRACTICE_DIR)["points"])


def feedback() -> Dict[str, Any]:
    """Engine settings and feedback wording."""
    return knowledge.load("feedback", PRACTICE_DIR)


def technique_name(key: str) -> str:
    """Chinese name of a technique key (or of `none`)."""
    return str(feedback()["technique_names"].get(key, key))
