"""Room sizes (`room_area` entities) as a Rasa graph component: 15平米, 20平, 25㎡.

With it a size given alone, after a list of air conditioners, is answered from the
catalogue (data/rules/products.yml) instead of the fallback: "15平米" is read as
`inform`, like any bare figure. The parsing is `shop.room_area`'s, the one the action
uses; nothing is learnt, so nothing is stored in the model.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from shop import room_area

ENTITY = "room_area"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class RoomAreaEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Extracts one `room_area` entity (square metres, as text) per message."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage,
               resource: Resource, execution_context: ExecutionContext
               ) -> "RoomAreaEntityExtractor":
        return cls()

    @staticmethod
    def extract(text: Text) -> List[Dict[str, Any]]:
        match = room_area.stated_match(text)
        if match is None:
            return []
        return [{"entity": ENTITY, "value": f"{match[0]:g}", "start": match[1],
                 "end": match[2], "confidence": 1.0,
                 "extractor": RoomAreaEntityExtractor.__name__}]

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = self.extract(message.get(TEXT) or "")
            if entities:
                message.set(ENTITIES, message.get(ENTITIES, []) + entities,
                            add_to_output=True)
        return messages
