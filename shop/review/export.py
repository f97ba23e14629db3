"""Labelled messages → Rasa NLU training data; new topics → a list for the team.

Each example is appended to the file under the data directory that already holds
its intent, as a new `- intent: X` block at the end (Rasa allows an intent in several
blocks), so every other byte of the file stays as it was; an intent no file holds
yet goes to `nlu/review.yml`. Texts of the held-out test set and texts already in
the training data are never added (they are reported), nor are phone numbers.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from shop import deadlines
from shop.config import PROJECT_ROOT
from shop.db import repository
from shop.db.engine import session_scope
from shop.privacy import mask_phone
from shop.review.rules import NEW_TOPIC, label_name, rules

logger = logging.getLogger(__name__)

DATA_DIR = PROJECT_ROOT / "data"
# Training data outside data/ (the Makefile's DATA): FAQ answers with examples.
EXTRA_TRAINING = (PROJECT_ROOT / "knowledge" / "faq.yml",)
# Both held-out sets (team-written and real customers'): never exported into training.
TEST_SETS = tuple(sorted((PROJECT_ROOT / "tests" / "nlu").rglob("*.yml")))
RESULTS_DIR = PROJECT_ROOT / "results" / "review"
TOPICS_FILE = RESULTS_DIR / "new_topics.md"

_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_SPACE = re.compile(r"\s+")
# Rasa reads [text](entity) as an annotation: such a message cannot be an example.
_MARKUP = re.compile(r"[\[\]{}]")


@dataclass
class Skipped:
    item_id: int
    text: str
    label: str
    reason: str  # test_set / in_training / duplicate / too_long / markup


@dataclass
class ExportResult:
    # file (relative to the data directory) → [(label, text)]
    written: Dict[str, List[Tuple[str, str]]] = field(default_factory=dict)
    new_topics: List[str] = field(default_factory=list)
    skipped: List[Skipped] = field(default_factory=list)

    @property
    def exported(self) -> int:
        return sum(len(v) for v in self.written.values()) + len(self.new_topics)


@lru_cache(maxsize=1)
def _converter():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def text_key(text: str) -> str:
    """How the model sees a text, for comparing: annotations removed, NFKC,
    Simplified, no whitespace, case folded (as bot/nlu/normalizer.py normalises)."""
    plain = _ANNOTATION.sub(r"\1", text)
    plain = _converter().convert(unicodedata.normalize("NFKC", plain))
    return _SPACE.sub("", plain).casefold()


def examples_of(path: Path) -> Dict[str, str]:
    """{text key: intent} of every NLU example in a Rasa YAML file."""
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        logger.warning("Cannot read %s for examples", path)
        return {}
    found: Dict[str, str] = {}
    blocks = content.get("nlu") if isinstance(content, dict) else None
    for entry in blocks if isinstance(blocks, list) else []:
        if not isinstance(entry, dict) or "intent" not in entry:
            continue
        for line in str(entry.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                found.setdefault(text_key(line[2:]), str(entry["intent"]))
    return found


def training_files(data_dir: Path) -> List[Path]:
    return sorted(p for p in data_dir.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def _intent_line(intent: str) -> re.Pattern:
    return re.compile(rf"^(?P<indent>[ ]*)- intent:[ ]*[\"']?{re.escape(intent)}[\"']?[ ]*$",
                      re.MULTILINE)


def _last_top_key(text: str) -> Optional[str]:
    keys = re.findall(r"^([A-Za-z_]+):", text, re.MULTILINE)
    return keys[-1] if keys else None


def target_file(data_dir: Path, intent: str) -> Tuple[Path, str]:
    """The file holding the intent whose last section is `nlu:` (safe to append to),
    and the indentation of its blocks; else the default file."""
    for path in training_files(data_dir):
        text = path.read_text(encoding="utf-8")
        match = _intent_line(intent).search(text)
        if match and _last_top_key(text) == "nlu":
            return path, match.group("indent")
    return data_dir / str(rules()["default_file"]), ""


def block(intent: str, texts: Sequence[str], indent: str = "") -> str:
    """A `- intent:` block with `examples: |`, as the data files write them."""
    lines = [f"{indent}- intent: {intent}", f"{indent}  examples: |"]
    lines += [f"{indent}    - {text}" for text in texts]
    return "\n".join(lines) + "\n"


def append_examples(path: Path, intent: str, texts: Sequence[str], indent: str = "") -> None:
    """Appends one block at the end; the bytes before it are left as they were."""
    if path.exists():
        before = path.read_bytes()
        separator = b"" if not before or before.endswith(b"\n") else b"\n"
        with path.open("ab") as handle:
            handle.write(separator + block(intent, texts, indent).encode("utf-8"))
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        header = ('version: "3.1"\n# Examples from the review queue (四个不漏) for intents '
                  "no other file holds.\nnlu:\n")
        path.write_text(header + block(intent, texts), encoding="utf-8")


def append_topics(path: Path, topics: Iterable[Tuple[str, str, str, str]]) -> None:
    """Appends `- text（time · conversation · labelled by）` lines to the Markdown list."""
    lines = [f"- {text}（{time} · 会话 {conversation} · 标注：{staff}）"
             for text, time, conversation, staff in topics]
    if not lines:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text("# 新话题（待团队评估）\n\n客户问到、但现有意图都不合适的问题，"
                        "来自复核队列（四个不漏）。\n\n", encoding="utf-8")
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def _clean(text: str) -> str:
    return mask_phone(_SPACE.sub(" ", text).strip())


def export(
    data_dir: Path = DATA_DIR,
    *,
    topics_file: Path = TOPICS_FILE,
    test_sets: Sequence[Path] = TEST_SETS,
    extra_training: Sequence[Path] = EXTRA_TRAINING,
    now: Optional[datetime] = None,
) -> ExportResult:
    """Writes every labelled message out and marks it exported (skipped ones too,
    with the reason in `export_note`)."""
    now = now or deadlines.utcnow()
    limit = int(rules()["max_example_chars"])
    held_out: Dict[str, str] = {}
    for path in test_sets:
        held_out.update(examples_of(path))
    trained: Dict[str, str] = {}
    for path in [*training_files(data_dir), *extra_training]:
        if path.exists():
            trained.update(examples_of(path))
    result = ExportResult()
    notes: Dict[int, str] = {}
    by_intent: Dict[str, List[Tuple[int, str]]] = defaultdict(list)
    topics: List[Tuple[str, str, str, str]] = []
    with session_scope() as session:
        items = repository.review.review_items(session=session, statuses=["labelled"])
        for item in items:
            text = _clean(item.text)
            label = str(item.label)
            key = text_key(text)
            reason = None
            if label == NEW_TOPIC:
                topics.append((text, deadlines.to_local(item.created_at).strftime(
                    "%Y-%m-%d %H:%M"), item.conversation_id, item.labelled_by or "-"))
                result.new_topics.append(text)
                notes[item.id] = str(topics_file.name)
                continue
            if key in held_out:
                reason = "test_set"
            elif key in trained:
                reason = "in_training"
            elif len(text) > limit:
                reason = "too_long"
            elif _MARKUP.search(text) or not key:
                reason = "markup"
            if reason:
                result.skipped.append(Skipped(item.id, text, label, reason))
                notes[item.id] = f"skipped: {reason}"
                continue
            trained[key] = label  # a second message with the same text is a duplicate
            by_intent[label].append((item.id, text))
        for intent, entries in by_intent.items():
            path, indent = target_file(data_dir, intent)
            append_examples(path, intent, [text for _, text in entries], indent)
            relative = path.relative_to(data_dir).as_posix()
            result.written.setdefault(relative, []).extend(
                (intent, text) for _, text in entries)
            for item_id, _ in entries:
                notes[item_id] = relative
            logger.info("Review export: %d example(s) of %s (%s) into %s",
                        len(entries), intent, label_name(intent), path)
        append_topics(topics_file, topics)
        repository.review.mark_review_exported(session=session, notes=notes, now=now)
    return result
