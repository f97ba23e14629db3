"""Rasa's socket.io channel (web chat) behind the same no-silence guard as REST."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput

from bot import live
from bot.channels import limits
from bot.channels.client import stamped
from bot.channels.guard import guard


class GuardedSocketIOInput(SocketIOInput):
    """socket.io at /socket.io: every message gets a reply."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> SocketBlueprint:
        blueprint = super().blueprint(guard(on_new_message))
        self._stamp_client_address()
        live.register(self.sio)
        return blueprint

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
            wait, address = limits.socket_message_wait(sid, request, data)
            if wait:  # a polite reply instead of an answer (bot/channels/limits.py)
                limits.logger.warning("Rate limit: socket.io message from %s refused",
                                      address)
                await sio.emit(bot_event, {"text": limits.SLOW_DOWN}, room=sid)
                return None
            if isinstance(data, dict):
                data = {**data, metadata_key: stamped(data.get(metadata_key), request)}
            return await original(sid, data)

        handlers[self.user_message_evt] = with_client
