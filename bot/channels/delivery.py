"""Exactly-once delivery of web chat messages.

The widget gives every message an id and resends what the server has not
acknowledged after it reconnects (bot/web/static/widget.js), and a REST integration
may send `message_id` and retry a request whose answer it did not get (nginx retries a
failed POST on the other replica too); a message sent while its server is dying
therefore arrives again, possibly at another replica. Here each
(session, message id) is claimed in the shared database (`channel_messages`, the
primary key decides between replicas) before it is processed, and the message keeps
its id in the tracker (Rasa's `message_id`):

- first claim: processed;
- claimed before and in the tracker: a duplicate, acknowledged and not processed;
- claimed before, not in the tracker, the claim older than STALE_SECONDS: its taker
  died before storing it; taken over and processed (one replica wins the takeover);
- claimed before, not in the tracker, recently: still being processed elsewhere;
  the widget is told to try again shortly.

With the database down a message is processed rather than refused: a possible
duplicate beats a lost message.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered, UserUttered

from bot.channels.claims import DeliveryClaims

logger = logging.getLogger(__name__)

CHANNEL = "web"
# Longer than any normal turn (actions time out at 10 s); shorter than a customer's
# patience.
STALE_SECONDS = 15.0
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# A resend comes within minutes (a reconnect); a day of claims is plenty.
KEEP = timedelta(days=1)

class NotHandled(Exception):
    """Handling failed (e.g. the tracker could not be saved): the claim is released, so
    the client's resend is handled anew."""


PROCESS = "process"
DUPLICATE = "duplicate"
IN_PROGRESS = "in_progress"


def message_id_of(data: Any) -> Optional[str]:
    """The client's id of a message, if well-formed (older widgets send none)."""
    value = data.get("message_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and MESSAGE_ID.match(value) else None


_claims: Optional[DeliveryClaims] = None


def claims() -> DeliveryClaims:
    global _claims
    if _claims is None:
        _claims = DeliveryClaims(CHANNEL, KEEP)
    return _claims


async def stored(agent: Any, session_id: str, message_id: str) -> bool:
    """Whether the conversation's tracker holds a user message with this id."""
    tracker = await agent.tracker_store.retrieve(session_id)
    return tracker is not None and any(
        isinstance(e, UserUttered) and e.message_id == message_id for e in tracker.events)


async def admit(agent: Any, session_id: str, message_id: str) -> str:
    """PROCESS, DUPLICATE or IN_PROGRESS for a message of the web chat."""
    key = f"{session_id}:{message_id}"
    try:
        if await claims().claim(key):
            return PROCESS
        if await stored(agent, session_id, message_id):
            logger.info("Web chat: a resent message was already handled; not again")
            return DUPLICATE
        if await claims().retake(key, timedelta(seconds=STALE_SECONDS)):
            logger.warning("Web chat: a message whose first delivery never finished is "
                           "processed now")
            return PROCESS
        return IN_PROGRESS
    except Exception:
        logger.exception("Web chat: message claims unavailable; processing anyway")
        return PROCESS


# The keys of a stored bot message that Rasa's REST channel returns.
REPLY_KEYS = ("buttons", "image", "custom", "attachment", "elements", "quick_replies")
# How often a resent REST message checks whether its first delivery finished.
POLL_SECONDS = 0.5


async def replies(agent: Any, session_id: str, message_id: str) -> List[Dict[str, Any]]:
    """The bot's answer to a stored message, as messages for an output channel."""
    tracker = await agent.tracker_store.retrieve(session_id)
    found, answer = False, []
    for event in tracker.events if tracker is not None else []:
        if isinstance(event, UserUttered):
            if found:
                break
            found = event.message_id == message_id
        elif found and isinstance(event, BotUttered):
            reply: Dict[str, Any] = {}
            if event.text:
                reply["text"] = event.text
            reply.update({k: v for k, v in (event.data or {}).items()
                          if k in REPLY_KEYS and v})
            answer.append(reply)
    return answer


async def release(session_id: str, message_id: str) -> None:
    """Gives up the claim of a message whose handling failed (best effort: with the
    database down the claim may stay, and is taken over once stale)."""
    try:
        await claims().release(f"{session_id}:{message_id}")
    except Exception:
        logger.exception("Web chat: could not release a failed message's claim")


async def handle_once(agent: Any, message: UserMessage, message_id: str,
                      handle: Callable[[UserMessage], Awaitable[Any]]) -> None:
    """Handles a REST message with a client id once: a resend gets the stored answer,
    and one that arrives while the first delivery is still being handled waits for it
    (or, when that delivery died, takes it over). Raises NotHandled when handling
    failed, after releasing the claim."""
    message.message_id = message_id
    while True:
        outcome = await admit(agent, message.sender_id, message_id)
        if outcome == PROCESS:
            if await handle(message) is False:
                await release(message.sender_id, message_id)
                raise NotHandled(message_id)
            return
        if outcome == DUPLICATE:
            for reply in await replies(agent, message.sender_id, message_id):
                await message.output_channel.send_response(message.sender_id, reply)
            return
        await asyncio.sleep(POLL_SECONDS)
