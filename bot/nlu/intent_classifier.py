"""Rasa's LogisticRegressionClassifier with its feature row built once, directly.

Same model, same config, same predictions (tests/test_classifiers.py compares the
rows and scores with Rasa's):
- `_create_X` is bot.nlu.features.sentence_matrix, which skips the sequence features
  Rasa stacks and throws away;
- the weights are kept in the order scipy multiplies without copying them
  (bot.nlu.features.transposable_weights);
- the fitted model is stored as arrays (bot.nlu.linear_model) instead of with skops,
  whose import cost seconds of the server's start-up.

One option Rasa's lacks: `class_weight_power`. Rasa weighs each intent by
n / (k · n_intent) ("balanced"); the weight here is that to the given power, so 1 is
Rasa's and 0 weighs every example alike.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any, Dict, List, Text

import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import linear_model
from bot.nlu.features import has_sentence_features, sentence_matrix, transposable_weights

logger = logging.getLogger(__name__)


def class_weights(labels: List[str], power: float) -> Dict[str, float]:
    """Rasa's "balanced" weights, n / (k · n_intent), raised to `power`."""
    counts = Counter(labels)
    return {label: (len(labels) / (len(counts) * count)) ** power
            for label, count in counts.items()}


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class IntentClassifier(LogisticRegressionClassifier):
    """Logistic regression over the word and character n-gram counts (config.yml)."""

    def _create_X(self, messages: List[Message]) -> scipy.sparse.csr_matrix:
        return sentence_matrix(messages)

    def process(self, messages: List[Message]) -> List[Message]:
        """As Rasa's, but a message without features (an empty text: Rasa's HTTP API
        takes one, found by tests/e2e/test_fuzz.py as a 500) gets no intent, with
        confidence 0, instead of failing the whole parse; the fallback answers it."""
        featured = [m for m in messages if has_sentence_features(m)]
        if featured:
            super().process(featured)
        for message in messages:
            if not has_sentence_features(message):
                # Confidence 0: the FallbackClassifier (which needs an intent) falls back.
                message.set("intent", {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set("intent_ranking", [], add_to_output=True)
        return messages

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "class_weight_power": 1.0}

    def train(self, training_data: TrainingData) -> Resource:
        labels = [e.get(INTENT) for e in training_data.intent_examples
                  if e.get(INTENT) and e.get(TEXT)]  # the examples Rasa's train() fits
        self.clf.set_params(class_weight=class_weights(labels, self.config["class_weight_power"]))
        resource = super().train(training_data)
        transposable_weights(self.clf)  # loading does it too (bot.nlu.linear_model.load)
        return resource

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            linear_model.save(self.clf, model_dir)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "IntentClassifier":
        component = cls.create(config, model_storage, resource, execution_context)
        try:
            with model_storage.read_from(resource) as model_dir:
                component.clf = linear_model.load(model_dir)
        except (ValueError, FileNotFoundError):
            # Rasa's own behaviour for a missing resource: an untrained classifier.
            logger.warning("Intent classifier not found in the model")
        return component
