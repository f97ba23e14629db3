"""The pinyin of a message, for the character model of the ensemble.

Customers type with pinyin keyboards, so their typos are homophones: 态度恶略 for
恶劣, 不会在订了 for 再, 沒 for 没. Character n-grams see a different character;
the syllables (toneless, so 在/再 and 略/劣 read the same) do not. pypinyin (MIT)
ships its dictionary in the wheel: nothing is downloaded.
"""

from __future__ import annotations

import os
from typing import List

# Each character's usual reading, without pypinyin's phrase dictionary (set before
# the import that loads it): +12 MB per process instead of +58 MB. 重新 reads zhong
# xin then; the features only need the same characters to read the same way.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "true")

from pypinyin import Style, lazy_pinyin  # noqa: E402


def syllables(text: str) -> str:
    """Toneless syllables of the Chinese characters, space-separated; any other run of
    characters (latin, digits) stays one lower-case token, spaces and punctuation go."""
    tokens: List[str] = []
    for item in lazy_pinyin(text or "", style=Style.NORMAL, errors="default"):
        tokens.extend(item.lower().split())
    return " ".join(token for token in tokens if any(c.isalnum() for c in token))
