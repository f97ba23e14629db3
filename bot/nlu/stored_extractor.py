"""An entity extractor whose data comes from `knowledge/` and is stored in the model.

The catalogue's patterns (`entity_ruler.py`) and the place gazetteer (`places.py`) are
built from the shop's knowledge at training time and saved as JSON beside the model,
so a trained model finds what it was trained with, and retrains when the knowledge
changes (the fingerprint). Subclasses say how the data is built and how it is searched.
"""

from __future__ import annotations

import abc
import hashlib
import json
import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)


class StoredDataExtractor(GraphComponent, EntityExtractorMixin, abc.ABC):
    """Builds its data at training time, stores it in the model, extracts with it."""

    # The data's file name inside the model.
    FILE = "data.json"

    @classmethod
    @abc.abstractmethod
    def build(cls) -> Any:
        """The data, from `knowledge/` (JSON-serialisable)."""

    @abc.abstractmethod
    def setup(self, data: Any) -> None:
        """Prepares extraction with `data` (empty data: extract nothing)."""

    @abc.abstractmethod
    def extract(self, text: Text) -> List[Dict[str, Any]]:
        """Rasa entity dicts found in `text`."""

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrains when the knowledge changes, not only when the config does."""
        encoded = json.dumps(cls.build(), ensure_ascii=False, sort_keys=True).encode()
        return hashlib.sha256(encoded).hexdigest()

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        data: Any = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.setup(data)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> StoredDataExtractor:
        """Creates an untrained component (see parent class for full docstring)."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Builds the data from the knowledge and stores it in the model."""
        data = self.build()
        self.setup(data)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / self.FILE).write_text(json.dumps(data, ensure_ascii=False),
                                               encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> StoredDataExtractor:
        """Loads the data saved at training time (the model is self-contained)."""
        try:
            with model_storage.read_from(resource) as directory:
                data = json.loads((directory / cls.FILE).read_text("utf-8"))
        except (ValueError, FileNotFoundError):
            logger.warning("No %s in the model; %s disabled.", cls.FILE, cls.__name__)
            data = None
        return cls(config, model_storage, resource, data)

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the entities found to each message, after those already there."""
        for message in messages:
            entities = self.extract(message.get(TEXT) or "")
            if entities:
                message.set(
                    ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True
                )
        return messages
