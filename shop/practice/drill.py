"""A drill: one practice round from opening objection to final score, stored as it goes.

Used by the terminal (`make practice`) and, later, by the chat channels. Practice
data lives in its own tables: it never opens tickets, never touches customer
records and never counts as customer traffic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from statistics import mean
from typing import Any, Dict, List, Optional

from shop import knowledge
from shop.db import repository
from shop.db.engine import session_scope
from shop.practice import data
from shop.practice.engine import (
    CustomerState,
    TurnFeedback,
    choose_scenario,
    customer_reply,
    score_reply,
)


@dataclass(frozen=True)
class TurnRecord:
    """What is kept of a scored turn (also rebuilt from the database)."""

    technique: str
    score: int
    rubric: List[Dict[str, Any]]


@dataclass
class TurnResult:
    """The outcome of one trainee reply."""

    feedback: TurnFeedback
    feedback_lines: List[str]
    customer_text: str
    finished: bool
    summary_lines: List[str] = field(default_factory=list)


class Drill:
    """One trainee against one simulated customer."""

    def __init__(self, trainee: str, scenario_id: Optional[str] = None,
                 difficulty: Optional[int] = None, objection_type: Optional[str] = None,
                 seed: Optional[int] = None) -> None:
        seed = random.SystemRandom().randrange(1 << 30) if seed is None else seed
        scenario = choose_scenario(random.Random(seed), scenario_id, difficulty, objection_type)
        with session_scope() as db:
            record = repository.practice.start_practice(
                session=db, trainee=trainee.strip() or "trainee", scenario_id=scenario["id"],
                objection_type=scenario["objection_type"], seed=seed,
            )
            self._setup(record.id, record.trainee, scenario, seed)

    def _setup(self, practice_id: int, trainee: str, scenario: Dict[str, Any], seed: int) -> None:
        self.id = practice_id
        self.trainee = trainee
        self.scenario = scenario
        self.current = dict(scenario)  # the objection being handled now
        self.rng = random.Random(seed)  # the simulated customer's only source of chance
        self.state = CustomerState()
        self.turns: List[TurnRecord] = []
        self.customer_text = scenario["opening"]
        self.outcome: Optional[str] = None

    @classmethod
    def resume(cls, practice_id: int) -> "Drill":
        """Rebuilds a stored session by replaying its turns (any process, any channel)."""
        with session_scope() as db:
            record = repository.practice.get_practice(session=db, practice_id=practice_id)
            if record is None:
                raise KeyError(practice_id)
            stored = [TurnRecord(t.technique, t.score, list(t.rubric)) for t in record.turns]
            outcome, trainee, scenario_id, seed = (
                record.outcome, record.trainee, record.scenario_id, record.seed
            )
        practice = cls.__new__(cls)
        practice._setup(practice_id, trainee, data.scenario(scenario_id), seed)
        for turn in stored:
            practice._customer_answers(turn.score)
            practice.turns.append(turn)
        practice.outcome = outcome
        return practice

    def _customer_answers(self, score: int) -> Any:
        answer = customer_reply(self.current, self.state, score, self.rng)
        if answer.objection_type:
            self.current = objection_view(self.scenario, answer.objection_type)
        self.customer_text = answer.text
        return answer

    @property
    def max_turns(self) -> int:
        return int(data.feedback()["settings"]["max_turns"])

    def opening_lines(self) -> List[str]:
        """The scenario card and the customer's first objection."""
        texts = data.feedback()["texts"]
        persona = self.scenario["persona"]
        objection = _objection_name(self.scenario["objection_type"])
        return [
            texts["opening"].format(
                product=self.scenario["product"], name=persona.get("name", "客户"),
                tier=persona["tier"], temperament=persona["temperament"],
                difficulty=self.scenario["difficulty"], objection=objection),
            texts["customer_says"].format(text=self.customer_text),
        ]

    def reply(self, text: str) -> TurnResult:
        """Scores the trainee's reply, stores it and lets the customer answer."""
        if self.outcome is not None:
            raise RuntimeError("the practice session is over")
        handled = self.current
        feedback = score_reply(text, handled)
        rubric = [r.as_dict() for r in feedback.rubric]
        self.turns.append(TurnRecord(feedback.technique, feedback.score, rubric))
        asked = self.customer_text
        answer = self._customer_answers(feedback.score)
        outcome = answer.outcome or ("turns" if len(self.turns) >= self.max_turns else None)
        with session_scope() as db:
            repository.practice.add_practice_turn(
                session=db, practice_id=self.id, turn_no=len(self.turns), customer_text=asked,
                reply_text=text, technique=feedback.technique, suitable=feedback.suitable,
                score=feedback.score, rubric=rubric,
            )
        texts = data.feedback()["texts"]
        result = TurnResult(
            feedback=feedback,
            feedback_lines=feedback.lines(handled),
            customer_text=texts["customer_says"].format(text=answer.text),
            finished=outcome is not None,
        )
        if outcome is not None:
            result.summary_lines = self.finish(outcome)
        return result

    def finish(self, outcome: str = "abandoned") -> List[str]:
        """Ends the session, stores the final score and returns the summary lines."""
        self.outcome = outcome
        score = self.final_score()
        with session_scope() as db:
            repository.practice.finish_practice(session=db, practice_id=self.id, outcome=outcome,
                                       score=score)
        return summary_lines(outcome, score, self.breakdown())

    def final_score(self) -> int:
        """The mean turn score, with a bonus for winning the customer over."""
        if not self.turns:
            return 0
        score = mean(t.score for t in self.turns)
        if self.outcome == "agreed":
            score += 10
        return int(round(max(0, min(100, score))))

    def breakdown(self) -> Dict[str, Dict[str, float]]:
        """Average turn score per technique used, and points per rubric item."""
        by_technique: Dict[str, List[int]] = {}
        by_rubric: Dict[str, List[int]] = {}
        for turn in self.turns:
            by_technique.setdefault(turn.technique, []).append(turn.score)
            for point in turn.rubric:
                by_rubric.setdefault(point["name"], []).append(point["delta"])
        return {
            "technique": {k: round(mean(v), 1) for k, v in by_technique.items()},
            "rubric": {k: round(mean(v), 1) for k, v in by_rubric.items()},
        }


def summary_lines(outcome: str, score: int, breakdown: Dict[str, Dict[str, float]]) -> List[str]:
    """The end-of-session summary in Chinese."""
    texts = data.feedback()["texts"]
    techniques = "、".join(
        f"{data.technique_name(k)} {v:.0f}分" for k, v in breakdown["technique"].items()
    )
    rubric = "、".join(f"{k} {v:+.0f}" for k, v in breakdown["rubric"].items())
    return [
        texts["final"].format(outcome=texts["outcomes"][outcome], score=score),
        texts["by_technique"].format(items=techniques or "-"),
        texts["by_rubric"].format(items=rubric or "-"),
    ]


def _objection_name(kind: str) -> str:
    for entry in knowledge.objections()["types"]:
        if entry["key"] == kind:
            return str(entry["name"])
    return kind


def objection_view(scenario: Dict[str, Any], kind: str) -> Dict[str, Any]:
    """The scenario as it stands once the customer raised a new objection."""
    playbook = next(t for t in knowledge.objections()["types"] if t["key"] == kind)
    view = {**scenario, "objection_type": kind,
            "suitable_techniques": list(playbook["techniques"])}
    # The scenario's reference answer was written for the first objection; the
    # second objection brings its own where the bank has one.
    view.pop("model_reply", None)
    second = scenario.get("follow_ups", {}).get("second_objection") or {}
    if second.get("type") == kind and second.get("model_reply"):
        view["model_reply"] = {**second["model_reply"], "objection_type": kind}
    return view
