"""Complaints: empathy first, then a ticket with the committed deadlines.

Playbook §6: listen, apologise, clarify, promise a deadline, follow up. A second complaint
in one conversation, or strong anger, goes to a human; a request it interrupted goes on.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.base import DomainDict, ShopAction, latest_text, slot_number
from actions.handoff import open_handoff
from shop import complaints, knowledge
from shop.order_text import ORDER_FORM, TICKET_KINDS, paused_request, with_detail
from shop.tickets import handoff_reason, verified_customer

logger = logging.getLogger(__name__)

# A message this long already says what happened; no need to ask again.
DETAILED_CHARS = 12


class ActionAcknowledgeComplaint(ShopAction):
    """Apologises and empathises; escalates a repeated or angry complaint."""

    def name(self) -> Text:
        return "action_acknowledge_complaint"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        text = latest_text(tracker)
        count = slot_number(tracker, "complaint_count") + 1
        # 你们到底修不修啊 inside a repair request: the request is taken up again after.
        paused = paused_request(tracker.events, tracker.get_slot("service_kind"))
        events: List[EventType] = [SlotSet("complaint_count", count),
                                   SlotSet("paused_request", paused)]
        if paused:  # what went wrong, in the customer's words, for the paused request's ticket
            events.append(SlotSet("request_detail",
                                  with_detail(tracker.get_slot("request_detail"), text)))
        dispatcher.utter_message(response="utter_complaint_empathy")

        rules = knowledge.commitments()["complaints"]
        angry = complaints.is_angry(text)
        if angry or count >= int(rules["escalate_after"]):
            reason = (
                handoff_reason("complaint_angry")
                if angry
                else handoff_reason("complaint_repeated", count=count)
            )
            customer = verified_customer(tracker.events)
            dispatcher.utter_message(response="utter_complaint_escalated",
                                     ticket=complaints.escalate_or_open(
                                         tracker.sender_id, customer, text))
            return events + open_handoff(dispatcher, tracker, reason, detail=text)
        if len(text) >= DETAILED_CHARS:
            events.append(SlotSet("complaint_detail", text))
        return events


class ActionOpenComplaint(ShopAction):
    """Registers the complaint and tells the customer the committed deadlines."""

    def name(self) -> Text:
        return "action_open_complaint"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        # Details declined (不用了): the grievance the customer did say.
        detail = (tracker.get_slot("complaint_detail") or complaints.last_complaint(tracker.events)
                  or latest_text(tracker))
        customer = verified_customer(tracker.events)
        ticket = complaints.open_complaint(tracker.sender_id, customer, detail)
        logger.info("Complaint %s opened for %s", ticket["ticket"], tracker.sender_id)
        dispatcher.utter_message(response="utter_complaint_ticket", **ticket)
        done = [SlotSet("complaint_detail", None), SlotSet("complaint_vague_answers", None)]
        paused = tracker.get_slot("paused_request")
        if paused not in TICKET_KINDS:
            return done
        request = knowledge.commitments()["tickets"][paused]["name"]
        dispatcher.utter_message(response="utter_request_resumed", request=request)
        return [*done, SlotSet("paused_request", None), FollowupAction(ORDER_FORM)]


class ValidateComplaintForm(FormValidationAction):
    """A detail that says nothing (那个, 嗯…) is asked for once more; after that the
    grievance already said is recorded, so the customer is never stuck in the form."""

    def name(self) -> Text:
        return "validate_complaint_form"

    def validate_complaint_detail(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        text = str(slot_value or "").strip()
        if not complaints.is_vague(text):
            return {"complaint_detail": text, "complaint_vague_answers": None}
        vague = slot_number(tracker, "complaint_vague_answers") + 1
        rules = knowledge.commitments()["complaints"]
        logger.info("Complaint form: vague detail %d for %s", vague, tracker.sender_id)
        if vague < int(rules["vague_answers_before_recording"]):
            dispatcher.utter_message(response="utter_complaint_detail_vague")
            return {"complaint_detail": None, "complaint_vague_answers": vague}
        return {"complaint_detail": complaints.last_complaint(tracker.events) or text,
                "complaint_vague_answers": None}
