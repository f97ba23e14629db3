"""Sales objections: a technique from the playbook, filled with real product facts."""

from __future__ import annotations

import logging
from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import DomainDict, ShopAction, latest_entity_values, latest_text
from actions.buying import answer_decision
from actions.products import ActionAnswerProduct
from shop import budget, knowledge, playbook
from shop.product_facts import script_facts

logger = logging.getLogger(__name__)


class ActionHandleObjection(ShopAction):
    """Answers price/delay/no-need/competitor/trust/timing objections."""

    side_question = True

    def name(self) -> Text:
        return "action_handle_objection"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        decided = answer_decision(dispatcher, tracker)
        if decided is not None:  # 那就买这个吧 / 买了, read as no_need
            return decided
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        text = latest_text(tracker)
        if budget.stated(text):
            # 太贵了，预算只有2000 (the scripts ask for it): what the budget buys in the
            # category in context; with none, which category (the budget is kept).
            return await ActionAnswerProduct().act(dispatcher, tracker, domain)
        kind = playbook.objection_type(intent, text) or "price"
        product = next(iter(latest_entity_values(tracker, "product")), None) or tracker.get_slot(
            "product"
        )
        history = list(tracker.get_slot("objection_history") or [])
        declined = knowledge.objections()["declined"]
        # A plain no (不需要 / 不用了, `deny`) to a script, which a rule sends here, is the
        # customer's decision as much as a second objection is.
        if intent == "deny" or kind == "no_need" and sum(
                entry.startswith("no_need|") for entry in history) + 1 >= int(declined["after"]):
            logger.info("%s to an objection script in %s: the decision is respected",
                        intent, tracker.sender_id)
            dispatcher.utter_message(text=declined["text"])
            return []
        used = [entry.split("|")[-1] for entry in history]
        reply = playbook.choose_reply(kind, script_facts(product), used, text)
        logger.info(
            "Objection %s answered with %s (%s) in %s",
            kind, reply.technique, reply.script_id, tracker.sender_id,
        )
        dispatcher.utter_message(text=reply.text)
        history.append(f"{reply.objection_type}|{reply.technique}|{reply.script_id}")
        events: List[EventType] = [SlotSet("objection_history", history)]
        threshold = int(knowledge.commitments()["objections"]["offer_human_after"])
        # Not to one who has just said no (不需要了): a human would only push harder.
        if (len(history) % threshold == 0 and kind != "no_need"
                and not tracker.get_slot("handoff_ticket")):
            dispatcher.utter_message(response="utter_offer_human")
            events.append(SlotSet("human_offered", True))
        return events
