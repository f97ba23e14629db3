"""Rasa's LogisticRegressionClassifier with its feature row built once, directly.

Same model, same config, same predictions (tests/test_classifiers.py compares the
rows with Rasa's): `_create_X` is bot.features.sentence_matrix, which skips the
sequence features Rasa stacks and throws away, and the weights are kept in the
order scipy multiplies without copying them (bot.features.transposable_weights).
"""

from __future__ import annotations

from typing import List

import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.message import Message

from bot.features import sentence_matrix, transposable_weights


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class IntentClassifier(LogisticRegressionClassifier):
    """Logistic regression over the word and character n-gram counts (config.yml)."""

    def _create_X(self, messages: List[Message]) -> scipy.sparse.csr_matrix:
        return sentence_matrix(messages)

    def process(self, messages: List[Message]) -> List[Message]:
        transposable_weights(self.clf)
        return super().process(messages)
