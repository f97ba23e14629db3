"""A price-protection (价保) claim on someone else's order, as an attacker would try it.

The claim goes through the same order form as returns; these tests check, through the
REST channel of a real stack, that knowing another customer's order number is not
enough to open a 价保 ticket on it or to learn what the order holds.
"""

from __future__ import annotations

import sqlite3

from bench.stack import Stack
from tests.security.test_order_enumeration import phone_last4_of, say, sender

VICTIM = "DD202611180002"   # customer C001, delivered three days ago: within 15 days
CLAIM = "买了两天就降价了能退差价吗"


def price_diff_tickets(stack: Stack, order_no: str) -> int:
    with sqlite3.connect(stack.db_path) as connection:
        return connection.execute(
            "SELECT COUNT(*) FROM tickets WHERE kind = 'price_diff' AND order_no = ?",
            (order_no,)).fetchone()[0]


def claim(stack: Stack, digits: str, client: str) -> list:
    me = sender()
    return [say(stack, me, text, client) for text in (CLAIM, VICTIM, digits)]


def test_another_customers_order_number_opens_no_claim(stack: Stack) -> None:
    before = price_diff_tickets(stack, VICTIM)
    wrong = "0000" if phone_last4_of(stack, VICTIM) != "0000" else "1111"
    replies = claim(stack, wrong, "198.51.100.140")
    # The policy is told and the digits asked for, then refused with the form's words.
    assert "后四位" in replies[1]
    assert "不一致" in replies[2]
    # Nothing opened and nothing of the order told: not the ticket, product or carrier.
    assert "工单号" not in replies[2] and "价保申请" not in replies[2]
    assert "日日顺" not in "".join(replies) and "风尊" not in "".join(replies)
    assert price_diff_tickets(stack, VICTIM) == before


def test_the_owner_with_the_right_digits_opens_the_claim(stack: Stack) -> None:
    """The refusal above is the form's doing, not a claim path that never opens."""
    before = price_diff_tickets(stack, VICTIM)
    replies = claim(stack, phone_last4_of(stack, VICTIM), "198.51.100.141")
    assert "已为您登记价保申请" in replies[2]
    assert price_diff_tickets(stack, VICTIM) == before + 1
