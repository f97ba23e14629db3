"""Things the shop does not sell: "你们卖X吗" about X outside the catalogue, and what
to offer instead (knowledge/catalogue.yml `not_sold`, `sells_question`)."""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional

from shop import candidates, knowledge, product_features
from shop.db import repository

# The domain response that says "本店暂时没有销售X" and offers our categories.
NOT_SOLD_REPLY = "utter_product_not_sold"


def names() -> List[str]:
    """Canonical names of things the shop does not carry."""
    return [entry["name"] for entry in knowledge.catalogue().get("not_sold", [])]


def asked_to_sell(text: str) -> Optional[str]:
    """X of "你们卖X吗" or "推荐一款X" when X is no catalogue term (then the shop does not
    sell it)."""
    rules = knowledge.catalogue()["sells_question"]
    not_things = list(rules["not_things"])
    match = re.search(rules["pattern"], text or "")
    if match is None:
        match = re.search(rules["recommend_pattern"], text or "")
        not_things += rules["not_recommended_things"]
        if match is None or product_features.asked(match.group("thing")):
            return None
    thing = match.group("thing").strip()
    unsold = set(names())
    known = {surface for surface, _, canonical in knowledge.catalogue_terms()
             if canonical not in unsold}
    if any(word in thing for word in not_things) or any(k in thing for k in known):
        return None
    return thing or None


def instead_category(name: str) -> Optional[str]:
    """The category we sell in the area of a not-sold thing (苹果手机 → 手机), if any."""
    entry = next((e for e in knowledge.catalogue().get("not_sold", []) if e["name"] == name), {})
    return entry.get("instead")


def category_buttons(name: str, categories: List[str]) -> List[Dict[str, str]]:
    """A button for each of our categories, the one in the area of the not-sold thing
    first (苹果手机: 手机): the reply asks "要不要看看相关的商品？"."""
    nearest = instead_category(name)
    return [candidates.button(category, "category", category)
            for category in sorted(categories, key=lambda category: category != nearest)]


def offered_category(events: List[Dict[str, Any]]) -> Optional[str]:
    """When the assistant's last message before the customer's latest is the "we don't
    sell X" reply, what a yes (好的, 👌) to its "要不要看看相关的商品？" opens: the first
    button's category when the reply named one in X's area (its `instead`), "" when it
    offered only our categories at large; None after any other message."""
    before_latest = False
    for event in reversed(events):
        if event.get("event") == "user":
            if before_latest:
                return None  # the customer spoke again since
            before_latest = True
        elif event.get("event") == "bot" and before_latest:
            # Rasa keeps the response's name and its filled-in values on the bot event.
            said = event.get("metadata") or {}
            if said.get("utter_action") != NOT_SOLD_REPLY:
                return None
            if not said.get("instead"):
                return ""
            buttons = (event.get("data") or {}).get("buttons") or [{}]
            payload = str(buttons[0].get("payload") or "")
            try:  # /ask_product{"category": "手机"} (shop/candidates.button)
                value = json.loads(payload[payload.find("{"):]).get("category")
            except (ValueError, AttributeError):
                return ""
            return str(value) if value else ""
    return None


def instead(name: str, session: object, limit: int) -> str:
    """"手机我们有：华为Mate60、小米14。" for a not-sold thing with a related category."""
    category = instead_category(name)
    if not category:
        return ""
    found = repository.catalogue.find_products(session=session, category=category)
    return f"{category}我们有：{'、'.join(p.name for p in found[:limit])}。" if found else ""
