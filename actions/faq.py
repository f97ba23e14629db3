"""FAQ answers: the ResponseSelector picks the question, `knowledge/faq.yml` answers."""

from __future__ import annotations

import logging
from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge
from actions.base import DomainDict, ShopAction

logger = logging.getLogger(__name__)


def faq_key(tracker: Tracker) -> str:
    """The predicted FAQ key (`invoice` for `faq/invoice`), or empty."""
    selector = (tracker.latest_message.get("response_selector") or {}).get("faq") or {}
    full_key = (selector.get("response") or {}).get("intent_response_key") or ""
    return full_key.split("/", 1)[1] if "/" in full_key else ""


class ActionAnswerFaq(ShopAction):
    """Answers a frequently asked question from the knowledge base."""

    def name(self) -> Text:
        return "action_answer_faq"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        entry = knowledge.faq().get(faq_key(tracker))
        if entry is None:
            logger.warning("No FAQ answer for %r", faq_key(tracker))
            dispatcher.utter_message(response="utter_default")
            return []
        dispatcher.utter_message(text=entry["answer"])
        return []
