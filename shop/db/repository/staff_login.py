"""Failed console logins and revoked console tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Optional, Tuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shop.db.models import RevokedToken, StaffLoginFailure


def add_failure(*, session: Session, name: str, address: str, at: datetime) -> None:
    session.add(StaffLoginFailure(name=name[:64], address=address[:64], at=at))


def failures(*, session: Session, since: datetime, name: Optional[str] = None,
             address: Optional[str] = None) -> Tuple[int, Optional[datetime]]:
    """How many failures since `since` for the account name or the address, and the last."""
    statement = select(func.count(), func.max(StaffLoginFailure.at)).where(
        StaffLoginFailure.at >= since)
    if name is not None:
        statement = statement.where(StaffLoginFailure.name == name[:64])
    if address is not None:
        statement = statement.where(StaffLoginFailure.address == address[:64])
    count, last = session.execute(statement).one()
    return int(count), last


def clear_failures(*, session: Session, name: str) -> None:
    session.execute(delete(StaffLoginFailure).where(StaffLoginFailure.name == name[:64]))


def prune_failures(*, session: Session, before: datetime) -> None:
    session.execute(delete(StaffLoginFailure).where(StaffLoginFailure.at < before))


def revoke(*, session: Session, token_id: str, expires_at: datetime, now: datetime) -> None:
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    if session.get(RevokedToken, token_id) is None:
        session.add(RevokedToken(token_id=token_id, expires_at=expires_at))


def is_revoked(*, session: Session, token_id: str) -> bool:
    return session.get(RevokedToken, token_id) is not None
