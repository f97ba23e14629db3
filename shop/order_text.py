"""What a customer's message says about an order: its number, phone digits, and whether
it claims a price difference (价保). Pure text; the rules are knowledge/policies.yml."""

from __future__ import annotations

import re
import unicodedata
from typing import Optional

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
