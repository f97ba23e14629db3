"""Product and price questions answered from the catalogue records."""

from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import (
    DomainDict,
    ShopAction,
    latest_entity_values,
    latest_text,
    remember_lookup,
    with_entity,
)
from actions.buying import answer_decision
from shop import (
    budget,
    candidates,
    household,
    not_sold,
    price_order,
    product_features,
    product_size,
    room_area,
    shipping,
)
from shop.db import repository
from shop.db.engine import session_scope
from shop.db.models import Product
from shop.product_facts import (
    Attribute,
    asked_attribute,
    attribute,
    attribute_value,
    shop_wide_value,
    stock_state,
)

MAX_CANDIDATES = 6
# Remembers which fact was asked while the customer picks the product (buttons).
ASKED_SLOT = "asked_attribute"
# The fact answered last, for a "那X呢" follow-up about another product.
LAST_SLOT = "last_attribute"
# The features the list in context was narrowed to (滚筒的有吗).
FEATURE_SLOT = "feature_filter"
# A budget named before the category it is for (预算3000 → 手机), until a list uses it.
BUDGET_SLOT = "budget"
# Facts a choice is made by, not asked of each product (20平的房间用哪个, 大一点的尺寸).
CHOSEN_BY = (room_area.AREA_ATTRIBUTE, product_size.SIZE_ATTRIBUTE)


def say_not_sold(dispatcher: CollectingDispatcher, thing: str) -> None:
    """"本店暂时没有销售X", what we sell in that area, our categories (as buttons too)."""
    with session_scope() as session:
        categories = repository.catalogue.list_categories(session=session)
        dispatcher.utter_message(
            response="utter_product_not_sold", product=thing, categories="、".join(categories),
            instead=not_sold.instead(thing, session, MAX_CANDIDATES),
            buttons=not_sold.category_buttons(thing, categories))


def _wanted(tracker: Tracker) -> Optional[Attribute]:
    """The fact asked in this message; after a button click or a name typed alone (read
    as `inform`), the one asked before it; for "那X呢", the fact of the previous question
    (风尊保修几年 → 那云佳呢)."""
    text = latest_text(tracker)
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if text.startswith("/") or intent == "inform":
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
        decided = answer_decision(dispatcher, tracker)
        if decided is not None:  # 我要这款 / 就买小米14吧
            return decided
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        wanted = _wanted(tracker)
        names = latest_entity_values(tracker, "product")
        brands = latest_entity_values(tracker, "brand")
        brand = next(iter(brands), None)
        category = next(iter(latest_entity_values(tracker, "category")), None)
        named = bool(names or brand or category)
        text = latest_text(tracker)
        asked = None if named else not_sold.asked_to_sell(text)
        # A room named (卧室用的, 20平的房间用哪个), a price or size order (最便宜的是哪个,
        # 有没有大一点的), a size (75寸的有吗) or a feature (滚筒的有吗) asks which of a
        # category suits it.
        ordering = None if names else price_order.asked(text)
        sizing = None if names else product_size.asked_order(text)
        features = [] if names else product_features.asked(text)
        # This message's budget, or one named before the category this message names.
        spend = budget.stated(text) or (
            budget.stated(tracker.get_slot(BUDGET_SLOT) or "") if category else None)
        choosing = not names and bool(room_area.mentions_room(text) or ordering or sizing
                                      or features or product_size.mentions(text)
                                      or spend is not None or household.people(text))
        category_named = category
        if choosing and wanted is not None and wanted.key in CHOSEN_BY:
            wanted = None
        if not named and asked is None and not choosing:
            # A follow-up like "多少钱" refers to the product talked about last.
            names = [tracker.get_slot("product")] if tracker.get_slot("product") else []
        if wanted is not None and wanted.shop_wide:
            self._answer_shop_wide(dispatcher, tracker, wanted)
            return []

        unsold = [n for n in names if n in not_sold.names()]
        names = [n for n in names if n not in unsold]
        if asked or (unsold and not names):
            say_not_sold(dispatcher, asked or unsold[0])
            return []
        with session_scope() as session:
            categories = repository.catalogue.list_categories(session=session)
            if not names and not category and asked is None:
                category = self._category_in_context(session, tracker, brand)
            products, compared = candidates.lookup(session, names, brands, category, text)
            if not names and len(products) > 1:
                products = candidates.quoted(products, text) or products
            remember = [SlotSet(ASKED_SLOT, wanted.key)] if wanted else []
            kept = self._feature_filter(tracker, features, category_named, category)
            if kept != (tracker.get_slot(FEATURE_SLOT) or None):
                remember.append(SlotSet(FEATURE_SLOT, kept))
            # Those with the feature; if none has it, all of them (the customer compares).
            # 有没有更便宜的 looks beyond a feature asked before (a cheaper 波轮 one too).
            narrow = features if ordering == "cheaper" else kept or []
            products = product_features.having(products, [] if names else narrow) or products
            if (ordering or sizing) and products:
                products = self._in_order(dispatcher, session, tracker, products, ordering,
                                          sizing)
                if products is None:  # nothing cheaper or bigger than the one talked about
                    return remember
            if not products:
                dispatcher.utter_message(
                    response="utter_product_ask_which", categories="、".join(categories),
                    buttons=[candidates.button(c, "category", c) for c in categories],
                )
                return remember
            if len(products) > 1 or (choosing and not names and not ordering and not sizing):
                shown = self._list(dispatcher, products, f"{brand or ''}{category or ''}", text,
                                   wanted, spend, bool(names) or compared)
                return remember + self._listed(tracker, category, shown, spend)
            return remember + self._answer_one(dispatcher, tracker, products[0], wanted, intent)

    @staticmethod
    def _listed(tracker: Tracker, category: Optional[str], shown: List[Product],
                spend: Optional[budget.Budget]) -> List[EventType]:
        """The list is now the context, not a product talked about before it; a list of
        one (客厅30平用哪款) is that product ("多少钱" next asks its price). A budget
        remembered is used up."""
        listed: List[EventType] = ([SlotSet("category", category)]
                                   if category and category != tracker.get_slot("category")
                                   else [])
        only = shown[0].name if len(shown) == 1 else None
        if tracker.get_slot("product") != only:
            listed.append(SlotSet("product", only))
        if spend is not None and tracker.get_slot(BUDGET_SLOT):
            listed.append(SlotSet(BUDGET_SLOT, None))
        return listed

    @staticmethod
    def _in_order(dispatcher: CollectingDispatcher, session: object, tracker: Tracker,
                  products: List[Product], ordering: Optional[str], sizing: Optional[str]
                  ) -> Optional[List[Product]]:
        """The products in the price or size order asked, relative to the product talked
        about if it is of their category; None when none is cheaper (bigger, smaller)
        than it, which is said."""
        last = tracker.get_slot("product")
        than = next(iter(repository.catalogue.find_named_or_in(
            session=session, names=[last] if last else [])), None)
        if than is not None and than.category != products[0].category:
            than = None
        if ordering:
            products = price_order.pick(products, ordering, than)
            if not products and than is not None:
                dispatcher.utter_message(response="utter_product_none_cheaper",
                                         name=than.name, price=candidates.price_text(than))
                return None
        if sizing:
            products = product_size.pick(products, sizing, than)
            if not products and than is not None:
                dispatcher.utter_message(response=f"utter_product_none_{sizing}",
                                         name=than.name, size=product_size.size_text(than))
                return None
        return products

    def _answer_one(self, dispatcher: CollectingDispatcher, tracker: Tracker, product: Product,
                    wanted: Optional[Attribute], intent: Optional[str]) -> List[EventType]:
        """The product's details, price or the fact asked; it becomes the context."""
        if wanted is not None:
            self._answer_fact(dispatcher, product, wanted)
        else:
            self._answer(dispatcher, product, intent)
        answered = [SlotSet(ASKED_SLOT, None)] if tracker.get_slot(ASKED_SLOT) else []
        if (wanted.key if wanted else None) != tracker.get_slot(LAST_SLOT):
            answered.append(SlotSet(LAST_SLOT, wanted.key if wanted else None))
        if product.category != tracker.get_slot("category"):
            # Its category is the context now: after 冰箱有哪些 → 小米14多少钱,
            # 有更便宜的吗 compares phones, not the fridges listed before.
            answered.append(SlotSet("category", product.category))
            if tracker.get_slot(FEATURE_SLOT):
                answered.append(SlotSet(FEATURE_SLOT, None))
        return [SlotSet("product", product.name), *answered,
                remember_lookup(tracker, product.sku)]

    @staticmethod
    def _feature_filter(tracker: Tracker, features: List[str], category_named: Optional[str],
                        category: Optional[str]) -> Optional[List[str]]:
        """The features to narrow to: those asked now, else those asked before within the
        same category (滚筒的有吗 → 最便宜的是哪个); a category named again starts afresh."""
        if features:
            return features
        kept = tracker.get_slot(FEATURE_SLOT) or None
        if kept and not category_named and category in (None, tracker.get_slot("category")):
            return list(kept)
        return None

    @staticmethod
    def _answer_shop_wide(dispatcher: CollectingDispatcher, tracker: Tracker,
                          wanted: Attribute) -> None:
        """The same for every product: no need to know which one; with a place named
        (新疆包邮吗), that place's fee."""
        mentions = shipping.mentions(tracker.latest_message.get("entities") or [])
        if mentions and wanted.key == "shipping":
            text = latest_text(tracker)
            place = shipping.most_specific(mentions, text)
            written = shipping.as_written(text, place)
            dispatcher.utter_message(text=shipping.reply(written, fee_only=True))
            return
        dispatcher.utter_message(response="utter_shop_fee", attribute=wanted.name,
                                 value=shop_wide_value(wanted))

    @staticmethod
    def _category_in_context(session: object, tracker: Tracker,
                             brand: Optional[str]) -> Optional[str]:
        """The category listed last (我想买个空调 → 卧室用的 / 有啥推荐): the category slot,
        else that of the product talked about last. With a brand named (手机有哪些 →
        华为的怎么样), only if the brand has products in it."""
        category = tracker.get_slot("category")
        last = tracker.get_slot("product")
        if not category and last:
            found = repository.catalogue.find_products(session=session, name=last)
            category = found[0].category if found else None
        if category and brand and not repository.catalogue.find_products(
                session=session, brand=brand, category=category):
            return None
        return str(category) if category else None

    @staticmethod
    def _list(dispatcher: CollectingDispatcher, products: List[Product], scope: str,
              text: str, wanted: Optional[Attribute] = None,
              spend: Optional[budget.Budget] = None, named: bool = False) -> List[Product]:
        """The candidates, each with the fact asked (冰箱有多大 → each one's size) or the
        room sizes they suit when a room was named; with a size named, only those that
        suit it (or the nearest, said so). Returns those shown."""
        response = "utter_product_candidates"
        area = room_area.stated_area(text)
        if area is not None:
            fitted, fits = room_area.for_area(products, area)
            if fitted:
                products = fitted
                response = "utter_product_for_area" if fits else "utter_product_near_area"
        size = product_size.stated(text, products)
        if size is not None:
            fitted, fits = product_size.for_size(products, size[0])
            if fitted:
                products = fitted
                response = ("utter_product_for_size" if fits else "utter_product_about_size"
                            if product_size.near_enough(text, size[0], fitted)
                            else "utter_product_near_size")
        people = household.people(text)  # 家里三口人: the capacity that suits them
        fitted, fits = household.for_household(products, people) if people else ([], False)
        if fitted:
            products = fitted
            response = "utter_product_for_household" if fits else "utter_product_near_household"
        if spend is not None:  # 3000以内的: those it buys, dearest first; else the cheapest
            products, fits = budget.within(products, spend)
            response = ("utter_product_for_budget" if fits else
                        f"utter_product_{'over' if spend.kind == budget.BELOW else 'near'}_budget")
        measured = size is not None or product_size.asked_order(text) is not None or bool(fitted)
        compared = named and candidates.asks_comparison(text)  # 小米14和华为Mate60哪个好
        if compared and response == "utter_product_candidates":
            response = "utter_product_compared"
        shown = products[:MAX_CANDIDATES]
        lines = [candidates.line(p, wanted, measured, room_area.mentions_room(text), compared)
                 for p in shown]
        dispatcher.utter_message(
            response=response, scope=scope, area=f"{area:g}" if area is not None else "",
            size=size[1] if size is not None else "", budget=str(spend or ""), people=people or "",
            candidates="\n".join(lines),
            buttons=[candidates.button(p.name, "product", p.name) for p in shown],
        )
        return shown

    @staticmethod
    def _answer_fact(dispatcher: CollectingDispatcher, product: Product,
                     wanted: Attribute) -> None:
        value = attribute_value(wanted, product)
        if value is None:
            dispatcher.utter_message(response="utter_product_fact_unknown", name=product.name,
                                     attribute=wanted.name)
            return
        dispatcher.utter_message(response="utter_product_fact", name=product.name,
                                 attribute=wanted.name, value=value)

    @staticmethod
    def _answer(dispatcher: CollectingDispatcher, product: Product, intent: Optional[str]) -> None:
        if intent == "ask_price":
            dispatcher.utter_message(response="utter_product_price", name=product.name,
                                     price=candidates.price_text(product),
                                     stock_state=stock_state(product), warranty=product.warranty)
            return
        dispatcher.utter_message(response="utter_product_detail", name=product.name,
                                 brand=product.brand, category=product.category,
                                 specs=candidates.specs_text(product),
                                 price=candidates.price_text(product),
                                 stock_state=stock_state(product), warranty=product.warranty)


class ActionAffirm(ShopAction):
    """A plain yes (好的, 嗯嗯) gets "anything else?"; a decision (就它了, 好的我买了) how to
    order; a yes to "we don't sell X, want to see related goods?" lists the category near
    X, as its first button would, or asks which category when none is near."""

    def name(self) -> Text:
        return "action_affirm"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        decided = answer_decision(dispatcher, tracker)
        if decided is not None:
            return decided
        offered = not_sold.offered_category(tracker.events)
        if offered:
            return await ActionAnswerProduct().act(
                dispatcher, with_entity(tracker, "category", offered), domain)
        # Nothing we sell is near it: which of the categories offered as buttons?
        dispatcher.utter_message(response="utter_pick_category" if offered == "" else
                                 "utter_anything_else")
        return []
