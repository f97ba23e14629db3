"""Product and price questions answered from the catalogue records."""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import (
    DomainDict,
    ShopAction,
    latest_entity_values,
    latest_text,
    remember_lookup,
)
from shop import knowledge, shipping
from shop.db import repository
from shop.db.engine import session_scope
from shop.db.models import Product
from shop.product_facts import (
    Attribute,
    asked_attribute,
    attribute,
    attribute_value,
    shop_wide_value,
)

MAX_CANDIDATES = 6
# Remembers which fact was asked while the customer picks the product (buttons).
ASKED_SLOT = "asked_attribute"
# The fact answered last, for a "那X呢" follow-up about another product.
LAST_SLOT = "last_attribute"


def not_sold_names() -> List[str]:
    """Canonical names of things the shop does not carry."""
    return [entry["name"] for entry in knowledge.catalogue().get("not_sold", [])]


def asked_to_sell(text: str) -> Optional[str]:
    """X of "你们卖X吗" when X is no catalogue term (then the shop does not sell it)."""
    rules = knowledge.catalogue()["sells_question"]
    match = re.search(rules["pattern"], text or "")
    if match is None:
        return None
    thing = match.group("thing").strip()
    known = {surface for surface, _, _ in knowledge.catalogue_terms()}
    if any(word in thing for word in rules["not_things"]) or any(k in thing for k in known):
        return None
    return thing or None


def say_not_sold(dispatcher: CollectingDispatcher, thing: str) -> None:
    """"本店暂时没有销售X", what we sell in that area, and the categories we carry."""
    with session_scope() as session:
        dispatcher.utter_message(
            response="utter_product_not_sold", product=thing,
            categories="、".join(repository.catalogue.list_categories(session=session)),
            instead=_instead(thing, session),
        )


def _instead(name: str, session: object) -> str:
    """"手机我们有：华为Mate60、小米14。" for a not-sold thing with a related category."""
    entry = next((e for e in knowledge.catalogue().get("not_sold", []) if e["name"] == name), {})
    category = entry.get("instead")
    if not category:
        return ""
    names = [p.name for p in repository.catalogue.find_products(session=session, category=category)]
    return f"{category}我们有：{'、'.join(names[:MAX_CANDIDATES])}。" if names else ""


def _stock_state(product: Product) -> str:
    texts = knowledge.policies()["stock_states"]
    if product.stock <= 0:
        return texts["out_of_stock"]
    if product.stock < 10:
        return texts["low"].format(stock=product.stock)
    return texts["in_stock"]


def _price(product: Product) -> str:
    return f"{product.price:,.0f}"


def _button(title: str, entity: str, value: str) -> Dict[str, str]:
    return {"title": title, "payload": f'/ask_product{{"{entity}": "{value}"}}'}


def _wanted(tracker: Tracker) -> Optional[Attribute]:
    """The fact asked in this message; after a button click, the one asked before it;
    for "那X呢", the fact of the previous question (风尊保修几年 → 那云佳呢)."""
    text = latest_text(tracker)
    if text.startswith("/"):
        return attribute(tracker.get_slot(ASKED_SLOT))
    asked = asked_attribute(text)
    if asked is None and text.rstrip("?？ ").endswith("呢"):
        return attribute(tracker.get_slot(LAST_SLOT))
    return asked


class ActionAnswerProduct(ShopAction):
    """Price, specs, stock, warranty and single facts (size, noise, origin, gifts,
    fees …) of the product the customer means, or of the one talked about last."""

    side_question = True

    def name(self) -> Text:
        return "action_answer_product"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        wanted = _wanted(tracker)
        names = latest_entity_values(tracker, "product")
        brand = next(iter(latest_entity_values(tracker, "brand")), None)
        category = next(iter(latest_entity_values(tracker, "category")), None)
        named = bool(names or brand or category)
        asked = None if named else asked_to_sell(latest_text(tracker))
        if not named and asked is None:
            # A follow-up like "多少钱" refers to the product talked about last.
            names = [tracker.get_slot("product")] if tracker.get_slot("product") else []
        if wanted is not None and wanted.shop_wide:
            # The same for every product: no need to know which one; with a place named
            # (新疆包邮吗), that place's fee.
            mentions = shipping.mentions(tracker.latest_message.get("entities") or [])
            if mentions and wanted.key == "shipping":
                place = shipping.most_specific(mentions)
                written = shipping.as_written(latest_text(tracker), place)
                dispatcher.utter_message(text=shipping.reply(written, fee_only=True))
                return []
            dispatcher.utter_message(response="utter_shop_fee", attribute=wanted.name,
                                     value=shop_wide_value(wanted))
            return []

        unsold = [n for n in names if n in not_sold_names()]
        names = [n for n in names if n not in unsold]
        if asked or (unsold and not names):
            say_not_sold(dispatcher, asked or unsold[0])
            return []
        with session_scope() as session:
            categories = repository.catalogue.list_categories(session=session)
            products = self._lookup(session, names, brand, category)
            remember = [SlotSet(ASKED_SLOT, wanted.key)] if wanted else []
            if not products:
                dispatcher.utter_message(
                    response="utter_product_ask_which", categories="、".join(categories),
                    buttons=[_button(c, "category", c) for c in categories],
                )
                return remember
            if len(products) > 1:
                shown = products[:MAX_CANDIDATES]
                dispatcher.utter_message(
                    response="utter_product_candidates", scope=f"{brand or ''}{category or ''}",
                    candidates="\n".join(f"· {p.name}  {_price(p)}元" for p in shown),
                    buttons=[_button(p.name, "product", p.name) for p in shown],
                )
                return remember
            product = products[0]
            if wanted is not None:
                self._answer_fact(dispatcher, product, wanted)
            else:
                self._answer(dispatcher, product, intent)
            answered = [SlotSet(ASKED_SLOT, None)] if tracker.get_slot(ASKED_SLOT) else []
            if (wanted.key if wanted else None) != tracker.get_slot(LAST_SLOT):
                answered.append(SlotSet(LAST_SLOT, wanted.key if wanted else None))
            return [SlotSet("product", product.name), *answered,
                    remember_lookup(tracker, product.sku)]

    @staticmethod
    def _answer_fact(dispatcher: CollectingDispatcher, product: Product,
                     wanted: Attribute) -> None:
        value = attribute_value(wanted, product, _stock_state)
        if value is None:
            dispatcher.utter_message(response="utter_product_fact_unknown", name=product.name,
                                     attribute=wanted.name)
            return
        dispatcher.utter_message(response="utter_product_fact", name=product.name,
                                 attribute=wanted.name, value=value)

    @staticmethod
    def _lookup(
        session: object, names: List[str], brand: Optional[str], category: Optional[str]
    ) -> List[Product]:
        if names:
            found: List[Product] = []
            for name in names:
                found.extend(repository.catalogue.find_products(session=session, name=name))
            return found
        if brand or category:
            return repository.catalogue.find_products(
                session=session, brand=brand, category=category)
        return []

    @staticmethod
    def _answer(dispatcher: CollectingDispatcher, product: Product, intent: Optional[str]) -> None:
        if intent == "ask_price":
            dispatcher.utter_message(
                response="utter_product_price",
                name=product.name,
                price=_price(product),
                stock_state=_stock_state(product),
                warranty=product.warranty,
            )
            return
        specs = "，".join(f"{key}{value}" for key, value in (product.specs or {}).items())
        dispatcher.utter_message(
            response="utter_product_detail",
            name=product.name,
            brand=product.brand,
            category=product.category,
            specs=specs,
            price=_price(product),
            stock_state=_stock_state(product),
            warranty=product.warranty,
        )
