"""Rasa's REST channel behind the no-silence guard (same URL and payload)."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request

from bot.channels import errors, limits
from bot.channels.client import stamped
from bot.channels.guard import guard


class GuardedRestInput(RestInput):
    """POST /webhooks/rest/webhook: every message gets a reply."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        """The client's address (from the connection) for the shared order-check limits."""
        return stamped(None, request)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        blueprint = super().blueprint(guard(on_new_message))
        # Malformed bodies → 400, unexpected errors → polite JSON (bot/channels/errors.py).
        blueprint.listener("before_server_start")(errors.installer)
        blueprint.listener("before_server_start")(limits.installer)  # 429 past the limits
        return blueprint
