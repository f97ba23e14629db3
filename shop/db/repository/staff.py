"""Which staff members have the console open."""

from __future__ import annotations

from datetime import datetime
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop import deadlines
from shop.db.models import (
    StaffPresence,
)


def touch_staff(*, session: Session, name: str, now: Optional[datetime] = None) -> None:
    """Records that a staff member is online now."""
    presence = session.get(StaffPresence, name) or StaffPresence(name=name)
    presence.last_seen = now or deadlines.utcnow()
    session.add(presence)


def staff_online(*, session: Session, since: datetime) -> List[str]:
    """Staff members seen in the console since `since`."""
    statement = select(StaffPresence.name).where(StaffPresence.last_seen >= since)
    return list(session.execute(statement.order_by(StaffPresence.name)).scalars())
