"""Real-time links of the Rasa server: customers' socket.io rooms and the staff feed.

The socket.io channel registers its server here when Rasa builds it; the console
and the guard use it to reach a customer's widget (room = the conversation id, which
Rasa's socket.io channel calls session_id) and the
staff consoles (namespace `/staff`, authenticated by token). Channels whose
customers are reached through a platform API (WeChat, WeCom) register an
outbound sender under their channel name instead.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Optional

from shop import staff_login
from shop.staff_auth import AuthError

logger = logging.getLogger(__name__)

# Sends a pushed message to a customer of a channel: (conversation id, message) → sent?
OutboundSender = Callable[[str, Dict[str, Any]], Awaitable[bool]]

STAFF_NAMESPACE = "/staff"
STAFF_ROOM = "staff"

_server: Optional[Any] = None
_outbound: Dict[str, OutboundSender] = {}


def register(server: Any) -> None:
    """Remembers the socket.io server and adds the authenticated staff namespace."""
    global _server
    _server = server

    @server.on("connect", namespace=STAFF_NAMESPACE)
    async def staff_connect(sid: str, environ: Dict, auth: Optional[Dict] = None) -> bool:
        try:
            staff = await asyncio.to_thread(staff_login.authenticate, (auth or {}).get("token"))
        except AuthError:
            logger.info("Refused a staff socket without a valid token")
            return False
        except Exception:  # the database is down: a logout cannot be checked
            logger.exception("Could not check a staff socket's token")
            return False
        server.enter_room(sid, STAFF_ROOM, namespace=STAFF_NAMESPACE)
        logger.debug("Staff %s connected to the live feed", staff.name)
        return True


def register_outbound(channel: str, sender: OutboundSender) -> None:
    """Routes pushes for conversations of input channel `channel` to `sender`."""
    _outbound[channel] = sender


async def to_customer(
    conversation_id: str,
    message: Dict[str, Any],
    event: str = "bot_uttered",
    channel: Optional[str] = None,
) -> bool:
    """Pushes a message to a customer: through the outbound sender registered for the
    conversation's input `channel`, else to the widget; False when it did not go out."""
    sender = _outbound.get(channel) if channel else None
    if sender is not None:
        try:
            return await sender(conversation_id, message)
        except Exception:
            logger.exception("Could not push a message to %s over %s", conversation_id, channel)
            return False
    if _server is None:
        return False
    await _server.emit(event, message, room=conversation_id)
    return True


async def to_staff(event: str, data: Optional[Dict[str, Any]] = None) -> None:
    """Tells every connected console that something changed."""
    if _server is not None:
        await _server.emit(event, data or {}, room=STAFF_ROOM, namespace=STAFF_NAMESPACE)
