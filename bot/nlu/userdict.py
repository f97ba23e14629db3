"""Generates the jieba user dictionary from `knowledge/`.

Rasa's JiebaTokenizer loads every file in its `dictionary_path` folder, so this
writes exactly one file there. Run: `python -m bot.nlu.userdict` (the Makefile does).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable, List

from shop import knowledge
from shop.config import PROJECT_ROOT

DICTIONARY_DIR = PROJECT_ROOT / "bot" / "dictionary"
# High enough that jieba keeps catalogue names in one piece ("风尊", "Y9000P").
TERM_FREQUENCY = 20000


def dictionary_terms() -> List[str]:
    """Catalogue names and aliases plus the service vocabulary, de-duplicated."""
    terms: Iterable[str] = [term for term, _, _ in knowledge.catalogue_terms()]
    terms = [*terms, *knowledge.policies().get("service_terms", [])]
    # jieba's dictionary format is space separated: multi-word names cannot go in.
    return sorted({t.strip() for t in terms if t.strip() and " " not in t.strip()})


def write_dictionary(directory: Path = DICTIONARY_DIR) -> Path:
    """Writes `userdict.txt` into `directory` and returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "userdict.txt"
    lines = [f"{term} {TERM_FREQUENCY} n" for term in dictionary_terms()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    written = write_dictionary(Path(sys.argv[1]) if len(sys.argv) > 1 else DICTIONARY_DIR)
    print(f"jieba user dictionary: {written}")
