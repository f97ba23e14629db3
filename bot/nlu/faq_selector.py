"""Picks the answer to an FAQ question (retrieval intent faq/<key>): logistic regression.

Stands in for Rasa's ResponseSelector with the same output, so Rasa's own
`utter_faq` action, `rasa test` and the review queue read it unchanged:

    parse_data["response_selector"] = {
        "all_retrieval_intents": ["faq"],
        "faq": {"response": {"responses", "confidence", "intent_response_key",
                             "utter_action"},
                "ranking": [{"confidence", "intent_response_key"}, ...]},
    }

Why: the ResponseSelector was a TensorFlow model run on every message, 42 % of
the NLU pipeline's time and the last TensorFlow model in the assistant. Over the
same word and character n-gram counts, logistic regression picks the same answers
on the held-out set (README, NLU pipeline) in a fraction of a millisecond.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.linear_model import LogisticRegression

from bot.nlu import linear_model
from bot.nlu.features import has_sentence_features, sentence_matrix, transposable_weights

logger = logging.getLogger(__name__)

META_FILE = "faq_selector.json"


def utter_action(intent_response_key: str) -> str:
    return f"utter_{intent_response_key}"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class FaqSelector(GraphComponent):
    """Logistic regression from a message's sentence features to faq/<key>."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Featurizer]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "retrieval_intent": "faq",
            "max_iter": 1000,
            "C": 1.0,
            "ranking_length": 10,
            "random_state": 42,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        classifier: Optional[LogisticRegression] = None,
        labels: Optional[List[str]] = None,
        responses: Optional[Dict[str, List[Dict[str, Any]]]] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self.retrieval_intent: str = self.config["retrieval_intent"]
        self._model_storage = model_storage
        self._resource = resource
        self.classifier = classifier
        # With a single answer there is nothing to learn: it is always that one.
        self.labels: List[str] = labels or []
        self.responses: Dict[str, List[Dict[str, Any]]] = responses or {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "FaqSelector":
        return cls(config, model_storage, resource)

    # ----------------------------------------------------------------- training

    def _examples(self, training_data: TrainingData) -> List[Message]:
        return [
            e for e in training_data.intent_examples
            if e.get(INTENT) == self.retrieval_intent and e.get(INTENT_RESPONSE_KEY)
            and e.get(TEXT)
        ]

    def train(self, training_data: TrainingData) -> Resource:
        examples = self._examples(training_data)
        keys = [str(e.get(INTENT_RESPONSE_KEY)) for e in examples]
        self.labels = sorted(set(keys))
        prefix = utter_action(f"{self.retrieval_intent}/")
        self.responses = {
            name: list(variants) for name, variants in training_data.responses.items()
            if name.startswith(prefix)
        }
        missing = [k for k in self.labels if utter_action(k) not in self.responses]
        if missing:
            logger.warning("FAQ questions without an answer: %s", ", ".join(missing))
        self.classifier = None
        if len(self.labels) > 1:
            self.classifier = LogisticRegression(
                C=self.config["C"],
                max_iter=self.config["max_iter"],
                class_weight="balanced",
                random_state=self.config["random_state"],
            )
            self.classifier.fit(sentence_matrix(examples), keys)
            transposable_weights(self.classifier)  # loading does it too
        elif not self.labels:
            logger.warning("No %s/<key> examples: the FAQ selector answers nothing",
                           self.retrieval_intent)
        self.persist()
        return self._resource

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            if self.classifier is not None:
                linear_model.save(self.classifier, model_dir)
            meta = {"labels": self.labels, "responses": self.responses}
            (model_dir / META_FILE).write_text(
                json.dumps(meta, ensure_ascii=False), encoding="utf-8"
            )

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "FaqSelector":
        try:
            with model_storage.read_from(resource) as model_dir:
                meta = json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))
                classifier = None
                if (model_dir / linear_model.ARRAYS).exists():
                    classifier = linear_model.load(model_dir)
        except (ValueError, FileNotFoundError):
            logger.warning("FAQ selector not found in the model: it answers nothing")
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, classifier, meta["labels"],
                   meta["responses"])

    # --------------------------------------------------------------- prediction

    def _rankings(self, messages: List[Message]) -> List[List[Dict[str, Any]]]:
        if self.classifier is None:
            return [[{PREDICTED_CONFIDENCE_KEY: 1.0, INTENT_RESPONSE_KEY: label}
                     for label in self.labels] for _ in messages]
        probabilities = self.classifier.predict_proba(sentence_matrix(messages))
        classes = self.classifier.classes_
        length = self.config["ranking_length"]
        rankings = []
        for row in probabilities:
            order = np.argsort(-row, kind="stable")
            if length > 0:
                order = order[:length]
            rankings.append([
                {PREDICTED_CONFIDENCE_KEY: float(row[i]), INTENT_RESPONSE_KEY: str(classes[i])}
                for i in order
            ])
        return rankings

    def process(self, messages: List[Message]) -> List[Message]:
        if not self.labels:
            return messages
        featured = [m for m in messages if has_sentence_features(m)]  # not an empty text
        if not featured:
            return messages
        for message, ranking in zip(featured, self._rankings(featured), strict=True):
            top = ranking[0]
            key = top[INTENT_RESPONSE_KEY]
            action = utter_action(key)
            prediction = {
                RESPONSE_SELECTOR_PREDICTION_KEY: {
                    RESPONSE_SELECTOR_RESPONSES_KEY: self.responses.get(action) or [],
                    PREDICTED_CONFIDENCE_KEY: top[PREDICTED_CONFIDENCE_KEY],
                    INTENT_RESPONSE_KEY: key,
                    RESPONSE_SELECTOR_UTTER_ACTION_KEY: action,
                },
                RESPONSE_SELECTOR_RANKING_KEY: ranking,
            }
            properties = message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}
            retrieval_intents = list(properties.get(RESPONSE_SELECTOR_RETRIEVAL_INTENTS) or [])
            if self.retrieval_intent not in retrieval_intents:
                retrieval_intents.append(self.retrieval_intent)
            properties[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = retrieval_intents
            properties[self.retrieval_intent] = prediction
            message.set(RESPONSE_SELECTOR_PROPERTY_NAME, properties, add_to_output=True)
        return messages
