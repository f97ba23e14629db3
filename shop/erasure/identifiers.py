"""What is personal, and what replaces it."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, List

# What a personal value is replaced with (customers and staff read it in transcripts).
ERASED = "[已删除]"
# Shorter strings would erase ordinary words wherever they appear.
MIN_IDENTIFIER_LENGTH = 2


def pseudonym(conversation_id: str, prefix: str = "erased") -> str:
    """A stable stand-in for a conversation id: the same id always maps to the same
    pseudonym (its tickets, ratings and events stay together), and it cannot be
    turned back into the id."""
    if conversation_id.startswith(("erased-", "anon-")):
        return conversation_id
    digest = hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:20]
    return f"{prefix}-{digest}"


def json_escaped(value: str) -> str:
    """How `value` appears inside JSON written with json.dumps' defaults (Rasa's
    tracker store): non-ASCII characters as \\uXXXX escapes."""
    return json.dumps(value)[1:-1]


class Scrubber:
    """Replaces a set of personal strings (a name, a phone number, order numbers)."""

    def __init__(self, identifiers: Iterable[str]) -> None:
        unique = {i.strip() for i in identifiers if i and len(i.strip()) >= MIN_IDENTIFIER_LENGTH}
        # The longer first: a name inside a longer identifier is replaced with it.
        self.identifiers: List[str] = sorted(unique, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self.identifiers)

    def text(self, value: str) -> str:
        for identifier in self.identifiers:
            if identifier in value:
                value = value.replace(identifier, ERASED)
        return value

    def matches(self, value: str) -> bool:
        return any(i in value for i in self.identifiers)

    def value(self, value: Any) -> Any:
        """`value` (a string, or JSON-like lists and dicts of them) with every
        identifier replaced; keys are kept."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    def like_patterns(self) -> List[str]:
        """SQL LIKE patterns that find the identifiers in text and in escaped JSON."""
        patterns = set()
        for identifier in self.identifiers:
            for form in (identifier, json_escaped(identifier)):
                escaped = form.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
                patterns.add(f"%{escaped}%")
        return sorted(patterns)
