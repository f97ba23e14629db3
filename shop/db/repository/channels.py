"""Platform channels (WeChat, WeCom): sync cursors and claimed message ids."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop import deadlines
from shop.db.models import (
    ChannelCursor,
    ChannelMessage,
)


def get_channel_cursor(*, session: Session, channel: str, account: str) -> Optional[str]:
    """The saved sync cursor of a channel account, or None before the first sync."""
    row = session.get(ChannelCursor, (channel, account))
    return row.cursor if row is not None else None


def save_channel_cursor(
    *, session: Session, channel: str, account: str, cursor: str,
    now: Optional[datetime] = None,
) -> None:
    """Remembers where the sync of a channel account stopped."""
    row = session.get(ChannelCursor, (channel, account))
    if row is None:
        row = ChannelCursor(channel=channel, account=account)
        session.add(row)
    row.cursor = cursor
    row.updated_at = now or deadlines.utcnow()
    session.flush()


def claim_channel_message(
    *, session: Session, channel: str, msg_id: str, now: Optional[datetime] = None
) -> bool:
    """Records a platform message as taken; False when it already was (a duplicate).

    The primary key decides, so two processes syncing at once never both take it.
    """
    if session.get(ChannelMessage, (channel, msg_id)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ChannelMessage(channel=channel, msg_id=msg_id,
                                       received_at=now or deadlines.utcnow()))
    except IntegrityError:
        return False
    return True


def prune_channel_messages(*, session: Session, channel: str, before: datetime) -> int:
    """Forgets messages taken before `before` (the platform never resends those)."""
    result = session.execute(
        delete(ChannelMessage)
        .where(ChannelMessage.channel == channel, ChannelMessage.received_at < before)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def retake_channel_message(
    *, session: Session, channel: str, msg_id: str, older_than: datetime,
    now: Optional[datetime] = None,
) -> bool:
    """Takes over a message claimed before `older_than` (its taker died before
    finishing): True for exactly one caller, whichever process asks first."""
    result = session.execute(
        update(ChannelMessage)
        .where(ChannelMessage.channel == channel, ChannelMessage.msg_id == msg_id,
               ChannelMessage.received_at < older_than)
        .values(received_at=now or deadlines.utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0) == 1


def release_channel_message(*, session: Session, channel: str, msg_id: str) -> None:
    """Forgets a claim whose message could not be handled: a resend is handled anew."""
    session.execute(
        delete(ChannelMessage)
        .where(ChannelMessage.channel == channel, ChannelMessage.msg_id == msg_id)
        .execution_options(synchronize_session=False)
    )
