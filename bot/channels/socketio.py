"""Rasa's socket.io channel (web chat) behind the same no-silence guard as REST."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput

from bot.channels import live
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
        live.register(self.sio)
        return blueprint
