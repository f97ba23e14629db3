"""What a customer's messages say about an order: its number, phone digits, whether it
claims a price difference (价保), a problem told in words. Pure text and event lists (no
Rasa); the rules are knowledge/policies.yml."""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Dict, List, Optional

from shop import knowledge


def asks_price_difference(text: str, kind: str = "return") -> bool:
    """降价了能退差价吗, 申请价保, 昨天买的今天降了: money back for a price drop.

    A return request naming the difference is this claim; a status question is only
    when it tells of a drop after buying (补差价的订单发货了吗 still asks for the parcel).
    """
    policy = knowledge.policies()["price_protection"]
    dropped = re.search(policy["dropped_after_buying"], text) is not None
    if kind == "return":
        return dropped or any(word in text for word in policy["words"])
    return kind == "status" and dropped


def order_number_in(text: str) -> Optional[str]:
    """The first well-formed order number in `text`, upper-cased, or None."""
    # from_text slots hold the raw message (not the NLU-normalised text): fold
    # full-width ＤＤ２０２６… from Chinese input methods here too.
    match = re.search(
        knowledge.policies()["order_number"]["pattern"], unicodedata.normalize("NFKC", text or "")
    )
    return match.group(0).upper() if match else None


def last4_in(text: str) -> Optional[str]:
    """Last four phone digits from `1234`, `尾号1234` or a full 11-digit number."""
    digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", text or ""))
    if len(digits) in (4, 11):
        return digits[-4:]
    return None


# A detail kept for a ticket: the customer's own words, at most this long (the ticket's
# detail column is free text shown to staff; a pasted essay stays readable).
DETAIL_LIMIT = 500


def describes_problem(text: str) -> bool:
    """A message in words (米家S10边刷掉了), not an attempt at an order number: no DD and
    digit, no run of six digits, at least two Chinese characters."""
    folded = unicodedata.normalize("NFKC", text or "")
    if re.search(knowledge.policies()["order_number"]["attempt_pattern"], folded) or re.search(
            r"[Dd][Dd]\s*\d|\d{6}", folded):
        return False
    return len(re.findall(r"[\u4e00-\u9fff]", folded)) >= 2


def says_no_order(text: str, kind: Optional[str]) -> bool:
    """我还没下单 / 还没买呢 想先问问 to a status query's number prompt (`kind` status or
    None): the customer has no order (knowledge/policies.yml `order_form.no_order_yet`)."""
    if (kind or "status") != "status":
        return False
    signs = knowledge.policies()["order_form"]["no_order_yet"]
    folded = unicodedata.normalize("NFKC", text or "")
    return any(word in folded for word in signs["words"]) and not any(
        word in folded for word in signs.get("unless") or [])


def with_detail(kept: Optional[str], text: str) -> str:
    """The detail so far with `text` added on a new line, cut to DETAIL_LIMIT."""
    added = (text or "").strip()
    joined = f"{kept}\n{added}" if kept and added else (kept or added)
    return joined[:DETAIL_LIMIT]


def client_of(events: List[Dict[str, Any]]) -> str:
    """The client address the channel stamped on the latest user message ("" if none)."""
    for event in reversed(events):
        if event.get("event") == "user":
            return str((event.get("metadata") or {}).get("client") or "")[:64]
    return ""


def phone_given(events: List[Dict[str, Any]]) -> Optional[str]:
    """The latest full phone number the customer typed in a conversation's events, if any
    ("我手机138… 帮我查订单" before the form asked for it)."""
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        for entity in (event.get("parse_data") or {}).get("entities") or []:
            digits = re.sub(r"[^0-9]", "", str(entity.get("value") or ""))
            if entity.get("entity") == "phone" and len(digits) == 11:
                return digits
    return None


# The order form's slots: a message that filled one answered the form.
FORM_SLOTS = ("order_no", "phone_last4")


def side_questions(events: List[Dict[str, Any]], form: str) -> int:
    """User messages since `form` started or last got an answer, the latest included
    (the one being answered now). The message that started the form, or answered it,
    comes before the form's event, so it is not counted."""
    count = 0
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            count += 1
        elif kind == "slot" and event.get("name") in FORM_SLOTS and event.get("value"):
            return count
        elif kind == "active_loop" and event.get("name") == form:
            return count
    return count


# The form that asks for the order number, and the requests that open a ticket (what
# the customer says of the problem is kept for it).
ORDER_FORM = "order_form"
TICKET_KINDS = ("return", "price_diff", "repair")


def interrupted_form(events: List[Dict[str, Any]]) -> Optional[str]:
    """The form that was active when the latest user message came, if an action has
    deactivated it since (a complaint inside the order form); None otherwise."""
    users = [i for i, event in enumerate(events) if event.get("event") == "user"]
    if not users:
        return None
    active: Optional[str] = None
    for event in events[:users[-1]]:
        if event.get("event") == "active_loop":
            active = event.get("name") or None
    stopped = any(event.get("event") == "active_loop" and not event.get("name")
                  for event in events[users[-1]:])
    return active if stopped else None


def paused_request(events: List[Dict[str, Any]], kind: Optional[str]) -> Optional[str]:
    """The ticket request (`kind`) the latest message interrupted by leaving the order
    form, to be taken up again afterwards; None if it interrupted nothing."""
    return kind if kind in TICKET_KINDS and interrupted_form(events) == ORDER_FORM else None
