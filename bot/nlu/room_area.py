"""Room sizes (`room_area` entities) as a Rasa graph component: 15平米, 20平, 25㎡.

With it a size given alone, after a list of air conditioners, is answered from the
catalogue (data/rules/products.yml) instead of the fallback: "15平米" is read as
`inform`, like any bare figure. The parsing is `shop.room_area`'s, the one the action
uses.
"""

from __future__ import annotations

from typing import Optional, Text, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe

from bot.nlu.parsed_entity import ParsedEntityExtractor
from shop import room_area


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class RoomAreaEntityExtractor(ParsedEntityExtractor):
    """One `room_area` entity (square metres, as text) per message."""

    ENTITY = "room_area"

    @staticmethod
    def find(text: Text) -> Optional[Tuple[str, int, int]]:
        match = room_area.stated_match(text)
        return None if match is None else (f"{match[0]:g}", match[1], match[2])
