"""The review queue as the staff console shows and changes it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Sequence

from shop import deadlines
from shop.config import settings
from shop.db import repository
from shop.db.engine import session_scope
from shop.db.models import ReviewItem
from shop.review import export as exporting
from shop.review import recheck as rechecking
from shop.review import scan as scanning
from shop.review.rules import (
    REASONS,
    STATUSES,
    label_choices,
    label_keys,
    label_name,
    reason_name,
    rules,
    status_name,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class QueueError(ValueError):
    """A request the queue refuses; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _iso(moment: Any) -> Optional[str]:
    return deadlines.to_local(moment).isoformat(timespec="seconds") if moment else None


def item_view(item: ReviewItem) -> Dict[str, Any]:
    """One queued message with its context, as the console shows it."""
    context = dict(item.context or {})
    return {
        "id": item.id,
        "conversation_id": item.conversation_id,
        "text": item.text,
        "predicted_intent": item.predicted_intent,
        "predicted_name": label_name(item.predicted_intent) if item.predicted_intent else None,
        "confidence": round(item.confidence, 3) if item.confidence is not None else None,
        "reason": item.reason,
        "reason_name": reason_name(item.reason),
        "context": {key: context.get(key) for key in ("bot_before", "bot_reply",
                                                       "customer_next")},
        "created_at": _iso(item.created_at),
        "status": item.status,
        "status_name": status_name(item.status),
        "label": item.label,
        "label_name": label_name(item.label) if item.label else None,
        "labelled_by": item.labelled_by,
        "labelled_at": _iso(item.labelled_at),
        "export_note": item.export_note,
    }


def _choices(values: Sequence[str], allowed: Sequence[str], what: str) -> List[str]:
    chosen = [v for v in values if v]
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise QueueError(f"未知的{what}：{'、'.join(unknown)}")
    return chosen


def listing(
    statuses: Sequence[str] = (), reasons: Sequence[str] = (),
    conversation_id: Optional[str] = None, limit: int = PAGE_SIZE, offset: int = 0,
) -> Dict[str, Any]:
    """Queued messages with the filters, the counts per status and the label choices."""
    statuses = _choices(statuses, STATUSES, "状态")
    reasons = _choices(reasons, REASONS, "原因")
    if not 1 <= limit <= MAX_PAGE_SIZE or offset < 0:
        raise QueueError(f"每页 1–{MAX_PAGE_SIZE} 条")
    with session_scope() as session:
        items = repository.review.review_items(
            session=session, statuses=statuses, reasons=reasons,
            conversation_ids=[conversation_id] if conversation_id else [],
            limit=limit, offset=offset)
        counts = repository.review.review_counts(session=session)
        return {
            "items": [item_view(i) for i in items],
            "counts": {s: counts.get(s, 0) for s in STATUSES},
            "labels": label_choices(),
            "reasons": {r: reason_name(r) for r in REASONS},
            "statuses": {s: status_name(s) for s in STATUSES},
            "low_confidence": float(rules()["low_confidence"]),
        }


def label(item_id: int, label_key: str, staff: str) -> Dict[str, Any]:
    """Records a label; an exported message keeps the label it was exported with."""
    if label_key not in label_keys():
        raise QueueError("请选择列表中的意图或“新话题”")
    with session_scope() as session:
        item = repository.review.get_review_item(session=session, item_id=item_id)
        if item is None:
            raise QueueError("没有这条待复核消息", 404)
        if item.status == "exported":
            raise QueueError("这条消息已导出为训练数据，不能再修改标注", 409)
        repository.review.label_review_item(
            session=session, item=item, label=label_key, staff=staff)
        logger.info("Review item %s labelled %s by %s", item_id, label_key, staff)
        return item_view(item)


def scan_summary() -> Dict[str, Any]:
    """Runs a scan now (the console's button; the background task runs it regularly)."""
    result = scanning.scan()
    return {"queued": len(result.queued), "last_event_id": result.last_event_id}


def export_summary() -> Dict[str, Any]:
    """Exports every labelled message into the project's training data."""
    result = exporting.export(exporting.DATA_DIR, topics_file=exporting.TOPICS_FILE)
    return {
        "written": {path: [{"label": label, "text": text} for label, text in entries]
                    for path, entries in result.written.items()},
        "new_topics": result.new_topics,
        "skipped": [{"id": s.item_id, "text": s.text, "label": s.label, "reason": s.reason}
                    for s in result.skipped],
        "exported": result.exported,
    }


async def recheck_now(parser: rechecking.Parser, model: str) -> Dict[str, Any]:
    """Re-checks with the running model and stores the result as the last re-check."""
    result = await rechecking.recheck(parser, model)
    await asyncio.to_thread(rechecking.save, result, rechecking.RECHECK_FILE)
    return result.as_json()


def last_recheck() -> Optional[Dict[str, Any]]:
    return rechecking.last(rechecking.RECHECK_FILE)


async def watch() -> None:
    """Scans the tracker store forever (a background task of the console)."""
    while True:
        try:
            await asyncio.to_thread(scanning.scan)
        except Exception:
            logger.exception("Review scan failed; retrying")
        await asyncio.sleep(settings.review_scan_seconds or float(rules()["scan_seconds"]))
