"""Budgets (`budget` entities) as a Rasa graph component: 3000以内, 预算两千左右, 两三千.

The price scripts ask for a budget; the answer alone (3000以内 is read as `inform`,
五千以下的 as `affirm`) goes to the product action by a rule
(data/rules/products.yml), which lists what it buys. The parsing is `shop.budget`'s.
The value is the amount and its kind, as the reply says it ("3000元以内").
"""

from __future__ import annotations

from typing import Optional, Text, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe

from bot.nlu.parsed_entity import ParsedEntityExtractor
from shop import budget


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class BudgetEntityExtractor(ParsedEntityExtractor):
    """One `budget` entity per message."""

    ENTITY = "budget"

    @staticmethod
    def find(text: Text) -> Optional[Tuple[str, int, int]]:
        said = budget.stated(text)
        if said is None:
            return None
        # Where numerals became digits (两千), the positions moved: the whole message.
        start, end = said.span or (0, len(text))
        return str(said), start, end
