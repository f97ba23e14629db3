"""Delivery questions that name a place: 到武汉大概多少天, 发到香港吗, 杭州 (alone)."""

from __future__ import annotations

import logging
from typing import List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.base import DomainDict, ShopAction, latest_text
from actions.fallback import ActionFallback
from shop import shipping

logger = logging.getLogger(__name__)

# FAQ answers about delivery: with a place named, that place's answer instead.
DELIVERY_FAQS = ("faq/delivery_time", "faq/delivery_area")


def faq_key(tracker: Tracker) -> Optional[str]:
    """The FAQ answer the response selector picked (faq/delivery_time), if any."""
    selector = (tracker.latest_message.get("response_selector") or {}).get("faq") or {}
    return (selector.get("response") or {}).get("intent_response_key")


class ActionAnswerDelivery(ShopAction):
    """A delivery question about a named place gets that place's time and fee (remote
    provinces 3-7 days and 30 yuan, Hong Kong and abroad not served); a place named
    alone is that question. Anything else goes where it would have gone."""

    def name(self) -> Text:
        return "action_answer_delivery"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        text = latest_text(tracker)
        mentions = shipping.mentions(tracker.latest_message.get("entities") or [])
        key = faq_key(tracker)
        if intent == "faq" and not (mentions and key in DELIVERY_FAQS):
            dispatcher.utter_message(response=f"utter_{key}" if key else "utter_default")
            return []
        if intent == "faq" or shipping.named_alone(text, mentions):
            place = shipping.most_specific(mentions, text)
            dispatcher.utter_message(text=shipping.reply(shipping.as_written(text, place)))
            return []
        # More than a place (我在杭州上学): the answer its rule would have given, here and
        # not as a follow-up action, which no rule expects next (the fallback followed).
        logger.info("A place named with %s, not a delivery question", intent)
        if intent == "out_of_scope":
            dispatcher.utter_message(response="utter_out_of_scope")
            return []
        return await ActionFallback().act(dispatcher, tracker, domain)
