"""Scoring a trainee's reply and playing the simulated customer (pure logic).

A turn's score (0–100) is the rubric (phrases that earn or lose points, each one
explainable by the phrase that triggered it) plus points for a technique that
suits the objection. The simulated customer softens after good replies, pushes
back or raises a second objection after weak ones, and agrees or leaves according
to their temperament.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from actions import knowledge
from actions.practice import data
from actions.practice.classifier import Prediction, default_classifier, normalize


@dataclass(frozen=True)
class RubricResult:
    """One rubric point: what was earned or lost, and because of which phrase."""

    key: str
    name: str
    delta: int
    phrase: Optional[str]
    tip: str

    def as_dict(self) -> Dict[str, Any]:
        return {"key": self.key, "name": self.name, "delta": self.delta,
                "phrase": self.phrase, "tip": self.tip}


@dataclass(frozen=True)
class TurnFeedback:
    """Everything the trainee learns about one reply."""

    technique: str
    confidence: float
    suitable: bool
    rubric: List[RubricResult]
    score: int
    model_answer: Dict[str, str]

    def lines(self, scenario: Dict[str, Any]) -> List[str]:
        """The feedback as Chinese lines for a chat or a terminal."""
        texts = data.feedback()["texts"]
        if self.technique == data.NONE:
            lines = [texts["technique_none"]]
        else:
            lines = [texts["technique_used"].format(
                technique=data.technique_name(self.technique),
                confidence=round(self.confidence * 100))]
            if self.suitable:
                lines.append(texts["suitable"])
        if not self.suitable:
            suggested = "、".join(data.technique_name(t) for t in scenario["suitable_techniques"])
            key = "suggest" if self.technique == data.NONE else "unsuitable"
            lines.append(texts[key].format(suggested=suggested))
        for point in self.rubric:
            if point.delta > 0:
                lines.append(texts["earned"].format(name=point.name, points=point.delta,
                                                    phrase=point.phrase))
            elif point.delta < 0:
                lines.append(texts["lost"].format(name=point.name, points=point.delta,
                                                  phrase=point.phrase, tip=point.tip))
            else:
                lines.append(texts["missed"].format(name=point.name, tip=point.tip))
        lines.append(texts["turn_score"].format(score=self.score))
        lines.append(texts["model_answer"].format(
            technique=data.technique_name(self.model_answer["technique"]),
            text=self.model_answer["text"]))
        return lines


def evaluate_rubric(reply: str) -> List[RubricResult]:
    """Checks every rubric point against the reply, keeping the phrase that decided it."""
    text = normalize(reply)
    results = []
    for point in data.rubric():
        phrase = next((p for p in point["phrases"] if p in text), None)
        if point["kind"] == "earn":
            delta = int(point["points"]) if phrase else 0
        else:
            delta = -int(point["points"]) if phrase else 0
            if not phrase:
                continue  # nothing lost: not worth a line of feedback
        results.append(RubricResult(point["key"], point["name"], delta, phrase, point["tip"]))
    return results


def model_answer(scenario: Dict[str, Any], avoid: str = "") -> Dict[str, str]:
    """A reference reply with a technique that suits this objection: the scenario's
    own, else a script of the objection playbook."""
    own = scenario.get("model_reply")
    if own and own.get("objection_type", scenario["objection_type"]) == scenario["objection_type"]:
        return {"technique": own["technique"], "text": own["text"]}
    scripts = knowledge.objections()["scripts"]
    for technique in scenario["suitable_techniques"]:
        candidates = [
            s for s in scripts
            if s["type"] == scenario["objection_type"] and s["technique"] == technique
            and not s["needs_product"] and s["text"] != avoid
        ]
        if candidates:
            return {"technique": technique, "text": candidates[0]["text"]}
    misconceptions = knowledge.objections().get("misconceptions", [])
    if "rebuttal" in scenario["suitable_techniques"] and misconceptions:
        return {"technique": "rebuttal", "text": misconceptions[0]["text"]}
    return {"technique": data.NONE, "text": ""}


def score_reply(reply: str, scenario: Dict[str, Any],
                prediction: Optional[Prediction] = None) -> TurnFeedback:
    """Scores one reply to the scenario's current objection."""
    settings = data.feedback()["settings"]
    prediction = prediction or default_classifier().predict(reply)
    technique = prediction.technique
    if prediction.confidence < settings["min_confidence"]:
        technique = data.NONE
    suitable = technique in scenario["suitable_techniques"]
    rubric = evaluate_rubric(reply)
    points = sum(r.delta for r in rubric)
    if suitable:
        points += settings["technique_points"]
    elif technique != data.NONE:
        points += settings["unsuitable_technique_points"]
    return TurnFeedback(
        technique=technique,
        confidence=prediction.confidence,
        suitable=suitable,
        rubric=rubric,
        score=max(0, min(100, points)),
        model_answer=model_answer(scenario),
    )


@dataclass
class CustomerState:
    """How the simulated customer feels so far."""

    good: int = 0
    weak: int = 0
    second_objection_raised: bool = False
    said: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class CustomerTurn:
    """What the simulated customer says next, and whether the session ends."""

    text: str
    outcome: Optional[str] = None  # agreed / left / None (goes on)
    objection_type: Optional[str] = None  # set when a new objection is raised


def customer_reply(scenario: Dict[str, Any], state: CustomerState, score: int,
                   rng: random.Random) -> CustomerTurn:
    """The customer's answer to a reply that scored `score`; updates `state`."""
    settings = data.feedback()["settings"]
    temperament = scenario["persona"]["temperament"]
    follow = scenario["follow_ups"]
    if score >= settings["soften_at"].get(temperament, 65):
        state.good += 1
        if state.good >= settings["good_replies_to_agree"].get(temperament, 2):
            return CustomerTurn(follow["agree"], outcome="agreed")
        return CustomerTurn(_fresh(follow["softened"], state, rng))
    if score < settings["weak_below"]:
        state.weak += 1
        if state.weak >= settings["weak_replies_to_leave"].get(temperament, 3):
            return CustomerTurn(follow["leave"], outcome="left")
        second = follow.get("second_objection")
        if second and not state.second_objection_raised:
            state.second_objection_raised = True
            return CustomerTurn(second["text"], objection_type=second["type"])
    return CustomerTurn(_fresh(follow["pushback"], state, rng))


def _fresh(lines: List[str], state: CustomerState, rng: random.Random) -> str:
    """A line the customer has not said yet (or any, once all were said)."""
    unused = [line for line in lines if line not in state.said] or list(lines)
    line = rng.choice(unused)
    state.said.append(line)
    return line


def choose_scenario(rng: random.Random, scenario_id: Optional[str] = None,
                    difficulty: Optional[int] = None,
                    objection_type: Optional[str] = None) -> Dict[str, Any]:
    """A scenario by id, or a random one matching the filters."""
    if scenario_id:
        return data.scenario(scenario_id)
    pool = [
        s for s in data.scenarios()
        if (difficulty is None or s["difficulty"] == difficulty)
        and (objection_type is None or s["objection_type"] == objection_type)
    ]
    if not pool:
        raise KeyError("no scenario matches")
    return rng.choice(pool)
