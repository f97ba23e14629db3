"""Real-time links of the Rasa server: customers' socket.io rooms and the staff feed.

The socket.io channel registers its server here when Rasa builds it; the console
and the guard use it to reach a customer's widget (room = session id) and the
staff consoles (namespace `/staff`, authenticated by token).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional

logger = logging.getLogger(__name__)

STAFF_NAMESPACE = "/staff"
STAFF_ROOM = "staff"

_server: Optional[Any] = None


def register(server: Any) -> None:
    """Remembers the socket.io server and adds the authenticated staff namespace."""
    global _server
    _server = server

    @server.on("connect", namespace=STAFF_NAMESPACE)
    async def staff_connect(sid: str, environ: Dict, auth: Optional[Dict] = None) -> bool:
        from bot.channels.console import directory
        from bot.staff_auth import AuthError

        try:
            staff = directory().verify((auth or {}).get("token"))
        except AuthError:
            logger.info("Refused a staff socket without a valid token")
            return False
        server.enter_room(sid, STAFF_ROOM, namespace=STAFF_NAMESPACE)
        logger.debug("Staff %s connected to the live feed", staff.name)
        return True


async def to_customer(session_id: str, message: Dict[str, Any], event: str = "bot_uttered") -> bool:
    """Pushes a message to a customer's widget; False when no socket.io server runs."""
    if _server is None:
        return False
    await _server.emit(event, message, room=session_id)
    return True


async def to_staff(event: str, data: Optional[Dict[str, Any]] = None) -> None:
    """Tells every connected console that something changed."""
    if _server is not None:
        await _server.emit(event, data or {}, room=STAFF_ROOM, namespace=STAFF_NAMESPACE)
