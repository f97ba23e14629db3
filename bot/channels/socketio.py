"""Rasa's socket.io channel (web chat) behind the same no-silence guard as REST, with
session ids the server issues: `session_request` confirms an id only to the browser
that shows its signature (shop/chat_sessions.py) and issues a new one otherwise, and a
message is taken only for the session its connection was confirmed for.

Every message is acknowledged (the socket.io ack) once handled — `received`, or
`refused` (rate limit, wrong session) — or `in_progress` while another replica still
handles its first delivery, or `failed` when it could not be stored (the widget sends
it again); a resent message is handled once (bot/channels/delivery.py).
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput

from bot import live
from bot.channels import delivery, limits
from bot.channels.client import stamped
from bot.channels.guard import guard
from shop import chat_sessions

logger = logging.getLogger(__name__)

# Sent instead of an answer to a message for a session this connection does not hold.
NOT_YOUR_SESSION = "会话已失效，请刷新页面后重新开始对话。"
# The acknowledgements the widget reads.
RECEIVED = "received"
REFUSED = "refused"
FAILED = "failed"


def ack(status: str, message_id: Any = None) -> Dict[str, Any]:
    return {"status": status, "message_id": message_id}


class GuardedSocketIOInput(SocketIOInput):
    """socket.io at /socket.io: every message gets a reply."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> SocketBlueprint:
        self._handle = guard(on_new_message)
        blueprint = super().blueprint(self._handle)
        self._issue_sessions()
        self._stamp_client_address()
        live.register(self.sio)
        return blueprint

    def _issue_sessions(self) -> None:
        """Replaces Rasa's `session_request` (which joins whatever id the client names)
        and guards its message handler and disconnect."""
        sio = self.sio
        handlers = sio.handlers.setdefault("/", {})
        original_disconnect = handlers.get("disconnect")
        bot_event = self.bot_message_evt
        # socket.io connection → the session it was confirmed for (this replica's
        # connections only: a connection lives on one replica).
        confirmed: Dict[str, str] = {}

        async def session_request(sid: Text, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            session_id, token = data.get("session_id"), data.get("session_token")
            if not chat_sessions.verify(session_id, token):
                if session_id:
                    logger.warning("socket.io: a session id without its signature was "
                                   "refused; a new session was issued")
                session_id, token = chat_sessions.issue()
            previous = confirmed.get(sid)
            if previous and previous != session_id:
                sio.leave_room(sid, previous)
            sio.enter_room(sid, session_id)
            confirmed[sid] = session_id
            await sio.emit("session_confirm", {"session_id": session_id,
                                               "session_token": token}, room=sid)

        async def handle_message(sid: Text, data: Any) -> Any:
            if not isinstance(data, dict) or confirmed.get(sid) != data.get("session_id"):
                logger.warning("socket.io: a message for a session this connection does "
                               "not hold was refused")
                await sio.emit(bot_event, {"text": NOT_YOUR_SESSION}, room=sid)
                return ack(REFUSED, delivery.message_id_of(data))
            return await self._deliver(sid, data)

        async def disconnect(sid: Text, *args: Any) -> Any:
            confirmed.pop(sid, None)
            if original_disconnect is not None:
                return await original_disconnect(sid, *args)
            return None

        handlers["session_request"] = session_request
        handlers[self.user_message_evt] = handle_message
        handlers["disconnect"] = disconnect

    async def _deliver(self, sid: Text, data: Dict[str, Any]) -> Dict[str, Any]:
        """Rasa's message handling, with the client's message id kept in the tracker
        and a resent message handled once."""
        session_id = data["session_id"]
        message_id = delivery.message_id_of(data)
        if message_id is not None:
            request = (self.sio.get_environ(sid) or {}).get("sanic.request")
            agent = getattr(getattr(getattr(request, "app", None), "ctx", None), "agent", None)
            outcome = await delivery.admit(agent, session_id, message_id)
            if outcome != delivery.PROCESS:
                return ack(RECEIVED if outcome == delivery.DUPLICATE else outcome, message_id)
        metadata = data.get(self.metadata_key) or {}
        message = UserMessage(
            str(data.get("message", "")), SocketIOOutput(self.sio, self.bot_message_evt),
            session_id, input_channel=self.name(),
            metadata=metadata if isinstance(metadata, dict) else {}, message_id=message_id)
        if await self._handle(message) is False and message_id is not None:
            # Not stored (e.g. the database was down): the widget sends it again.
            await delivery.release(session_id, message_id)
            return ack(FAILED, message_id)
        return ack(RECEIVED, message_id)

    def _stamp_client_address(self) -> None:
        """Wraps Rasa's message handler: messages past the rate limits are refused
        politely, and the metadata gets the client address of the socket's HTTP
        request (a `client` key the browser sent is overwritten)."""
        sio = self.sio
        handlers = sio.handlers.setdefault("/", {})
        original = handlers[self.user_message_evt]
        metadata_key = self.metadata_key
        bot_event = self.bot_message_evt

        async def with_client(sid: Text, data: Any) -> Any:
            request = (sio.get_environ(sid) or {}).get("sanic.request")
            wait, address = await limits.socket_message_wait(sid, request, data)
            if wait:  # a polite reply instead of an answer (bot/channels/limits.py)
                limits.logger.warning("Rate limit: socket.io message from %s refused",
                                      address)
                await sio.emit(bot_event, {"text": limits.SLOW_DOWN}, room=sid)
                return ack(REFUSED, delivery.message_id_of(data))
            if isinstance(data, dict):
                data = {**data, metadata_key: stamped(data.get(metadata_key), request)}
            return await original(sid, data)

        handlers[self.user_message_evt] = with_client
