"""Customers' colloquial forms, typos, pinyin and English small talk → canonical text.

The table is data (knowledge/language.yml); this module compiles it into a few regular
expressions and applies them in a fixed order: the whole message, Latin words, Chinese
phrases, then a bare question tail (包邮不 → 包邮吗). Used by the NLU normaliser for
training and live messages alike, so both sides see the same forms.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import yaml

from shop.config import PROJECT_ROOT

DEFAULT_PATH = PROJECT_ROOT / "knowledge" / "language.yml"

# Spaces and punctuation dropped when a whole message is looked up ("ok!" = "ok").
_NOT_CONTENT = re.compile(r"[\s\W_]+", re.UNICODE)
_HAN = "\u4e00-\u9fff"
_TRAILING = "?？!！。.~～、，,…"
# Emoji modifiers (skin tones, the emoji presentation selector, joiners): 👌🏻 is 👌.
_EMOJI_MODIFIERS = re.compile("[\ufe0e\ufe0f\u200d\U0001f3fb-\U0001f3ff]")


def whole_key(text: str) -> str:
    """What a whole message is looked up by: its words in lower case ("ok!" = "ok"),
    or, for a message of symbols alone (👌, 🙏🙏), those symbols without spaces."""
    words = _NOT_CONTENT.sub("", text.lower())
    if words:
        return words
    return _EMOJI_MODIFIERS.sub("", "".join(text.split()))


def _alternation(keys: List[str]) -> str:
    # Longest first, so 啥时候 wins over 啥 and "thank you" over "thank".
    return "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))


class Lexicon:
    """Compiled rewrite rules; `apply` is pure and cheap (a handful of regex passes)."""

    def __init__(self, table: Mapping[str, Any]) -> None:
        self._whole: Dict[str, str] = {
            whole_key(str(k)): str(v)
            for k, v in (table.get("whole_message") or {}).items()
        }
        latin = {str(k).lower(): str(v) for k, v in (table.get("latin_words") or {}).items()}
        self._latin = latin
        # Whole words only: "hi" but not "hifi", "ty" but not "ty3" or "kitty".
        self._latin_re = (
            re.compile(rf"(?<![a-z0-9_])(?:{_alternation(list(latin))})(?![a-z0-9_])", re.I)
            if latin else None
        )
        phrases = {str(k): str(v) for k, v in (table.get("phrases") or {}).items()}
        self._phrases = phrases
        self._phrase_re = re.compile(_alternation(list(phrases))) if phrases else None
        tails = table.get("question_tails") or {}
        self._tail_re: Optional[re.Pattern[str]] = None
        if tails.get("tails"):
            self._tail_re = re.compile(
                rf"(?P<before>[{_HAN}])(?P<tail>{_alternation(list(tails['tails']))})"
                rf"(?P<end>[{re.escape(_TRAILING)}]*)$"
            )
        self._not_after = set(tails.get("not_after") or [])
        self._tail_min = int(tails.get("min_chars") or 3)

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> "Lexicon":
        with Path(path).open(encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle) or {})

    def apply(self, text: str) -> str:
        if text.startswith("/"):
            # A button payload (/intent{"entity": "value"}) is not customer prose.
            return text
        whole = self._whole.get(whole_key(text))
        if whole is not None:
            return whole
        if self._latin_re is not None:
            text = self._latin_re.sub(lambda m: self._latin[m.group(0).lower()], text)
        if self._phrase_re is not None:
            text = self._phrase_re.sub(lambda m: self._phrases[m.group(0)], text)
        return self._question_tail(text)

    def _question_tail(self, text: str) -> str:
        if self._tail_re is None or len(text.rstrip(_TRAILING)) < self._tail_min:
            return text
        match = self._tail_re.search(text)
        if match is None or match.group("before") in self._not_after:
            return text
        return f"{text[:match.start('tail')]}吗{match.group('end')}"
