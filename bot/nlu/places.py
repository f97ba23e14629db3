"""Place names (`place` entities) as a Rasa graph component: 杭州, 新疆维吾尔自治区, 美国.

The gazetteer (`shop.shipping.surfaces`, from `knowledge/places.yml` and
`knowledge/shipping.yml`) is stored in the model at training time, so a trained model
finds the places it was trained with, like the catalogue extractor. Matching is the
longest written form at each position: jieba's segmentation is not needed, and a
place inside a longer token (发杭州) is still found.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from shop import shipping

logger = logging.getLogger(__name__)

GAZETTEER_FILE = "places.json"
ENTITY = "place"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class PlaceEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Extracts `place` entities (canonical name as value) by gazetteer."""

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrains when the place lists change, not only when the config does."""
        return hashlib.sha256(
            json.dumps(shipping.surfaces(), ensure_ascii=False, sort_keys=True).encode()
        ).hexdigest()

    def __init__(
        self,
        model_storage: ModelStorage,
        resource: Resource,
        gazetteer: Optional[Dict[str, str]] = None,
    ) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self._gazetteer = gazetteer or {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PlaceEntityExtractor:
        """Creates an untrained component (see parent class for full docstring)."""
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Stores the gazetteer in the model."""
        self._gazetteer = dict(shipping.surfaces())
        with self._model_storage.write_to(self._resource) as directory:
            (directory / GAZETTEER_FILE).write_text(
                json.dumps(self._gazetteer, ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> PlaceEntityExtractor:
        """Loads the gazetteer saved at training time."""
        try:
            with model_storage.read_from(resource) as directory:
                gazetteer = json.loads((directory / GAZETTEER_FILE).read_text("utf-8"))
        except (ValueError, FileNotFoundError):
            logger.warning("No place gazetteer in the model; place extractor disabled.")
            gazetteer = {}
        return cls(model_storage, resource, gazetteer)

    def extract(self, text: Text) -> List[Dict[str, Any]]:
        """Rasa entity dicts for the places in `text`."""
        if not self._gazetteer or not text:
            return []
        return [
            {
                "entity": ENTITY,
                "value": mention.name,
                "start": mention.start,
                "end": mention.end,
                "confidence": 1.0,
                "extractor": self.__class__.__name__,
            }
            for mention in shipping.find(text, self._gazetteer)
        ]

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds place entities to each message."""
        for message in messages:
            entities = self.extract(message.get(TEXT) or "")
            if entities:
                message.set(
                    ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True
                )
        return messages
