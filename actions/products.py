"""Product and price questions answered from the catalogue records."""

from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge
from actions.base import DomainDict, ShopAction, latest_entity_values, remember_lookup
from actions.db import repository
from actions.db.engine import session_scope
from actions.db.models import Product

MAX_CANDIDATES = 6


def not_sold_names() -> List[str]:
    """Canonical names of things the shop does not carry."""
    return [entry["name"] for entry in knowledge.catalogue().get("not_sold", [])]


def _stock_state(product: Product) -> str:
    texts = knowledge.policies()["stock_states"]
    if product.stock <= 0:
        return texts["out_of_stock"]
    if product.stock < 10:
        return texts["low"].format(stock=product.stock)
    return texts["in_stock"]


def _price(product: Product) -> str:
    return f"{product.price:,.0f}"


class ActionAnswerProduct(ShopAction):
    """Price, specs, stock and warranty of the product the customer means."""

    def name(self) -> Text:
        return "action_answer_product"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        names = latest_entity_values(tracker, "product")
        brand = next(iter(latest_entity_values(tracker, "brand")), None)
        category = next(iter(latest_entity_values(tracker, "category")), None)
        if not (names or brand or category):
            # A follow-up like "多少钱" refers to the product talked about last.
            names = [tracker.get_slot("product")] if tracker.get_slot("product") else []

        unsold = [n for n in names if n in not_sold_names()]
        names = [n for n in names if n not in unsold]
        with session_scope() as session:
            categories = "、".join(repository.list_categories(session=session))
            if unsold and not names:
                dispatcher.utter_message(
                    response="utter_product_not_sold", product=unsold[0], categories=categories
                )
                return []
            products = self._lookup(session, names, brand, category)
            if not products:
                dispatcher.utter_message(response="utter_product_ask_which", categories=categories)
                return []
            if len(products) > 1:
                scope = f"{brand or ''}{category or ''}"
                lines = "\n".join(
                    f"· {p.name}  {_price(p)}元" for p in products[:MAX_CANDIDATES]
                )
                dispatcher.utter_message(
                    response="utter_product_candidates", scope=scope, candidates=lines
                )
                return []
            product = products[0]
            self._answer(dispatcher, product, intent)
            return [SlotSet("product", product.name), remember_lookup(tracker, product.sku)]

    @staticmethod
    def _lookup(
        session: object, names: List[str], brand: Optional[str], category: Optional[str]
    ) -> List[Product]:
        if names:
            found: List[Product] = []
            for name in names:
                found.extend(repository.find_products(session=session, name=name))
            return found
        if brand or category:
            return repository.find_products(session=session, brand=brand, category=category)
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
