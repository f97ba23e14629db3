"""Readings a message's own words rule out: the next intent is taken instead.

Some intents are read far more often on real text than they occur, for messages whose
words say they cannot be meant. `inform` is a bare answer the assistant asked for (an
order number, 尾号3366, a product's name); customers quote numbers inside questions
(是698吗, 买三袋是20吗), and the classifiers, which learnt `inform` from numbers, read
them as such: on the dev set (`make bench-source-out`, 4,910 real messages) `inform` was
the answer 37 times for 3 messages that are one, 33 of the others questions.

For each such intent, knowledge/language.yml `not_meant` lists the signs (words
anywhere, particles at the end, or the only words a message is made of) and, where
needed, words that keep the reading possible after all (`unless`); an intent ruled out
for two reasons has a list of such groups. When the top
reading is that intent and a sign is there, the ranking is read given that it is not:
the intent is removed and the others divided by what is left (p / (1 − p_intent)), so a
sure second reading stays sure and an unsure one is still clarified by the fallback
after this component.

A retrieval intent's answer may be guarded alone (`faq/delivery_time`): the guard runs
after the FAQ selector and reads the answer it picked, so 已经拍下了什么时候发货 (an order
placed: `order_status`, guide rule 6) gives way while 已下单了地址怎么改 stays an FAQ.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Pattern, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import RESPONSE_SELECTOR_PREDICTION_KEY, RESPONSE_SELECTOR_PROPERTY_NAME
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from shop import knowledge

logger = logging.getLogger(__name__)

_TRAILING = "?？!！。.~～、，,… "


def _alternatives(signs: Dict[str, Any], key: str) -> str:
    """The signs under `key` as one regex alternation, longest first ("" if none)."""
    words = sorted((str(w) for w in signs.get(key) or []), key=len, reverse=True)
    return "|".join(map(re.escape, words))


def sign_pattern(signs: Dict[str, Any]) -> Optional[Pattern[str]]:
    """A regex that finds one of `words` anywhere, one of `ends` at the end, or a
    message made of nothing but `only` (and punctuation or white space)."""
    words, ends, only = (_alternatives(signs, key) for key in ("words", "ends", "only"))
    parts = [f"(?:{words})"] if words else []
    if ends:
        parts.append(rf"(?:{ends})[{re.escape(_TRAILING)}]*$")
    if only:
        parts.append(rf"^(?:{only}|[{re.escape(_TRAILING)}])+$")
    return re.compile("|".join(parts)) if parts else None


def without(ranking: List[Dict[str, Any]], intent: str) -> List[Dict[str, Any]]:
    """The ranking given that the message is not `intent`: p / (1 − p_intent)."""
    removed = sum(float(r[PREDICTED_CONFIDENCE_KEY]) for r in ranking
                  if r[INTENT_NAME_KEY] == intent)
    left = max(1.0 - removed, 1e-9)
    return [{**r, PREDICTED_CONFIDENCE_KEY: min(1.0, float(r[PREDICTED_CONFIDENCE_KEY]) / left)}
            for r in ranking if r[INTENT_NAME_KEY] != intent]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class IntentGuard(GraphComponent):
    """After the intent classifier: a top reading its signs rule out gives way."""

    def __init__(self, table: Dict[str, Any]) -> None:
        # Per intent, its signs and the words that keep the reading possible after all (a
        # train's 要多久 is travel). An intent may have several groups, each with its own
        # `unless` (a fault and a fee rule out a product question for different reasons).
        self.groups: Dict[str, List[Tuple[Pattern[str], Optional[Pattern[str]]]]] = {}
        for intent, groups in (table or {}).items():
            for signs in groups if isinstance(groups, list) else [groups]:
                pattern = sign_pattern(signs or {})
                if pattern is None:
                    continue
                unless = _alternatives(signs or {}, "unless")
                self.groups.setdefault(str(intent), []).append(
                    (pattern, re.compile(unless) if unless else None))

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage,
               resource: Resource, execution_context: ExecutionContext) -> "IntentGuard":
        return cls(knowledge.load("language").get("not_meant") or {})

    def ruled_out(self, intent: Optional[str], text: Optional[str],
                  answer: Optional[str] = None) -> bool:
        """Whether `text` cannot mean `intent`, or its retrieval answer (faq/<key>)."""
        return any(self._rules_out(key, text or "") for key in (intent, answer) if key)

    def _rules_out(self, key: str, text: str) -> bool:
        return any(pattern.search(text) and not (unless and unless.search(text))
                   for pattern, unless in self.groups.get(key, []))

    @staticmethod
    def _answer(message: Message, intent: Optional[str]) -> Optional[str]:
        """faq/<key>: the answer the FAQ selector picked for a retrieval intent on top."""
        selected = (message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}).get(intent or "")
        prediction = (selected or {}).get(RESPONSE_SELECTOR_PREDICTION_KEY) or {}
        return prediction.get(INTENT_RESPONSE_KEY)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            top = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if not self.ruled_out(top, message.get(TEXT), self._answer(message, top)):
                continue
            reranked = without(message.get(INTENT_RANKING_KEY) or [], top)
            if not reranked:
                continue
            logger.debug("'%s' is not '%s': read as '%s'", message.get(TEXT), top,
                         reranked[0][INTENT_NAME_KEY])
            message.set(INTENT, reranked[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, reranked, add_to_output=True)
        return messages
