"""A customer who has decided (那就买这个吧, 拍下了) is told how to order or thanked,
whatever the classifier made of the message (shop/buying.py). Called by the actions a
decision may be read as (a yes, a product question, an objection, not understood)."""

from __future__ import annotations

import logging
from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import latest_entity_values, latest_text
from shop import buying
from shop.db import repository
from shop.db.engine import session_scope

logger = logging.getLogger(__name__)


def answer_decision(dispatcher: CollectingDispatcher, tracker: Tracker
                    ) -> Optional[List[EventType]]:
    """The reply to a decision to buy, or None when the message is no such decision.
    The product is the one named, else the one talked about last, else the brand named's
    only one in the category listed."""
    said = buying.decision(latest_text(tracker))
    if said is None:
        return None
    logger.info("Decision to buy (%s) in %s", said, tracker.sender_id)
    if said == buying.ORDERED:
        dispatcher.utter_message(response="utter_buying_ordered",
                                 dispatch=buying.dispatch_times())
        return []
    name = next(iter(latest_entity_values(tracker, "product")), None) or tracker.get_slot(
        "product")
    brand = next(iter(latest_entity_values(tracker, "brand")), None)
    with session_scope() as session:
        if name:
            found = repository.catalogue.find_products(session=session, name=name)
        elif brand and tracker.get_slot("category"):
            # 那就买海尔的吧 after a list: that brand's one product in the category listed.
            found = repository.catalogue.find_products(
                session=session, brand=brand, category=tracker.get_slot("category"))
            found = found if len(found) == 1 else []
        else:
            found = []
        if not found:
            dispatcher.utter_message(response="utter_buying_decided_any",
                                     how=buying.how_to_order())
            return []
        product = found[0]
        dispatcher.utter_message(response="utter_buying_decided", product=product.name,
                                 price=f"{product.price:,.0f}", how=buying.how_to_order())
        return [] if product.name == tracker.get_slot("product") else [
            SlotSet("product", product.name)]
