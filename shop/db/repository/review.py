"""The review queue (四个不漏): scan cursors and the messages queued for labelling."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop import deadlines
from shop.db.models import (
    ReviewItem,
    ScanCursor,
)


def get_scan_cursor(*, session: Session, name: str) -> int:
    """The last tracker-store event id a scan has looked at (0 before the first)."""
    row = session.get(ScanCursor, name)
    return int(row.last_event_id) if row is not None else 0


def save_scan_cursor(
    *, session: Session, name: str, last_event_id: int, now: Optional[datetime] = None,
    restart: bool = False,
) -> None:
    """Moves a scan cursor forward (never back, as two scans may finish in any order,
    unless `restart`: the scanned store was replaced and its ids begin again)."""
    row = session.get(ScanCursor, name)
    if row is None:
        row = ScanCursor(name=name, last_event_id=0)
        session.add(row)
    current = 0 if restart else int(row.last_event_id or 0)
    row.last_event_id = max(current, last_event_id)
    row.updated_at = now or deadlines.utcnow()
    session.flush()


def add_review_item(
    *,
    session: Session,
    conversation_id: str,
    event_id: int,
    text: str,
    reason: str,
    created_at: datetime,
    predicted_intent: Optional[str] = None,
    confidence: Optional[float] = None,
    context: Optional[Dict[str, Any]] = None,
) -> Optional[ReviewItem]:
    """Queues a message for review; None when that message is queued already.

    The unique (conversation_id, event_id) decides, so overlapping scans never
    queue a message twice.
    """
    existing = session.execute(
        select(ReviewItem.id).where(ReviewItem.conversation_id == conversation_id,
                                    ReviewItem.event_id == event_id)
    ).first()
    if existing is not None:
        return None
    item = ReviewItem(
        conversation_id=conversation_id, event_id=event_id, text=text, reason=reason,
        created_at=created_at, predicted_intent=predicted_intent, confidence=confidence,
        context=dict(context or {}), status="new",
    )
    try:
        with session.begin_nested():
            session.add(item)
    except IntegrityError:
        return None
    return item


def review_items(
    *,
    session: Session,
    statuses: Sequence[str] = (),
    reasons: Sequence[str] = (),
    conversation_ids: Sequence[str] = (),
    item_ids: Sequence[int] = (),
    limit: Optional[int] = None,
    offset: int = 0,
) -> List[ReviewItem]:
    """Queued messages matching every given filter, oldest first."""
    statement = select(ReviewItem)
    if statuses:
        statement = statement.where(ReviewItem.status.in_(list(statuses)))
    if reasons:
        statement = statement.where(ReviewItem.reason.in_(list(reasons)))
    if conversation_ids:
        statement = statement.where(ReviewItem.conversation_id.in_(list(conversation_ids)))
    if item_ids:
        statement = statement.where(ReviewItem.id.in_(list(item_ids)))
    statement = statement.order_by(ReviewItem.created_at, ReviewItem.id).offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.execute(statement).scalars())


def review_counts(*, session: Session) -> Dict[str, int]:
    """How many queued messages there are per status."""
    statement = select(ReviewItem.status, func.count()).group_by(ReviewItem.status)
    return {status: int(count) for status, count in session.execute(statement)}


def get_review_item(*, session: Session, item_id: int) -> Optional[ReviewItem]:
    """One queued message, or None."""
    return session.get(ReviewItem, item_id)


def label_review_item(
    *, session: Session, item: ReviewItem, label: str, staff: str,
    now: Optional[datetime] = None,
) -> None:
    """Records the intent staff picked for a message (it may be changed until exported)."""
    item.label = label
    item.labelled_by = staff
    item.labelled_at = now or deadlines.utcnow()
    item.status = "labelled"
    session.flush()


def set_review_context(*, session: Session, item: ReviewItem, context: Dict[str, Any]) -> None:
    """Replaces a queued message's context (a later scan learned the next message)."""
    item.context = dict(context)
    session.flush()


def mark_review_exported(
    *, session: Session, notes: Dict[int, str], now: Optional[datetime] = None
) -> int:
    """Marks labelled messages as exported, each with where it went (or why not)."""
    now = now or deadlines.utcnow()
    changed = 0
    for item_id, note in notes.items():
        result = session.execute(
            update(ReviewItem)
            .where(ReviewItem.id == item_id, ReviewItem.status == "labelled")
            .values(status="exported", exported_at=now, export_note=note[:255])
            .execution_options(synchronize_session=False)
        )
        changed += int(result.rowcount or 0)
    return changed
