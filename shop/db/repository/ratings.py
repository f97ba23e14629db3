"""Customers' satisfaction ratings."""

from __future__ import annotations

from datetime import datetime
from typing import List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shop import deadlines
from shop.db.models import (
    Rating,
    Ticket,
)


class AlreadyRated(Exception):
    """The conversation has its rating already (one per conversation)."""


def add_rating(
    *, session: Session, conversation_id: str, expected: int, perceived: int,
    channel: str = "web", comment: str = "", now: Optional[datetime] = None,
) -> Rating:
    """Stores a customer's rating; a human took part if the conversation had a ticket
    that staff joined. Raises AlreadyRated for a second rating of one conversation."""
    already = session.execute(
        select(func.count(Rating.id)).where(Rating.conversation_id == conversation_id)
    ).scalar_one()
    if already:
        raise AlreadyRated(conversation_id)
    human = session.execute(
        select(func.count(Ticket.id)).where(
            Ticket.conversation_id == conversation_id, Ticket.assigned_to.is_not(None)
        )
    ).scalar_one()
    rating = Rating(
        conversation_id=conversation_id, channel=channel, expected=expected,
        perceived=perceived, human_involved=int(bool(human)), comment=comment[:2000],
        created_at=now or deadlines.utcnow(),
    )
    session.add(rating)
    session.flush()
    return rating


def ratings_between(*, session: Session, start: datetime, end: datetime) -> List[Rating]:
    """Ratings given in [start, end), oldest first."""
    statement = select(Rating).where(Rating.created_at >= start, Rating.created_at < end)
    return list(session.execute(statement.order_by(Rating.id)).scalars())
