"""A decision to buy told in chat (那就买这个吧, 我要这款, 拍下了) and how to order.

The words are data (knowledge/policies.yml `ordering`). The classifier reads such
messages as objections (买了 → objection_no_need) or product questions; the objection
and product actions ask this module first, so a customer who has decided gets how to
order, not another sales script.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Optional

from shop import knowledge

DECIDED = "decided"
ORDERED = "ordered"

# What is left of a message once spaces and end punctuation go (买了！ → 买了).
_TRIM = re.compile(r"[\s，,。.!！?？~～]+")


def _rules() -> Dict[str, Any]:
    return knowledge.policies()["ordering"]


def _said(text: str, words: Any, negations: Any) -> bool:
    """One of `words` in `text`, not right after a negation (不要这个了, 没拍; 不错就它了
    is a decision)."""
    for word in words:
        start = text.find(str(word))
        while start >= 0:
            if not any(text[:start].endswith(str(n)) for n in negations):
                return True
            start = text.find(str(word), start + 1)
    return False


def decision(text: str) -> Optional[str]:
    """"ordered" (拍下了), "decided" (就买这个吧, a bare 买了) or None."""
    rules = _rules()
    trimmed = _TRIM.sub("", text or "")
    if not trimmed:
        return None
    if any(str(word) in trimmed for word in rules.get("postponing") or []):
        return None
    negations = rules.get("negations") or []
    if _said(trimmed, rules.get("ordered") or [], negations) or trimmed in {
            str(w) for w in rules.get("ordered_whole") or []}:
        return ORDERED
    if trimmed in {str(w) for w in rules.get("decided_whole") or []}:
        return DECIDED
    if _said(trimmed, rules.get("decided") or [], negations):
        return DECIDED
    return None


def how_to_order() -> str:
    """The steps, without a final full stop (replies add their own)."""
    return str(_rules()["explain"]).strip().rstrip("。")


def dispatch_times() -> str:
    return str(_rules()["dispatch"]).strip().rstrip("。")
