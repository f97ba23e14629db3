"""Finds the messages the bot did not understand in Rasa's tracker store.

Incremental: the last event id looked at is kept in the database (`scan_cursors`),
so every scan reads only senders with newer events; the unique (conversation, event)
of a queued message makes overlapping or concurrent scans harmless. The events are
read with the helpers of `shop.insights.conversations` (read-only engine, the
`events` table, sessions, practice detection).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from shop import deadlines
from shop.config import settings
from shop.db import repository
from shop.db.engine import session_scope
from shop.insights import conversations, tracker_events
from shop.insights.tracker_events import EVENTS, Conversation, EventRow
from shop.review.rules import rules

logger = logging.getLogger(__name__)

CURSOR = "review"
FALLBACK_INTENT = "nlu_fallback"
# Senders per query (keeps the IN list small on every backend).
SENDER_BATCH = 200


@dataclass(frozen=True)
class StoredEvent(EventRow):
    """A tracker event with its `events.id` (where the scan stands)."""

    event_id: int = 0


@dataclass
class Miss:
    """One message the bot did not understand."""

    conversation_id: str
    event_id: int
    text: str
    reason: str
    timestamp: float
    predicted_intent: Optional[str]
    confidence: Optional[float]
    context: Dict[str, Any] = field(default_factory=dict)


@dataclass
class ScanResult:
    queued: List[Miss] = field(default_factory=list)
    found: int = 0
    last_event_id: int = 0


# ------------------------------------------------------------------ reading


def read_new_events(
    url: str, cursor: int, overlap: int = 0
) -> Optional[Tuple[List[StoredEvent], int, int]]:
    """All events of every sender with an event after id `cursor - overlap`, up to the
    newest id at the time of reading (so the cursor never passes an unread event).

    Returns (rows, newest id, the id read after) — after 0 when the store's ids are
    below the cursor (the store was replaced) — or None when there is no store yet.
    Raises SQLAlchemyError when it cannot be read.
    """
    engine = tracker_events.read_only_engine(url)
    if engine is None:
        return None
    after = max(0, cursor - overlap)
    try:
        with engine.connect() as connection:
            newest = connection.execute(sa.select(sa.func.max(EVENTS.c.id))).scalar() or 0
            if newest < cursor:
                logger.warning("Tracker store %s restarted its event ids (%s < %s): "
                               "scanning it from the start", _safe(url), newest, cursor)
                after = 0
            senders = list(connection.execute(
                sa.select(EVENTS.c.sender_id)
                .where(EVENTS.c.id > after, EVENTS.c.id <= newest).distinct()
            ).scalars())
            rows: List[StoredEvent] = []
            for start in range(0, len(senders), SENDER_BATCH):
                batch = senders[start:start + SENDER_BATCH]
                result = connection.execute(
                    sa.select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.type_name,
                              EVENTS.c.timestamp, EVENTS.c.intent_name,
                              EVENTS.c.action_name, EVENTS.c.data)
                    .where(EVENTS.c.sender_id.in_(batch), EVENTS.c.id <= newest)
                    .order_by(EVENTS.c.sender_id, EVENTS.c.id)
                )
                rows += [
                    StoredEvent(sender, type_name, float(stamp or 0.0), intent, action,
                                tracker_events.event_data(data), event_id=int(event_id))
                    for event_id, sender, type_name, stamp, intent, action, data in result
                ]
    finally:
        engine.dispose()
    return rows, int(newest), after


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# ------------------------------------------------------------------ analysis


def _text(event: EventRow) -> str:
    return str(event.data.get("text") or "").strip()


def _intent(event: EventRow) -> Tuple[Optional[str], Optional[float]]:
    intent = (event.data.get("parse_data") or {}).get("intent") or {}
    confidence = intent.get("confidence")
    return intent.get("name") or event.intent_name, (
        float(confidence) if confidence is not None else None)


def best_guess(event: EventRow) -> Tuple[Optional[str], Optional[float]]:
    """The model's best real intent (under an nlu_fallback, the first ranked other
    intent); FAQ questions as faq/<key> when the response selector chose one."""
    parse = event.data.get("parse_data") or {}
    name, confidence = _intent(event)
    if name == FALLBACK_INTENT:
        ranked = [i for i in parse.get("intent_ranking") or []
                  if i.get("name") and i.get("name") != FALLBACK_INTENT]
        if ranked:
            name, confidence = ranked[0]["name"], float(ranked[0].get("confidence") or 0.0)
    if name and "/" not in name:
        selected = ((parse.get("response_selector") or {}).get(name) or {}).get("response") or {}
        key = selected.get("intent_response_key")
        if key:
            name = str(key)
    return name, confidence


def _is_offer(event: EventRow, review: Dict[str, Any]) -> bool:
    """A bot line that offered or gave a human."""
    if event.type_name == "slot":
        return event.action_name == review["offer_slot"] and event.data.get("value") is True
    if event.type_name != "bot":
        return False
    metadata = event.data.get("metadata") or {}
    if metadata.get("utter_action") in review["offer_responses"]:
        return True
    buttons = (event.data.get("data") or {}).get("buttons") or []
    return any(str(b.get("payload", "")).startswith(review["offer_payload"])
               for b in buttons if isinstance(b, dict))


def _context(events: List[EventRow], index: int) -> Dict[str, Any]:
    """The bot's line before the message, its reply, and the customer's next message."""
    before = next((_text(e) for e in reversed(events[:index])
                   if e.type_name == "bot" and _text(e)), None)
    reply: List[str] = []
    following: Optional[str] = None
    for event in events[index + 1:]:
        if event.type_name == "user":
            following = _text(event) or None
            break
        if event.type_name == "bot" and _text(event):
            reply.append(_text(event))
    return {"bot_before": before, "bot_reply": "\n".join(reply) or None,
            "customer_next": following}


def _flags(events: List[EventRow]) -> List[Tuple[bool, bool]]:
    """(paused, taken by a form) for each event: a paused conversation is with staff;
    a value a form took (a slot set before the next message) was understood."""
    flags: List[Tuple[bool, bool]] = []
    paused, loop = False, None
    for index, event in enumerate(events):
        if event.type_name == "pause":
            paused = True
        elif event.type_name == "resume":
            paused = False
        elif event.type_name == "active_loop":
            loop = event.action_name
        taken = False
        if event.type_name == "user" and loop:
            for later in events[index + 1:]:
                if later.type_name == "user":
                    break
                if later.type_name == "slot" and later.action_name != "requested_slot":
                    taken = True
                    break
        flags.append((paused, taken))
    return flags


def find_misses(conversation: Conversation, after: int = 0) -> List[Miss]:
    """The misses of one session that were decided by an event after id `after`."""
    review = rules()
    threshold = float(review["low_confidence"])
    events = conversation.events
    flags = _flags(events)
    misses: List[Miss] = []

    def miss(index: int, reason: str) -> Miss:
        event = events[index]
        predicted, confidence = best_guess(event)
        return Miss(conversation.conversation_id, getattr(event, "event_id", 0), _text(event),
                    reason, event.timestamp, predicted, confidence, _context(events, index))

    previous_user: Optional[int] = None
    for index, event in enumerate(events):
        if event.type_name != "user":
            continue
        paused, taken = flags[index]
        text = _text(event)
        name, confidence = _intent(event)
        new = getattr(event, "event_id", 0) > after
        usable = bool(text) and not text.startswith("/") and not paused and not taken
        if new and usable and name == FALLBACK_INTENT:
            misses.append(miss(index, "nlu_fallback"))
        elif new and usable and confidence is not None and confidence < threshold:
            misses.append(miss(index, "low_confidence"))
        elif new and not paused and name == review["request_intent"] and previous_user is not None:
            answer = events[previous_user + 1:index]
            earlier = events[previous_user]
            earlier_text = _text(earlier)
            if (any(e.type_name == "bot" for e in answer)
                    and not any(_is_offer(e, review) for e in answer)
                    and _intent(earlier)[0] != review["request_intent"]
                    and earlier_text and not earlier_text.startswith("/")
                    and not flags[previous_user][0] and not flags[previous_user][1]):
                misses.append(miss(previous_user, "asked_human"))
        previous_user = index
    return misses


def customer_sessions(rows: Iterable[StoredEvent]) -> List[Conversation]:
    """Every session with a customer message, practice sessions left out."""
    every = tracker_events.split_sessions(list(rows), {}, float("-inf"), float("inf"))
    return [c for c in every if not conversations.is_practice(c)]


# ------------------------------------------------------------------ the scan


def scan(url: Optional[str] = None) -> ScanResult:
    """Queues the misses in events newer than the last scan; moves the cursor on.

    Raises SQLAlchemyError when the tracker store cannot be read (nothing is
    queued and the cursor stays, so the next scan tries again).
    """
    url = url or settings.tracker_store_url
    overlap = int(rules()["overlap_events"])
    with session_scope() as session:
        cursor = repository.review.get_scan_cursor(session=session, name=CURSOR)
    read = read_new_events(url, cursor, overlap)
    if read is None:  # no conversation yet
        return ScanResult(last_event_id=cursor)
    rows, newest, after = read
    restart = newest < cursor  # the store was replaced: its ids begin again
    sessions = customer_sessions(rows)
    misses = [m for c in sessions for m in find_misses(c, after)]
    result = ScanResult(found=len(misses), last_event_id=newest)
    contexts = {(c.conversation_id, getattr(e, "event_id", 0)): _context(c.events, i)
                for c in sessions for i, e in enumerate(c.events) if e.type_name == "user"}
    with session_scope() as session:
        for item in misses:
            added = repository.review.add_review_item(
                session=session, conversation_id=item.conversation_id,
                event_id=item.event_id, text=item.text, reason=item.reason,
                created_at=deadlines.from_timestamp(item.timestamp),
                predicted_intent=item.predicted_intent, confidence=item.confidence,
                context=item.context)
            if added is not None:
                result.queued.append(item)
        # Messages queued by an earlier scan learn the customer's next message.
        senders = sorted({c.conversation_id for c in sessions})
        for start in range(0, len(senders), SENDER_BATCH):
            for queued in repository.review.review_items(
                session=session, conversation_ids=senders[start:start + SENDER_BATCH]
            ):
                known = contexts.get((queued.conversation_id, queued.event_id))
                if known and known != dict(queued.context or {}):
                    repository.review.set_review_context(
                        session=session, item=queued, context=known)
        repository.review.save_scan_cursor(session=session, name=CURSOR, last_event_id=newest,
                                    restart=restart)
    if result.queued:
        logger.info("Review scan: %d new message(s) queued (events up to %d)",
                    len(result.queued), newest)
    return result
