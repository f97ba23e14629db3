"""Place names (`place` entities) as a Rasa graph component: 杭州, 新疆维吾尔自治区, 美国.

The gazetteer (`shop.shipping.surfaces`, from `knowledge/places.yml` and
`knowledge/shipping.yml`) is stored in the model at training time, like the catalogue's
patterns (`stored_extractor.py`). Matching is the
longest written form at each position: jieba's segmentation is not needed, and a
place inside a longer token (发杭州) is still found.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe

from bot.nlu.stored_extractor import StoredDataExtractor
from shop import shipping

ENTITY = "place"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class PlaceEntityExtractor(StoredDataExtractor):
    """Extracts `place` entities (canonical name as value) by gazetteer."""

    FILE = "places.json"

    @classmethod
    def build(cls) -> Dict[str, str]:
        return dict(shipping.surfaces())

    def setup(self, data: Optional[Dict[str, str]]) -> None:
        self._gazetteer = data or {}
        # Measured once: 65 of the 85 µs a short message took when measured per call.
        self._longest = max(map(len, self._gazetteer), default=0)

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
            for mention in shipping.find(text, self._gazetteer, self._longest)
        ]
