"""Rasa's FallbackClassifier, with a higher confidence floor for some intents.

Rasa's classifier asks the customer to rephrase or choose ("您是想问 A，还是 B？") when
the top intent's confidence is under one threshold or the top two are too close. Some
intents are read far more often on real text than they occur, because nearly all their
training examples are the team's: on the dev set (`make bench-source-out`, 4,596 real
messages, each corpus left out) `objection_competitor` was the answer 45 times for 18
messages that are one, and every one of its right readings was surer than 0.71 while
most wrong ones (bargaining that names only this shop) were under it. For such an
intent, `intent_thresholds` sets its own floor: under it the turn is clarified, the same
way as under `threshold`, instead of answered with that intent's script.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message

logger = logging.getLogger(__name__)

INTENT_THRESHOLDS_KEY = "intent_thresholds"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class IntentFloorFallbackClassifier(FallbackClassifier):
    """FallbackClassifier with `intent_thresholds`: {intent: its own minimum confidence}."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**FallbackClassifier.get_default_config(), INTENT_THRESHOLDS_KEY: {}}

    def _should_fallback(self, message: Message) -> bool:
        if super()._should_fallback(message):
            return True
        intent = message.data.get(INTENT) or {}
        floor = (self.component_config.get(INTENT_THRESHOLDS_KEY) or {}).get(
            intent.get(INTENT_NAME_KEY))
        confidence = intent.get(PREDICTED_CONFIDENCE_KEY)
        if floor is None or confidence is None or confidence >= floor:
            return False
        logger.debug("NLU confidence %.2f for intent '%s' is lower than its own "
                     "threshold %.2f.", confidence, intent.get(INTENT_NAME_KEY), floor)
        return True
