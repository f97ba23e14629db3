"""Messages the assistant did not understand: ask to rephrase, then a human."""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge
from actions.base import DomainDict, ShopAction
from actions.handoff import handoff_reason, open_handoff


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


class ActionFallback(ShopAction):
    """First miss: ask to rephrase with suggestions. Repeated misses: a human."""

    def name(self) -> Text:
        return "action_fallback"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        count = consecutive_fallbacks(tracker)
        if count >= int(knowledge.commitments()["fallback"]["handoff_after"]):
            return open_handoff(dispatcher, tracker, handoff_reason("fallback", count=count))
        dispatcher.utter_message(response="utter_default")
        return []
