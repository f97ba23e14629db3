"""Order lookups, returns and repairs: one verified form, three outcomes.

`order_form` asks for the order number and the last four digits of the phone on
the order; nothing about an order is revealed before that check passes — not even
whether it exists: a wrong number and wrong digits get the same answer, after the
digits. Failed checks are kept in the shared database per order number and per
client address, so the limits hold across conversations, sender ids and replicas.
The same form serves a status query, a return request and a repair request
(`service_kind`), so verification is written once.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.interfaces import ACTION_LISTEN_NAME
from sqlalchemy.exc import SQLAlchemyError

from actions import order_requests
from actions.base import (
    DomainDict,
    ShopAction,
    latest_entity_values,
    latest_text,
    remember_lookup,
    slot_number,
)
from actions.forms import NO_ORDER, leave_without_order, reset_events, tell_no_order
from actions.handoff import open_handoff
from actions.products import ActionAnswerProduct
from shop import knowledge, verification
from shop.db import repository
from shop.db.engine import session_scope
from shop.order_text import (
    TICKET_KINDS,
    asks_price_difference,
    client_of,
    describes_problem,
    last4_in,
    order_number_in,
    phone_given,
    says_no_order,
    with_detail,
)
from shop.product_facts import asks_fact_only, attribute, policy_explanation
from shop.tickets import handoff_reason

logger = logging.getLogger(__name__)

INTENT_TO_KIND = {"order_status": "status", "return_refund": "return", "after_sales": "repair"}


class ActionBeginOrderRequest(ShopAction):
    """Records what the customer wants done with an order; explains the policy first."""

    def name(self) -> Text:
        return "action_begin_order_request"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        kind = INTENT_TO_KIND.get(intent or "", "status")
        if kind == "repair" and (tracker.get_slot("product") or latest_entity_values(
                tracker, "product")) and asks_fact_only(latest_text(tracker)):
            # 保修呢 after a product: its warranty, not the repair policy and the form.
            answered = await ActionAnswerProduct().act(dispatcher, tracker, domain)
            return [*answered, FollowupAction(ACTION_LISTEN_NAME)]
        policies = knowledge.policies()
        if asks_price_difference(latest_text(tracker), kind):
            kind = "price_diff"
            told = attribute("price_protection")
            dispatcher.utter_message(response="utter_shop_fee",
                                     attribute=told.name if told else "",
                                     value=policy_explanation("price_protection"))
        elif kind == "return":
            dispatcher.utter_message(text=policies["returns"]["explain"])
        elif kind == "repair":
            dispatcher.utter_message(text=policies["after_sales"]["explain"])
        # The request in the customer's words, for the ticket; none from an earlier request.
        said = latest_text(tracker)
        kept = with_detail(None, said) if kind in TICKET_KINDS and not said.startswith("/") else ""
        return [SlotSet("service_kind", kind), SlotSet("form_failures", 0),
                SlotSet("request_detail", kept or None)]


class ValidateOrderForm(FormValidationAction):
    """Checks format, existence and ownership; counts failures, then gives up."""

    def name(self) -> Text:
        return "validate_order_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        """No slots left to ask once the customer used up the attempts, or has no order."""
        if slot_number(tracker, "form_failures") >= self._max_attempts() or \
                tracker.get_slot("service_kind") == NO_ORDER:
            return []
        return domain_slots

    @staticmethod
    def _max_attempts() -> int:
        return int(knowledge.policies()["verification"]["max_attempts"])

    def _fail(
        self, tracker: Tracker, dispatcher: CollectingDispatcher, slot: str, response: str
    ) -> Dict[Text, Any]:
        failures = slot_number(tracker, "form_failures") + 1
        if failures < self._max_attempts():
            dispatcher.utter_message(response=response)
        logger.info("Order form: %s failed (%d) for %s", slot, failures, tracker.sender_id)
        return {slot: None, "form_failures": failures}

    @staticmethod
    def _unavailable(dispatcher: CollectingDispatcher, slot: str) -> Dict[Text, Any]:
        # Not the customer's fault: apologise, do not count it as a failed attempt.
        logger.exception("Database failure while validating %s", slot)
        dispatcher.utter_message(response="utter_service_unavailable")
        return {slot: None}

    async def extract_order_no(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Takes an answer that starts like an order number as the order number.

        The domain's from_text mapping skips messages classified as an interruption
        (out of scope, a question…); "DD2026'; DROP TABLE…" must still be refused as a
        malformed number, not answered as small talk.
        """
        if tracker.get_slot("requested_slot") != "order_no" or "order_no" in (
            tracker.slots_to_validate()
        ):
            return {}
        text = latest_text(tracker)
        pattern = knowledge.policies()["order_number"]["attempt_pattern"]
        if re.match(pattern, unicodedata.normalize("NFKC", text)):
            return {"order_no": text}
        return {}

    def validate_order_no(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Accepts a well-formed number. Whether the order exists is not told here."""
        order_no = order_number_in(str(value or ""))
        if order_no is None and says_no_order(str(value or ""), tracker.get_slot("service_kind")):
            tell_no_order(dispatcher)  # 我没有订单 / 没下单呢, read as a status query or a yes
            return {"order_no": None, "service_kind": NO_ORDER}
        if order_no is None and tracker.get_slot("service_kind") in TICKET_KINDS and \
                describes_problem(str(value or "")):
            # 米家S10边刷掉了: more about the problem, kept for the ticket, not a bad number.
            return {**self._fail(tracker, dispatcher, "order_no", "utter_order_detail_noted"),
                    "request_detail": with_detail(tracker.get_slot("request_detail"), str(value))}
        if order_no is None:
            return self._fail(tracker, dispatcher, "order_no", "utter_order_no_invalid")
        phone = phone_given(tracker.events)
        if phone:
            try:
                locked = verification.lock_of(order_no, client_of(tracker.events))
                owner = None if locked else verification.order_owner(order_no)
            except SQLAlchemyError:
                return self._unavailable(dispatcher, "order_no")
            if owner and phone == re.sub(r"[^0-9]", "", str(owner[1])):
                # The customer already typed the order's phone: that is the check passed,
                # no need to ask for the last four digits again.
                return {"order_no": order_no, "form_failures": 0, "phone_last4": phone[-4:],
                        "verified_order": verification.verified(order_no)}
        # The phone check gets its own attempts.
        return {"order_no": order_no, "form_failures": 0}

    def validate_phone_last4(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Accepts the last four digits of the phone on an existing order; a wrong
        number and wrong digits fail alike, and both are asked again."""
        last4 = last4_in(str(value or ""))
        order_no = tracker.get_slot("order_no")
        if last4 is None or not order_no:
            return self._fail(tracker, dispatcher, "phone_last4", "utter_verification_failed")
        client = client_of(tracker.events)
        try:
            lock = verification.lock_of(order_no, client)
            owner = None if lock else verification.order_owner(order_no)
            mismatch = owner is None or not owner[1].endswith(last4)
            if lock is None and mismatch:
                verification.record_failure(order_no, client)
        except SQLAlchemyError:
            return self._unavailable(dispatcher, "phone_last4")
        if lock is not None:
            logger.warning("Order form: self-service refused (%s limit) for %s", lock, order_no)
            dispatcher.utter_message(response="utter_order_locked")
            return {"phone_last4": None, "form_failures": self._max_attempts(),
                    "verification_locked": order_no if lock == "order" else "client"}
        if mismatch:
            failed = self._fail(tracker, dispatcher, "phone_last4", "utter_verification_failed")
            return {**failed, "order_no": None}
        return {"phone_last4": last4, "verified_order": verification.verified(order_no)}


class ActionReportOrder(ShopAction):
    """After the form: status, a return ticket or a repair ticket — or the give-up."""

    def name(self) -> Text:
        return "action_report_order"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if tracker.get_slot("service_kind") == NO_ORDER:  # answered in validate_order_no
            return reset_events()
        order_no = tracker.get_slot("order_no")
        locked = tracker.get_slot("verification_locked")
        if locked:
            # Staff see why in the ticket; the customer was told in the form.
            reason = handoff_reason("client_locked") if locked == "client" else \
                handoff_reason("order_locked", order_no=locked)
            return [*open_handoff(dispatcher, tracker, reason), *reset_events()]
        if not (order_no and tracker.get_slot("phone_last4")):
            dispatcher.utter_message(response="utter_too_many_attempts")
            return [*reset_events(), SlotSet("human_offered", True)]
        kind = tracker.get_slot("service_kind") or "status"
        with session_scope() as session:
            order = repository.orders.find_order(session=session, order_no=order_no)
            if order is None:  # deleted between validation and now
                dispatcher.utter_message(response="utter_order_not_found")
                return reset_events()
            handle = order_requests.REQUESTS.get(kind)
            if handle:
                handle(dispatcher, tracker, session, order)
            else:
                order_requests.tell_status(dispatcher, order)
        return [*reset_events(), remember_lookup(tracker, order_no)]


class ActionCancelRequest(ShopAction):
    """The customer stopped the order form (算了/不查了)."""

    def name(self) -> Text:
        return "action_cancel_request"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        left = leave_without_order(dispatcher, tracker)  # 不用查了 我还没下单
        if left is not None:
            return left
        dispatcher.utter_message(response="utter_request_cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None), *reset_events()]
