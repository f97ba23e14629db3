"""Entities read by a parser of `shop/`, not learnt: a graph component per parser.

Room sizes (15平米) and budgets (3000以内) are read by the same code the actions use,
so a message's entity and the action's reading cannot disagree. Nothing is trained,
so nothing is stored in the model.
"""

from __future__ import annotations

import abc
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message


class ParsedEntityExtractor(GraphComponent, EntityExtractorMixin, abc.ABC):
    """Adds at most one entity `ENTITY` per message, from `find`."""

    ENTITY = ""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage,
               resource: Resource, execution_context: ExecutionContext
               ) -> "ParsedEntityExtractor":
        return cls()

    @staticmethod
    @abc.abstractmethod
    def find(text: Text) -> Optional[Tuple[str, int, int]]:
        """(value, start, end) of the entity in the text, or None."""

    @classmethod
    def extract(cls, text: Text) -> List[Dict[str, Any]]:
        found = cls.find(text)
        if found is None:
            return []
        value, start, end = found
        return [{"entity": cls.ENTITY, "value": value, "start": start, "end": end,
                 "confidence": 1.0, "extractor": cls.__name__}]

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = self.extract(message.get(TEXT) or "")
            if entities:
                message.set(ENTITIES, message.get(ENTITIES, []) + entities,
                            add_to_output=True)
        return messages
