"""Console logins against guessing, and logouts that end a token on every replica.

Failed logins are counted in the shared database per account name tried and per
client address (so neither a new connection nor another replica resets them). From
the Nth failure within a day (STAFF_LOGIN_ACCOUNT_LIMIT, _ADDRESS_LIMIT) the account
or address is locked for one minute, doubling with every further failure up to an
hour; while locked, no password is even checked — the right one included — and an
unknown name is treated like a known one. A successful login clears its account's
count (not its address's). Logout stores the token's id until it would have expired.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Optional

from shop import deadlines, staff_auth
from shop.config import settings
from shop.db import repository
from shop.db.engine import session_scope
from shop.staff_auth import AuthError, Staff

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(hours=1)


class LockedOut(AuthError):
    """Too many failed logins: try again after `seconds`."""

    def __init__(self, seconds: int) -> None:
        minutes = max(1, -(-seconds // 60))
        super().__init__(f"登录失败次数过多，请 {minutes} 分钟后再试")
        self.seconds = seconds


def lock_length(failures: int, limit: int) -> Optional[timedelta]:
    """How long the Nth failure locks (None below the limit): 1 min, 2, 4 … 60."""
    if failures < limit:
        return None
    return min(FIRST_LOCK * (2 ** min(failures - limit, 12)), LONGEST_LOCK)


def locked_for(name: str, address: str, now: Optional[datetime] = None) -> int:
    """Seconds until `name` may try again from `address` (0 = not locked)."""
    now = now or deadlines.utcnow()
    longest = 0
    with session_scope() as session:
        for key, limit in (({"name": name}, settings.staff_login_account_limit),
                           ({"address": address}, settings.staff_login_address_limit)):
            count, last = repository.staff_login.failures(session=session, since=now - WINDOW,
                                                          **key)
            length = lock_length(count, limit)
            if length is not None and last is not None:
                longest = max(longest, int((last + length - now).total_seconds()))
    return max(0, longest)


def failed(name: str, address: str, now: Optional[datetime] = None) -> None:
    now = now or deadlines.utcnow()
    with session_scope() as session:
        repository.staff_login.prune_failures(session=session, before=now - WINDOW)
        repository.staff_login.add_failure(session=session, name=name, address=address, at=now)


def succeeded(name: str) -> None:
    with session_scope() as session:
        repository.staff_login.clear_failures(session=session, name=name)


def login(name: str, password: str, address: str, code: Optional[str] = None) -> str:
    """A console token, or AuthError (LockedOut while locked); every failure counts."""
    wait = locked_for(name, address)
    if wait:
        logger.warning("Staff login for %r from %s refused: locked for %d s", name[:64],
                       address, wait)
        raise LockedOut(wait)
    try:
        token = staff_auth.staff_directory().login(name, password, code=code)
    except AuthError:
        failed(name, address)
        raise
    succeeded(name)
    return token


def authenticate(token: Optional[str]) -> Staff:
    """The staff member of a valid, unexpired and not logged-out token; AuthError."""
    staff = staff_auth.staff_directory().verify(token)
    with session_scope() as session:
        if repository.staff_login.is_revoked(session=session, token_id=staff.token_id):
            raise AuthError("已退出登录，请重新登录")
    return staff


def logout(staff: Staff) -> None:
    """Ends the token everywhere (kept until it would have expired)."""
    with session_scope() as session:
        repository.staff_login.revoke(
            session=session, token_id=staff.token_id,
            expires_at=deadlines.from_timestamp(staff.expires), now=deadlines.utcnow())
