"""Practice mode in any chat channel: `/practice{"invitation": "<code>"}`.

The code, made by a trainer in the console (shop/practice/invitations.py), decides
whose practice it is; without a valid one practice does not start.

`practice_form` keeps the conversation in practice until the session ends: every
message is the trainee's reply (a from_text slot), so no customer rule — handoff,
complaint, order lookup — can fire and nothing reaches tickets or customer records.
The session lives in the database and is rebuilt on each message, so it survives
restarts and works the same on every channel.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text
from urllib.parse import quote

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.base import DomainDict, ShopAction
from shop.practice import data, invitations
from shop.practice.drill import Drill
from shop.practice.progress import text_summary, trainee_progress
from shop.staff_auth import chart_token

logger = logging.getLogger(__name__)

# Served by the web chat channel (bot/channels/webchat.py), relative to the Rasa server.
CHART_URL = "/webhooks/chat/practice/chart.png"




def _say(dispatcher: CollectingDispatcher, lines: List[str]) -> None:
    if lines:
        dispatcher.utter_message(text="\n".join(lines))


class ActionStartPractice(ShopAction):
    """Opens a practice session and lets the simulated customer speak first."""

    def name(self) -> Text:
        return "action_start_practice"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        code = tracker.get_slot("practice_invitation")
        trainee = invitations.trainee_of(code)
        if trainee is None:
            logger.info("Practice refused: no valid invitation code")
            dispatcher.utter_message(text=data.feedback()["chat"]["needs_invitation"])
            # The form completes at once and the conversation is back to service.
            return [SlotSet("trainee", None), SlotSet("practice_invitation", None),
                    SlotSet("practice_scenario", None), SlotSet("practice_reply", "ended")]
        scenario = tracker.get_slot("practice_scenario")
        try:
            practice = Drill(trainee, scenario_id=scenario)
        except KeyError:
            logger.info("Unknown practice scenario %r: a random one instead", scenario)
            practice = Drill(trainee)
        logger.info("Practice %s started by %s (%s)", practice.id, trainee,
                    practice.scenario["id"])
        dispatcher.utter_message(text=data.feedback()["chat"]["started"])
        _say(dispatcher, practice.opening_lines())
        return [
            SlotSet("trainee", trainee),
            SlotSet("practice_invitation", None),
            SlotSet("practice_id", practice.id),
            SlotSet("practice_reply", None),
            SlotSet("practice_scenario", None),
        ]


class ActionAskPracticeReply(Action):
    """The form's question: the customer's line was already said, so nothing more."""

    def name(self) -> Text:
        return "action_ask_practice_reply"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        return []


class ValidatePracticeForm(FormValidationAction):
    """Scores each reply; the slot stays empty until the session is over."""

    def name(self) -> Text:
        return "validate_practice_form"

    def validate_practice_reply(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Feedback for the reply and the customer's answer; done when the session ends."""
        text = str(value or "").strip()
        practice_id = tracker.get_slot("practice_id")
        try:
            practice = Drill.resume(int(practice_id))
        except (KeyError, TypeError, ValueError):
            logger.warning("Practice reply without a session (%r)", practice_id)
            return {"practice_reply": "ended"}
        if practice.outcome is not None:
            return {"practice_reply": "ended"}
        if text in data.feedback()["chat"]["stop_words"]:
            _say(dispatcher, practice.finish("abandoned"))
            return {"practice_reply": "ended"}
        result = practice.reply(text)
        _say(dispatcher, result.feedback_lines)
        dispatcher.utter_message(text=result.customer_text)
        if result.finished:
            _say(dispatcher, result.summary_lines)
            return {"practice_reply": "ended"}
        return {"practice_reply": None}


class ActionEndPractice(ShopAction):
    """Back to normal service after the session."""

    def name(self) -> Text:
        return "action_end_practice"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        trainee = tracker.get_slot("trainee")
        if not trainee:  # practice never started (no valid invitation)
            return [SlotSet("practice_id", None), SlotSet("practice_reply", None)]
        progress = trainee_progress(trainee)
        if progress["finished"]:
            _say(dispatcher, text_summary(progress))  # the trainee's own history
            # The chart behind a signed link: it shows this trainee's progress only.
            dispatcher.utter_message(image=f"{CHART_URL}?t={quote(chart_token(trainee))}")
        dispatcher.utter_message(text=data.feedback()["chat"]["ended"])
        return [SlotSet("practice_id", None), SlotSet("practice_reply", None)]
