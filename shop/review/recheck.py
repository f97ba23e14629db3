"""Re-check: which earlier misses does a model get right now?

Every labelled or exported message (new topics aside) is parsed again; it counts as
learnt when the predicted intent — faq/<key> for FAQ questions — equals its label.
The CLI loads a model file (`Agent.load`); the console uses its running agent.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional, Protocol

from shop import deadlines
from shop.db import repository
from shop.db.engine import session_scope
from shop.insights.tables import Table
from shop.review.export import RESULTS_DIR
from shop.review.rules import NEW_TOPIC

logger = logging.getLogger(__name__)

RECHECK_FILE = RESULTS_DIR / "recheck.json"
COLUMNS = ["item", "text", "label", "before", "now", "confidence", "fixed"]


class Parser(Protocol):
    async def parse_message(self, message_data: str) -> Dict[str, Any]: ...


@dataclass
class Recheck:
    model: str
    checked_at: datetime
    rows: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def fixed(self) -> int:
        return sum(1 for row in self.rows if row["fixed"])

    def table(self) -> Table:
        return Table("review_recheck", COLUMNS, [
            {**row, "fixed": "✓" if row["fixed"] else "✗"} for row in self.rows])

    def as_json(self) -> Dict[str, Any]:
        return {"model": self.model,
                "checked_at": deadlines.to_local(self.checked_at).isoformat(timespec="seconds"),
                "total": len(self.rows), "fixed": self.fixed, "rows": self.rows,
                "table": self.table().as_json()}


def predicted_label(parse: Dict[str, Any]) -> Optional[str]:
    """The intent of a parse result; FAQ questions as faq/<key>."""
    intent = parse.get("intent") or {}
    name = intent.get("full_retrieval_intent_name") or intent.get("name")
    if name and "/" not in name:
        selected = ((parse.get("response_selector") or {}).get(name) or {}).get("response") or {}
        name = selected.get("intent_response_key") or name
    return str(name) if name else None


async def recheck(parser: Parser, model: str, now: Optional[datetime] = None) -> Recheck:
    """Parses every labelled/exported message with `parser` and compares with its label."""
    with session_scope() as session:
        stored = repository.review.review_items(
            session=session, statuses=["labelled", "exported"])
        items = [(i.id, i.text, i.label, i.predicted_intent) for i in stored
                 if i.label != NEW_TOPIC]
    result = Recheck(model, now or deadlines.utcnow())
    for item_id, text, label, before in items:
        parse = await parser.parse_message(text)
        now_label = predicted_label(parse)
        confidence = (parse.get("intent") or {}).get("confidence")
        result.rows.append({
            "item": item_id, "text": text, "label": label, "before": before,
            "now": now_label,
            "confidence": round(float(confidence), 3) if confidence is not None else None,
            "fixed": now_label == label,
        })
    return result


def save(result: Recheck, path: Path = RECHECK_FILE) -> Path:
    """Stores the re-check as JSON (the console shows the last one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.as_json(), ensure_ascii=False, indent=2),
                    encoding="utf-8")
    return path


def last(path: Path = RECHECK_FILE) -> Optional[Dict[str, Any]]:
    """The stored re-check, or None."""
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None
