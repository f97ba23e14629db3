"""spaCy EntityRuler over the catalogue, as a Rasa graph component.

Customers name products in hundreds of ways; annotating every training example
would be endless. A blank Chinese spaCy pipeline (jieba segmenter) with an
EntityRuler built from `knowledge/catalogue.yml` finds `product`, `brand` and
`category` mentions and maps aliases to the canonical name.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe

from bot.nlu.stored_extractor import StoredDataExtractor


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
class CatalogueEntityExtractor(StoredDataExtractor):
    """Extracts product/brand/category entities with a spaCy EntityRuler."""

    FILE = "patterns.json"

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
    def build(cls) -> List[Dict[str, str]]:
        return build_patterns()

    def setup(self, data: Optional[List[Dict[str, str]]]) -> None:
        """Builds the spaCy pipeline once (at training or model load time)."""
        self._patterns = data or []
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
