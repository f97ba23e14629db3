"""The audit log of staff actions (append only)."""

from __future__ import annotations

from datetime import datetime
from typing import List, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shop.db.models import AuditEntry


def add_entry(*, session: Session, at: datetime, staff: str, role: str, action: str,
              target: str, address: str) -> AuditEntry:
    entry = AuditEntry(at=at, staff=staff[:64], role=role[:16], action=action[:32],
                       target=target[:255], address=address[:64])
    session.add(entry)
    session.flush()
    return entry


def entries(*, session: Session, limit: int, offset: int = 0, staff: Optional[str] = None,
            action: Optional[str] = None) -> Tuple[List[AuditEntry], int]:
    """A page of entries, newest first, and how many match in all."""
    statement = select(AuditEntry)
    if staff:
        statement = statement.where(AuditEntry.staff == staff)
    if action:
        statement = statement.where(AuditEntry.action == action)
    total = session.execute(
        select(func.count()).select_from(statement.subquery())).scalar_one()
    rows = session.execute(statement.order_by(AuditEntry.id.desc()).limit(limit)
                           .offset(offset)).scalars()
    return list(rows), int(total)
