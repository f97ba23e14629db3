"""Scoring a trainee's reply and playing the simulated customer (pure logic).

A turn's score (0–100) is the rubric (phrases that earn or lose points, each one
explainable by the phrase that triggered it) plus points for a technique that
suits the objection. The simulated customer softens after good replies, pushes
back or raises a second objection after weak ones, and agrees or leaves according
to their temperament.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

from shop import knowledge
from shop.practice import data
from shop.practice.classifier import Prediction, default_classifier, normalize


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


def evaluate_rubric(reply: str, scenario: Optional[Dict[str, Any]] = None) -> List[RubricResult]:
    """Checks every rubric point against the reply, keeping the phrase that decided it.

    The off-topic check needs the scenario; without one it is skipped.
    """
    text = normalize(reply)
    results = []
    for point in data.rubric():
        checked = _without(text, point.get("exempt") or [])
        if point.get("check") == "off_topic":
            phrase = _off_topic_term(checked, scenario) if scenario else None
        else:
            phrase = _first_match(checked, point)
        if point["kind"] == "earn":
            delta = int(point["points"]) if phrase else 0
        else:
            delta = -int(point["points"]) if phrase else 0
            if not phrase:
                continue  # nothing lost: not worth a line of feedback
        results.append(RubricResult(point["key"], point["name"], delta, phrase, point["tip"]))
    return results


def _without(text: str, exempt: List[str]) -> str:
    """The text with exempt expressions blanked out, so their parts never match."""
    for expression in _normalized_longest_first(tuple(exempt)):
        text = text.replace(expression, "□" * len(expression))
    return text


@lru_cache(maxsize=64)
def _normalized_longest_first(expressions: Tuple[str, ...]) -> Tuple[str, ...]:
    """Exempt expressions in the reply's canonical form, computed once per rubric point."""
    return tuple(sorted((normalize(e) for e in expressions), key=len, reverse=True))


def _first_match(text: str, point: Dict[str, Any]) -> Optional[str]:
    """The first phrase of the point found in the text, else the first pattern match."""
    phrase = next((p for p in point.get("phrases") or [] if p in text), None)
    if phrase:
        return phrase
    for pattern in point.get("patterns") or []:
        found = _compiled(pattern).search(text)
        if found:
            return found.group(0)
    return None


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> "re.Pattern[str]":
    return re.compile(pattern)


def _off_topic_term(text: str, scenario: Dict[str, Any]) -> Optional[str]:
    """A catalogue term in the reply that has nothing to do with the scenario."""
    context = _scenario_context(scenario)
    boundaries: Optional[set] = None
    for surface, _label, value in _catalogue_terms():
        if surface not in text or value in context or surface in context:
            continue
        if boundaries is None:
            boundaries = _word_boundaries(text)
        # Only whole words: 完美的 contains 美的 but says nothing about the brand.
        start = text.find(surface)
        while start != -1:
            if start in boundaries and start + len(surface) in boundaries:
                return surface
            start = text.find(surface, start + 1)
    return None


def _word_boundaries(text: str) -> set:
    """Offsets where jieba (knowing every catalogue term) puts a word boundary."""
    offsets = {0}
    for _word, _start, end in _segmenter().tokenize(text):
        offsets.add(end)
    return offsets


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    import jieba

    segmenter = jieba.Tokenizer()
    for surface, _label, _value in _catalogue_terms():
        segmenter.add_word(surface, freq=2000)
    return segmenter


def _scenario_context(scenario: Dict[str, Any]) -> str:
    """Everything the scenario talks about: its product (with brand and category),
    its facts and every line the customer may say."""
    follow = scenario.get("follow_ups") or {}
    second = follow.get("second_objection") or {}
    parts = [scenario.get("product", ""), scenario.get("product_line", ""),
             scenario.get("product_facts", ""), scenario.get("opening", ""),
             scenario.get("real_concern", ""), second.get("text", ""),
             *follow.get("softened", []), *follow.get("pushback", [])]
    product = knowledge.catalogue_product(scenario.get("product", ""))
    if product:
        parts += [product.get("brand", ""), product.get("category", "")]
    return normalize(" ".join(str(part) for part in parts))


@lru_cache(maxsize=1)
def _catalogue_terms() -> Tuple[Tuple[str, str, str], ...]:
    """Catalogue terms, longest first so that 美的风尊 is reported rather than 美的."""
    terms = {(normalize(surface), label, value)
             for surface, label, value in knowledge.catalogue_terms()}
    return tuple(sorted(terms, key=lambda term: len(term[0]), reverse=True))


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
    rubric = evaluate_rubric(reply, scenario)
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
