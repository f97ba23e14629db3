"""Messages the assistant did not understand: ask which of two meanings, or to
rephrase; repeated misses: a human."""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import DomainDict, ShopAction, latest_text
from actions.buying import answer_decision
from actions.handoff import open_handoff
from actions.products import ActionAnswerProduct, say_not_sold
from shop import budget, clarify, knowledge, not_sold, price_order, product_features
from shop.product_facts import asked_attribute
from shop.tickets import handoff_reason

# "那美的风尊空调呢" is short; a longer message with 呢 says more than "the same, for X".
FOLLOW_UP_MAX_CHARS = 16


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest user messages in a row were not understood."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if (event.get("parse_data", {}).get("intent") or {}).get("name") != "nlu_fallback":
            break
        count += 1
    return count


def product_follow_up(tracker: Tracker) -> bool:
    """"那风尊呢" — a product (or brand, category) and 呢, nothing else the classifier
    could hold on to: the same question as before, about this product."""
    text = latest_text(tracker).rstrip("?？ 。")
    named = bool(clarify.carried(tracker.latest_message))
    return named and text.endswith("呢") and len(text) <= FOLLOW_UP_MAX_CHARS


def answered_either_way(tracker: Tracker, options: List[clarify.Option]) -> bool:
    """The two likeliest meanings get the same answer (a price or a fact of a product),
    and the message names a product or asks a fact: no need to ask which."""
    named = bool(clarify.carried(tracker.latest_message))
    return clarify.same_answer(options) and (
        named or asked_attribute(latest_text(tracker)) is not None)


def choosing_in_context(tracker: Tracker) -> bool:
    """"有没有更便宜的" / "滚筒的有吗" / "3000以内的" after a product or a list: a price
    order, a feature or a budget among the category in context (read as a competitor
    objection, or unsure)."""
    text = latest_text(tracker)
    in_context = tracker.get_slot("category") or tracker.get_slot("product")
    return bool(in_context) and bool(price_order.asked(text) or product_features.asked(text)
                                     or budget.stated(text))


class ActionFallback(ShopAction):
    """First miss: "A or B?" with buttons when two meanings are likely, otherwise ask
    to rephrase with suggestions. Repeated misses: a human."""

    def name(self) -> Text:
        return "action_fallback"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        count = consecutive_fallbacks(tracker)
        if count >= int(knowledge.commitments()["fallback"]["handoff_after"]):
            return open_handoff(dispatcher, tracker, handoff_reason("fallback", count=count))
        decided = answer_decision(dispatcher, tracker) if count else None
        if decided is not None:  # 我拍了 / 已拍: the classifier is unsure, the words are not
            return decided
        if count and (product_follow_up(tracker) or choosing_in_context(tracker)):
            # The classifier has too little to go on, the conversation has enough.
            return await ActionAnswerProduct().act(dispatcher, tracker, domain)
        thing = not_sold.asked_to_sell(latest_text(tracker)) if count else None
        if thing:
            # "你们卖电动车吗" is clear even when the classifier is not: we don't sell it.
            say_not_sold(dispatcher, thing)
            return []
        options = clarify.options(tracker.latest_message) if count else []
        if answered_either_way(tracker, options):
            return await ActionAnswerProduct().act(dispatcher, tracker, domain)
        if options:
            dispatcher.utter_message(
                response="utter_clarify", first=options[0].phrase, second=options[1].phrase,
                buttons=[{"title": o.phrase, "payload": o.payload} for o in options])
            return [SlotSet("clarify_options", [o.intent for o in options])]
        dispatcher.utter_message(response="utter_default")
        return []
