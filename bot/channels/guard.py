"""Never silence, never a stack trace: a guard around message handling.

Rasa logs and swallows failures inside message handling (action server down,
an action crashing) and then answers nothing. The guard wraps a channel's
`on_new_message`: empty messages get a polite prompt without touching the
conversation, and a turn that produced no reply gets an apology with a
follow-up promise, or, when a human has taken over, a "please wait" note.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage

from bot import live, tracker_store
from bot.channels.errors import clean_text

logger = logging.getLogger(__name__)

EMPTY = "utter_empty_message"
UNAVAILABLE = "utter_service_unavailable"
WAITING = "utter_handoff_waiting"

# Last-resort wording, used only when even the domain cannot be read.
_FALLBACK_TEXT = {
    EMPTY: "亲，您好像发了一条空消息～ 请问有什么可以帮您的吗？",
    UNAVAILABLE: "非常抱歉，系统暂时出了点问题，您的消息我们已经记录，客服会在今天内给您回复。",
    WAITING: "您的问题已经在人工客服队列中了，请稍候～",
}


class CountingOutputChannel(OutputChannel):
    """Passes every bot message on and counts them."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    def name(self) -> Text:  # type: ignore[override]
        # Channel-specific response variants are chosen by the output's name.
        return self.inner.name()

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)


# Names Rasa gives its Sanic app (with and without the HTTP API).
_APP_NAMES = ("rasa_server", "rasa_core_no_api")


def _agent() -> Optional[Any]:
    """The running Rasa agent (None outside a Rasa server, e.g. in unit tests)."""
    from sanic import Sanic
    from sanic.exceptions import SanicException

    for name in _APP_NAMES:
        try:
            agent = getattr(Sanic.get_app(name).ctx, "agent", None)
        except SanicException:
            continue
        if agent is not None:
            return agent
    return None


async def _attended(conversation_id: Text) -> bool:
    """Whether a staff member has joined this conversation (False if unknown)."""
    from shop.db import repository
    from shop.db.engine import session_scope

    def check() -> bool:
        with session_scope() as session:
            return repository.tickets.attended_conversation(
                session=session, conversation_id=conversation_id)

    try:
        return await asyncio.to_thread(check)
    except Exception:
        logger.exception("Could not check whether staff attend %s", conversation_id)
        return False


async def _record_followup(conversation_id: Text, text: Text) -> None:
    """Opens a follow-up ticket so the apology's promise is kept (if the DB is up)."""
    from shop.tickets import record_followup

    try:
        number = await asyncio.to_thread(record_followup, conversation_id, text)
        logger.info("Follow-up ticket %s opened for unanswered %s.", number, conversation_id)
    except Exception:
        logger.exception("Could not open a follow-up ticket for %s.", conversation_id)


def _response(agent: Optional[Any], name: str) -> Dict[Text, Any]:
    try:
        variants = agent.domain.responses[name]  # type: ignore[union-attr]
        return {"text": variants[0]["text"]}
    except Exception:  # no agent, no domain, no such response
        return {"text": _FALLBACK_TEXT[name]}


def unavailable_reply(agent: Optional[Any]) -> Dict[Text, Any]:
    """The apology for an outage (the domain's utter_service_unavailable)."""
    return _response(agent, UNAVAILABLE)


async def _is_paused(agent: Optional[Any], conversation_id: Text) -> bool:
    if agent is None or agent.tracker_store is None:
        return False
    try:
        tracker = await agent.tracker_store.retrieve(conversation_id)
    except Exception:
        logger.exception("Could not read the tracker of %s", conversation_id)
        return False
    return bool(tracker is not None and tracker.is_paused())


def guard(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    agent_getter: Callable[[], Optional[Any]] = _agent,
) -> Callable[[UserMessage], Awaitable[bool]]:
    """Wraps `on_new_message` so that every customer message gets an answer. Returns
    whether the message was handled to the end: False when handling failed (e.g. the
    tracker could not be saved with the database down), even if a reply went out —
    the channel may then ask for the message again (bot/channels/delivery.py)."""

    async def guarded(message: UserMessage) -> bool:
        agent = agent_getter()
        output = message.output_channel
        # Lone surrogates and control characters break the normalizer (and PostgreSQL).
        message.text = clean_text(message.text)
        if not (message.text or "").strip():
            logger.info("Empty message from %s answered without NLU.", message.sender_id)
            await output.send_response(message.sender_id, _response(agent, EMPTY))
            return True
        counter = CountingOutputChannel(output)
        message.output_channel = counter
        handled = True
        tracker_store.SAVE_FAILED.set(False)
        try:
            await on_new_message(message)
        except Exception:
            handled = False
            logger.exception("Handling a message from %s failed.", message.sender_id)
        if tracker_store.SAVE_FAILED.get():
            handled = False  # answered, but not in the shared tracker store
            logger.error("The conversation of %s could not be saved.", message.sender_id)
        if counter.sent:
            return handled
        if await _is_paused(agent, message.sender_id):
            # A human has (or will have) this conversation: tell the consoles, and
            # reassure the customer only while nobody has joined yet.
            await live.to_staff("conversation_updated", {"conversation_id": message.sender_id})
            if not await _attended(message.sender_id):
                await output.send_response(message.sender_id, _response(agent, WAITING))
        else:
            logger.error("No reply produced for %s; apology sent.", message.sender_id)
            await output.send_response(message.sender_id, _response(agent, UNAVAILABLE))
            await _record_followup(message.sender_id, message.text or "")
        return handled

    return guarded
