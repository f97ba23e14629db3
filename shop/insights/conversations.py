"""Conversation figures from Rasa's SQL tracker store (read-only): containment (自助解决率),
handoff reasons, objections with the technique used, and where the customer went next.

Conversations come from tracker_events (one Rasa session of one sender); practice
sessions of trainees are left out.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from shop import knowledge
from shop.config import settings
from shop.db import repository
from shop.db.engine import session_scope
from shop.insights import labels
from shop.insights.period import Period
from shop.insights.tables import Table
from shop.insights.tracker_events import (
    Conversation,
    read_events,
    split_sessions,
    unix,
)

logger = logging.getLogger(__name__)

@dataclass
class HandoffTicket:
    conversation_id: str
    created: float
    reason: str


# ------------------------------------------------------------------ analysis


def _rules() -> Dict[str, Any]:
    return labels.reports()["conversations"]


def is_practice(conversation: Conversation) -> bool:
    """Trainee rehearsals: the practice intent, action or form anywhere in the session."""
    practice = _rules()["practice"]
    for event in conversation.events:
        if event.intent_name in practice["intents"]:
            return True
        if event.type_name == "action" and event.action_name in practice["actions"]:
            return True
        if event.type_name == "active_loop" and event.action_name in practice["loops"]:
            return True
    return False


def _reason_patterns() -> List[Tuple[str, re.Pattern]]:
    reasons = knowledge.commitments()["tickets"]["handoff"]["reasons"]
    patterns = []
    for key, text in reasons.items():
        parts = re.split(r"\{\w+\}", str(text))
        patterns.append((key, re.compile(r"\S+?".join(re.escape(p) for p in parts))))
    return patterns


def reason_of_summary(summary: str) -> str:
    """The handoff reason key from a ticket summary (its wording from the commitments)."""
    template = str(knowledge.commitments()["tickets"]["handoff"]["summary"])
    prefix = template.split("{reason}")[0]
    text = summary[len(prefix):] if summary.startswith(prefix) else summary
    text = text.split("；")[0]
    for key, pattern in _reason_patterns():
        if pattern.fullmatch(text):
            return key
    return "unknown"


def _handoff_index(conversation: Conversation) -> Optional[int]:
    actions = _rules()["handoff_actions"]
    for index, event in enumerate(conversation.events):
        if event.type_name == "pause" or (
            event.type_name == "action" and event.action_name in actions
        ):
            return index
    return None


def _reason_from_events(conversation: Conversation, index: int) -> str:
    by_action = _rules()["reason_by_action"]
    for event in reversed(conversation.events[: index + 1]):
        if event.type_name == "action" and event.action_name in by_action:
            return str(by_action[event.action_name])
    return "unknown"


def _objections(conversation: Conversation) -> Iterator[Tuple[int, str, str]]:
    """(event index, objection type, technique) of each answer recorded in the slot.

    Slots carried over into a new session are set again before the customer speaks;
    those values are the baseline, not new objections.
    """
    slot = _rules()["objection_slot"]
    previous: List[str] = []
    spoke = False
    for index, event in enumerate(conversation.events):
        if event.type_name == "user":
            spoke = True
        if event.type_name != "slot" or event.action_name != slot:
            continue
        value = event.data.get("value") or []
        value = [str(v) for v in value] if isinstance(value, list) else []
        new = value[len(previous):] if value[: len(previous)] == previous else value
        previous = value
        if not spoke:
            continue
        for entry in new:
            parts = entry.split("|")
            yield index, parts[0], parts[1] if len(parts) > 1 else "unknown"


def _outcome(conversation: Conversation, last: int, handoff_at: Optional[float]) -> str:
    rules = _rules()
    after = conversation.events[last + 1:]
    objection_time = conversation.events[last].timestamp
    if handoff_at is not None and handoff_at >= objection_time:
        return "handoff"
    intents = [e.intent_name for e in after if e.type_name == "user"]
    if any(i in rules["buying_intents"] for i in intents):
        return "buying"
    if all(i in rules["leaving_intents"] for i in intents):
        return "left"
    return "other"


@dataclass
class ConversationStats:
    conversations: int = 0
    handed_off: int = 0
    practice_excluded: int = 0
    reasons: Counter = field(default_factory=Counter)
    objections: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    # "您是想A，还是B？" questions (action_fallback), and how many the next message answered.
    clarifications: int = 0
    clarified: int = 0


def _clarifications(conversation: Conversation) -> Iterator[bool]:
    """One bool per clarification question: did the customer's next message pick one
    of the two meanings offered (button or typed)?"""
    offered: Optional[List[str]] = None
    for event in conversation.events:
        if event.type_name == "slot" and event.data.get("name") == "clarify_options":
            if offered is not None:
                yield False
            offered = list(event.data.get("value") or []) or None
        elif event.type_name == "user" and offered is not None:
            yield event.intent_name in offered
            offered = None
    if offered is not None:
        yield False


def analyse(
    conversations: List[Conversation], tickets: List[HandoffTicket]
) -> ConversationStats:
    """Containment, handoff reasons, objections and outcomes of customer conversations."""
    stats = ConversationStats()
    by_conversation: Dict[str, List[HandoffTicket]] = {}
    for ticket in tickets:
        by_conversation.setdefault(ticket.conversation_id, []).append(ticket)
    for conversation in conversations:
        if is_practice(conversation):
            stats.practice_excluded += 1
            continue
        stats.conversations += 1
        end = conversation.end if conversation.end is not None else float("inf")
        own = [t for t in by_conversation.get(conversation.conversation_id, [])
               if conversation.start <= t.created < end]
        index = _handoff_index(conversation)
        handoff_at: Optional[float] = None
        if own or index is not None:
            stats.handed_off += 1
            if own:
                stats.reasons[own[0].reason] += 1
                handoff_at = own[0].created
            else:
                stats.reasons[_reason_from_events(conversation, index or 0)] += 1
            if index is not None:
                event_time = conversation.events[index].timestamp
                handoff_at = min(handoff_at, event_time) if handoff_at else event_time
        for resolved in _clarifications(conversation):
            stats.clarifications += 1
            stats.clarified += resolved
        answered = list(_objections(conversation))
        for _, kind, technique in answered:
            stats.objections[(kind, technique)] += 1
        if answered:
            stats.outcomes[_outcome(conversation, answered[-1][0], handoff_at)] += 1
    return stats


def _share(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 3) if whole else None


def conversation_tables(stats: ConversationStats) -> List[Table]:
    """Containment, handoff reasons, objections × technique, outcomes after objections."""
    total = stats.conversations
    summary = Table("conversations", ["conversations", "contained", "handed_off", "containment",
                                      "clarifications", "clarified_share",
                                      "practice_excluded"], [{
        "conversations": total,
        "contained": total - stats.handed_off,
        "handed_off": stats.handed_off,
        "containment": _share(total - stats.handed_off, total),
        "clarifications": stats.clarifications,
        "clarified_share": _share(stats.clarified, stats.clarifications),
        "practice_excluded": stats.practice_excluded,
    }])
    reasons = Table("handoff_reasons", ["reason", "name", "conversations", "share"], [
        {"reason": key, "name": labels.handoff_reason_name(key), "conversations": count,
         "share": _share(count, stats.handed_off)}
        for key, count in stats.reasons.most_common()
    ])
    objections = Table("objections", ["type", "type_name", "technique", "technique_name",
                                      "count"], [
        {"type": kind, "type_name": labels.objection_type_name(kind), "technique": technique,
         "technique_name": labels.technique_name(technique), "count": count}
        for (kind, technique), count in sorted(stats.objections.items(),
                                               key=lambda item: (-item[1], item[0]))
    ])
    answered = sum(stats.outcomes.values())
    names = _rules()["outcomes"]
    outcomes = Table("objection_outcomes", ["outcome", "name", "conversations", "share"], [
        {"outcome": key, "name": names[key], "conversations": stats.outcomes[key],
         "share": _share(stats.outcomes[key], answered)}
        for key in names if stats.outcomes[key]
    ])
    return [summary, reasons, objections, outcomes]


def handoff_tickets(period: Period) -> List[HandoffTicket]:
    """Handoff tickets created in the period (a session may reach just past its end)."""
    with session_scope() as session:
        return [
            HandoffTicket(t.conversation_id or "", unix(t.created_at),
                          reason_of_summary(t.summary))
            for t in repository.tickets.tickets_created_between(
                session=session, start=period.start, end=period.end, kinds=["handoff"]
            )
        ]


def load_stats(period: Period, url: Optional[str] = None) -> Tuple[ConversationStats, bool]:
    """The period's conversation figures; False when the tracker store could not be read."""
    url = url or settings.tracker_store_url
    start, end = unix(period.start), unix(period.end)
    try:
        rows, first_seen = read_events(url, start, end)
    except SQLAlchemyError:
        logger.exception("Tracker store %s unreadable: no conversation figures",
                         make_url(url).render_as_string(hide_password=True))
        return ConversationStats(), False
    conversations = split_sessions(rows, first_seen, start, end)
    return analyse(conversations, handoff_tickets(period)), True
