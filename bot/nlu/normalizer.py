"""Text normalisation that runs before tokenisation.

Customers type full-width letters and digits (ＤＤ２０２６…), Traditional characters
(請問這個多少錢), colloquial forms, typos and pinyin (咋算, 木有, 包邮不, 定单, xiexie)
and sometimes paste whole essays. Normalising once, before the tokenizer, lets every
later component (jieba, regexes, featurizers, spaCy) see one canonical form. The
colloquial table is data: knowledge/language.yml, compiled by bot/nlu/lexicon.py.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.lexicon import Lexicon
from shop.config import PROJECT_ROOT

logger = logging.getLogger(__name__)

_WHITESPACE = re.compile(r"\s+")
# A stretch of 2–50 characters said three or more times in a row (快点快点快点, a fault
# report pasted 125 times): once is what it means. Without it 我的冰箱不制冷了 ×125 read as
# objection_no_need (0.71), the word counts ×125. 2.4 ms on 1,000 random characters.
_REPEATS = re.compile(r"(.{2,50}?)\1{2,}", re.S)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class ChineseTextNormalizer(GraphComponent):
    """Length cap, full-width → half-width (NFKC), Traditional → Simplified (OpenCC),
    repeats collapsed, colloquial forms → canonical ones (knowledge/language.yml)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Returns the component's default config."""
        return {
            # OpenCC conversion profile; "t2s" is Traditional → Simplified.
            "opencc_profile": "t2s",
            # Unicode NFKC folds full-width ASCII (ＡＢ１２) into half-width.
            "unicode_nfkc": True,
            # Messages longer than this are cut before NLU: keeps latency bounded on
            # pasted essays; the original text stays in the tracker.
            "max_chars": 1000,
            # Rewrite table (relative to the project); "" turns it off.
            "lexicon": "knowledge/language.yml",
            # A stretch repeated three or more times in a row is kept once.
            "collapse_repeats": True,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        """Python packages the component needs."""
        return ["opencc"]

    def __init__(self, config: Dict[Text, Any]) -> None:
        """Builds the OpenCC converter once; it is reused for every message."""
        import opencc

        self._config = config
        profile = config["opencc_profile"]
        self._converter = opencc.OpenCC(profile) if profile else None
        lexicon = config.get("lexicon")
        self._lexicon = Lexicon.load(PROJECT_ROOT / lexicon) if lexicon else None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ChineseTextNormalizer:
        """Creates the component (see parent class for full docstring)."""
        return cls(config)

    def normalize(self, text: Optional[Text]) -> Text:
        """Returns the canonical form of `text` (empty string for None)."""
        if not text:
            return ""
        limit = self._config["max_chars"]
        if limit and len(text) > limit:
            # Cut before any other work: a pasted essay costs no more than `limit`.
            logger.info("Message of %d characters cut to %d before NLU.", len(text), limit)
            text = text[:limit]
        if self._config["unicode_nfkc"]:
            text = unicodedata.normalize("NFKC", text)
        if self._converter is not None:
            text = self._converter.convert(text)
        text = _WHITESPACE.sub(" ", text).strip()
        if self._config["collapse_repeats"]:
            text = _REPEATS.sub(r"\1", text)
        if self._lexicon is not None:
            text = self._lexicon.apply(text)
        # NFKC can expand a character (㍿ → 株式会社): the cap holds after it too.
        return text[:limit] if limit else text

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalises the training examples the same way as live messages."""
        for example in training_data.training_examples:
            if example.get(TEXT):
                example.set(TEXT, self.normalize(example.get(TEXT)))
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Normalises incoming messages in place."""
        for message in messages:
            if message.get(TEXT) is not None:
                message.set(TEXT, self.normalize(message.get(TEXT)))
        return messages
