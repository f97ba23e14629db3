"""Shared behaviour of the custom actions.

Every action runs its work in one place (`act`) so that a failing database never
reaches the customer as silence or a stack trace: the transaction is rolled back,
the failure is logged and the customer gets an apology with a follow-up promise.
"""

from __future__ import annotations

import abc
import copy
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions import forms
from shop.tickets import offer_lapsed

logger = logging.getLogger(__name__)

DomainDict = Dict[Text, Any]


class ShopAction(Action, abc.ABC):
    """Base of the shop's actions: database failures become a polite apology."""

    # Answers a question a customer may ask in the middle of the order form: the
    # second such question in a row ends the form (actions/forms.py).
    side_question = False

    @abc.abstractmethod
    def name(self) -> Text:
        """The action's name in the domain."""

    @abc.abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """The action's work; may raise SQLAlchemyError."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Runs `act`, turning a database failure into an apology."""
        if self.side_question:
            left = forms.leave_without_order(dispatcher, tracker)
            if left is not None:
                return left
        try:
            events = await self.act(dispatcher, tracker, domain)
        except SQLAlchemyError:
            logger.exception(
                "Database failure in %s (conversation %s)", self.name(), tracker.sender_id
            )
            dispatcher.messages.clear()
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        if self.side_question:
            events = [*events, *forms.leave_ignored_form(dispatcher, tracker)]
        if tracker.get_slot("human_offered") and offer_lapsed(tracker.events) and not any(
                e.get("name") == "human_offered" for e in events):
            events = [*events, SlotSet("human_offered", False)]  # a later 好的 is not a yes to it
        return events


def latest_entity_values(tracker: Tracker, entity: str) -> List[str]:
    """Values of `entity` in the latest user message, in order, de-duplicated."""
    values: List[str] = []
    for item in tracker.latest_message.get("entities") or []:
        if item.get("entity") == entity and item.get("value") not in values:
            values.append(str(item.get("value")))
    return values


def with_entity(tracker: Tracker, entity: str, value: str) -> Tracker:
    """The tracker as if the latest message had also named `value` (a button's entity)."""
    said = tracker.latest_message or {}
    named = copy.copy(tracker)
    named.latest_message = {**said, "entities": [*(said.get("entities") or []),
                                                 {"entity": entity, "value": value}]}
    return named


def latest_text(tracker: Tracker) -> str:
    """The latest user text as NLU saw it (normalised), falling back to the raw text."""
    parsed = tracker.latest_message or {}
    return str(parsed.get("text") or "").strip()


def remember_lookup(tracker: Tracker, record: str) -> SlotSet:
    """Adds a looked-up record (order, product) to the `looked_up` slot."""
    looked_up = list(tracker.get_slot("looked_up") or [])
    if record not in looked_up:
        looked_up.append(record)
    return SlotSet("looked_up", looked_up[-10:])


def slot_number(tracker: Tracker, slot: str) -> int:
    """A numeric counter slot as int (None counts as 0)."""
    value: Optional[Any] = tracker.get_slot(slot)
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0

