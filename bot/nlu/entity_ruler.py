"""spaCy EntityRuler over the catalogue, as a Rasa graph component.

Customers name products in hundreds of ways; annotating every training example
would be endless. A blank Chinese spaCy pipeline (jieba segmenter) with an
EntityRuler built from `knowledge/catalogue.yml` finds `product`, `brand` and
`category` mentions and maps aliases to the canonical name.
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

logger = logging.getLogger(__name__)

PATTERNS_FILE = "patterns.json"


def build_patterns() -> List[Dict[str, str]]:
    """EntityRuler phrase patterns from the catalogue (id = canonical name)."""
    from shop import knowledge

    seen = set()
    patterns = []
    for surface, label, canonical in knowledge.catalogue_terms():
        key = (surface.lower(), label)
        if key in seen:
            continue
        seen.add(key)
        patterns.append({"label": label, "pattern": surface, "id": canonical})
    return patterns


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class CatalogueEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Extracts product/brand/category entities with a spaCy EntityRuler."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Returns the component's default config."""
        return {
            # Match on lower-cased tokens so "xm5", "XM5" and "Xm5" all match.
            "phrase_matcher_attr": "LOWER",
        }

    @staticmethod
    def required_packages() -> List[Text]:
        """Python packages the component needs."""
        return ["spacy", "jieba"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrains when the catalogue changes, not only when the config does."""
        return hashlib.sha256(
            json.dumps(build_patterns(), ensure_ascii=False).encode()
        ).hexdigest()

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        patterns: Optional[List[Dict[str, str]]] = None,
    ) -> None:
        """Builds the spaCy pipeline once (at training or model load time)."""
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._patterns = patterns or []
        self._nlp = self._build_pipeline(self._patterns) if self._patterns else None

    def _build_pipeline(self, patterns: List[Dict[str, str]]) -> Any:
        import jieba
        import spacy

        # The segmenter is the global jieba: teach it every catalogue term so a
        # name is one token both in the patterns and in customer messages.
        for pattern in patterns:
            if " " not in pattern["pattern"]:
                jieba.add_word(pattern["pattern"], freq=20000)
                jieba.add_word(pattern["pattern"].lower(), freq=20000)
        nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
        ruler = nlp.add_pipe(
            "entity_ruler",
            config={"phrase_matcher_attr": self._config["phrase_matcher_attr"]},
        )
        ruler.add_patterns(patterns)
        return nlp

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CatalogueEntityExtractor:
        """Creates an untrained component (see parent class for full docstring)."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Builds the patterns from the catalogue and stores them in the model."""
        self._patterns = build_patterns()
        self._nlp = self._build_pipeline(self._patterns)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / PATTERNS_FILE).write_text(
                json.dumps(self._patterns, ensure_ascii=False), encoding="utf-8"
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
    ) -> CatalogueEntityExtractor:
        """Loads the patterns saved at training time (the model is self-contained)."""
        try:
            with model_storage.read_from(resource) as directory:
                patterns = json.loads((directory / PATTERNS_FILE).read_text("utf-8"))
        except (ValueError, FileNotFoundError):
            logger.warning("No catalogue patterns in the model; extractor disabled.")
            patterns = []
        return cls(config, model_storage, resource, patterns)

    def extract(self, text: Text) -> List[Dict[str, Any]]:
        """Returns Rasa entity dicts for the catalogue mentions in `text`."""
        if not self._nlp or not text:
            return []
        doc = self._nlp(text)
        return [
            {
                "entity": span.label_,
                "value": span.ent_id_ or span.text,
                "start": span.start_char,
                "end": span.end_char,
                "confidence": 1.0,
                "extractor": self.__class__.__name__,
            }
            for span in doc.ents
        ]

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds catalogue entities to each message."""
        for message in messages:
            entities = self.extract(message.get(TEXT) or "")
            if entities:
                message.set(
                    ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True
                )
        return messages
