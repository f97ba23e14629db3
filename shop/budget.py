"""Choosing by budget: 3000以内的有吗, 预算两千左右, 5千以下的手机, 两三千的, 2000到3000
(knowledge/catalogue.yml `budget`), among the products of the category in context.

The objection scripts ask "方便说说您心里的预算大概是多少吗？"; this is how the answer is
used. Chinese numerals are read by cn2an, the rest by one pattern built from the
catalogue's words.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional, Pattern, Sequence, Tuple

import cn2an

from shop import knowledge
from shop.db.models import Product

BELOW = "below"
ABOUT = "about"
BETWEEN = "between"
# A budget beyond any shop's goods, or under a yuan, is no budget (a phone number, 0).
_LARGEST = 1_000_000
# Budgets are said in short messages; only this much of one is read. 900 characters of
# 两三千 (2,700 once written as digit ranges) took 350 ms, 200 take under 20 ms.
_READ_CHARS = 200


@dataclass(frozen=True)
class Budget:
    amount: float  # the most, for BETWEEN
    kind: str  # BELOW, ABOUT or BETWEEN
    # Where it is in the message; None where numerals were rewritten as digits (两千),
    # which moves positions.
    span: Optional[Tuple[int, int]] = field(default=None, compare=False)
    least: float = 0.0  # BETWEEN only

    def __str__(self) -> str:
        """As a reply says it: "3000元以内", "2000元左右", "2000到3000元"."""
        if self.kind == BETWEEN:
            return f"{self.least:.10g}到{self.amount:.10g}元"
        return f"{self.amount:.10g}元{'左右' if self.kind == ABOUT else '以内'}"


def _rules() -> Dict[str, Any]:
    return knowledge.catalogue().get("budget") or {}


def _words(key: str) -> str:
    words = sorted((str(w) for w in _rules().get(key) or []), key=len, reverse=True)
    return "|".join(map(re.escape, words)) or "(?!)"


def _pattern() -> Pattern[str]:
    multipliers = "|".join(map(re.escape, (_rules().get("multipliers") or {})))
    return re.compile(
        rf"(?:(?P<before>{_words('before')})[^\d，,。？?！!\-－]{{0,3}})?"
        rf"(?<![\d.\-－])(?P<number>\d{{1,7}}(?:\.\d+)?)(?![\d.])\s*"
        rf"(?P<times>{multipliers or '(?!)'})?"
        rf"\s*(?P<currency>{_words('currency')})?\s*"
        rf"(?P<below>{_words('below')})?(?P<about>{_words('about')})?", re.IGNORECASE)


def _range_pattern() -> Pattern[str]:
    multipliers = "|".join(map(re.escape, (_rules().get("multipliers") or {}))) or "(?!)"
    number = r"\d{1,7}(?:\.\d+)?"
    return re.compile(
        rf"(?:(?P<before>{_words('before')})[^\d，,。？?！!]{{0,3}})?"
        rf"(?<![\d.\-－])(?P<least>{number})\s*(?P<least_times>{multipliers})?\s*"
        rf"(?:{_words('currency')})?\s*(?:{_words('range')})\s*"
        rf"(?P<most>{number})(?![\d.\-－])\s*(?P<times>{multipliers})?\s*"
        rf"(?P<currency>{_words('currency')})?(?!{_words('not_after')})", re.IGNORECASE)


_SPOKEN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
                  "八": 8, "九": 9}
# 两三千, 一两万: two neighbouring numerals before a unit, an approximate range.
_SPOKEN_RANGE = re.compile(rf"([{''.join(_SPOKEN_DIGITS)}]{{2}})([百千万])")
_UNITS = {"百": 100, "千": 1000, "万": 10000}


def _spoken_ranges(text: str) -> str:
    """两三千 → 2000到3000 (cn2an cannot read it); other numerals unchanged."""
    def rewrite(match: "re.Match[str]") -> str:
        least, most = (_SPOKEN_DIGITS[c] for c in match.group(1))
        if most != least + 1:
            return match.group(0)
        unit = _UNITS[match.group(2)]
        return f"{least * unit}到{most * unit}"
    return _SPOKEN_RANGE.sub(rewrite, text or "")


def _between(written: str, multipliers: Dict[str, float]) -> Optional[Budget]:
    for match in _range_pattern().finditer(written):
        times = match.group("times")
        scale = multipliers.get(times, 1.0) if times else 1.0
        least_times = match.group("least_times")
        most = float(match.group("most")) * scale
        least = float(match.group("least")) * (
            multipliers.get(least_times, 1.0) if least_times else scale)
        # Without a budget word, currency or multiplier a range must look like money:
        # 2000到3000 is, 15到20 (平米, 寸) is not.
        money = (match.group("before") or match.group("currency") or times or least_times
                 or most >= float(_rules().get("range_least") or 100))
        if money and 1 <= least < most <= _LARGEST:
            return Budget(most, BETWEEN, (match.start(), match.end()), least)
    return None


def digits(text: str) -> str:
    """The text with its Chinese numerals as digits (两千以内 → 2000以内); unchanged where
    cn2an cannot read one (两三千)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cn2an warns of each part it cannot read
        try:
            return str(cn2an.transform(text or "", "cn2an"))
        except (ValueError, KeyError, IndexError):
            return text or ""


def written(text: str) -> str:
    """The text as the budget is read from it (its first `_READ_CHARS`): numerals and
    spoken ranges as digits."""
    return digits(_spoken_ranges((text or "")[:_READ_CHARS]))


def stated(text: str) -> Optional[Budget]:
    """The budget the message names, if any, with where it is in the message."""
    written_text = written(text)
    found = _found(written_text)
    if found is None or written_text == (text or "")[:_READ_CHARS]:
        return found
    return replace(found, span=None)


def _found(written_text: str) -> Optional[Budget]:
    """The budget in a message as `written`; its span is in that text."""
    multipliers = {str(k): float(v) for k, v in (_rules().get("multipliers") or {}).items()}
    ranged = _between(written_text, multipliers)
    if ranged:
        return ranged
    for match in _pattern().finditer(written_text):
        before, below, about = match.group("before"), match.group("below"), match.group("about")
        if not (before or below or about or (match.group("currency") and match.group("times"))):
            continue
        times = match.group("times")
        amount = float(match.group("number")) * (multipliers.get(times, 1.0) if times else 1.0)
        if not 1 <= amount <= _LARGEST:
            continue
        # 预算大概三千: "about" may come before the amount too.
        vague = any(str(w) in match.group(0) for w in _rules().get("about") or [])
        kind = ABOUT if about or vague else BELOW
        return Budget(amount, kind, (match.start(), match.end()))
    return None


def within(products: Sequence[Product], budget: Budget) -> Tuple[List[Product], bool]:
    """Those the budget buys and True: for "below" and "between" dearest first, for
    "about" nearest first. If none: for "below" the cheapest, for the others the
    nearest, and False."""
    if budget.kind == BETWEEN:
        fitted = sorted((p for p in products if budget.least <= float(p.price) <= budget.amount),
                        key=lambda p: (-float(p.price), p.sku))
        if fitted:
            return fitted, True
        def outside(product: Product) -> Tuple[float, str]:  # how far from the range
            price = float(product.price)
            return max(budget.least - price, price - budget.amount), product.sku
        return sorted(products, key=outside)[:1], False
    if budget.kind == ABOUT:
        share = float(_rules().get("about_share") or 0)
        nearest = sorted(products, key=lambda p: (abs(float(p.price) - budget.amount), p.sku))
        fitted = [p for p in nearest
                  if abs(float(p.price) - budget.amount) <= share * budget.amount]
        return (fitted, True) if fitted else (nearest[:1], False)
    fitted = sorted((p for p in products if float(p.price) <= budget.amount),
                    key=lambda p: (-float(p.price), p.sku))
    if fitted:
        return fitted, True
    return sorted(products, key=lambda p: (float(p.price), p.sku))[:1], False
