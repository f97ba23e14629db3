"""Rasa's REST channel behind the no-silence guard (same URL and payload).

REST is for server-to-server integrations: with REST_TOKEN set (required in
production) a message needs `Authorization: Bearer <REST_TOKEN>`; ids of other
channels' conversations (wechat:, wecom:) are refused (bot/channels/errors.py).

An integration may give each message a `message_id` (8–64 letters, digits, - or _)
and resend it when the answer did not arrive: it is handled once, and the resend
gets the stored answer (bot/channels/delivery.py)."""

from __future__ import annotations

import hmac
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import delivery, errors, limits
from bot.channels.client import stamped
from bot.channels.guard import guard, unavailable_reply
from shop.config import settings

logger = logging.getLogger(__name__)

# Carries the integration's message id from the request to the message handler.
MESSAGE_ID_KEY = "rest_message_id"


class GuardedRestInput(RestInput):
    """POST /webhooks/rest/webhook: every message gets a reply."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        """The client's address (from the connection) for the shared order-check limits,
        and the message id the integration gave (read back in `_once`)."""
        metadata = stamped(None, request)
        message_id = delivery.message_id_of(request.json)
        if message_id:
            metadata[MESSAGE_ID_KEY] = message_id
        return metadata

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        handle = guard(on_new_message)

        async def once(message: UserMessage) -> None:
            message_id = (message.metadata or {}).pop(MESSAGE_ID_KEY, None)
            if message_id is None:
                await handle(message)
                return
            collector = message.output_channel
            try:
                await delivery.handle_once(self._app.ctx.agent, message, message_id, handle)
            except delivery.NotHandled:
                # Not stored: whatever was said is withdrawn, and the apology tells the
                # integration to send the message (same id) again.
                collector.messages.clear()
                await collector.send_response(message.sender_id,
                                              unavailable_reply(self._app.ctx.agent))

        blueprint = super().blueprint(once)
        blueprint.listener("before_server_start")(self._remember_app)
        # Malformed bodies → 400, unexpected errors → polite JSON (bot/channels/errors.py).
        blueprint.listener("before_server_start")(errors.installer)
        blueprint.listener("before_server_start")(limits.installer)  # 429 past the limits
        blueprint.middleware("request")(require_token)
        return blueprint


    async def _remember_app(self, app: Any, _loop: Any) -> None:
        self._app = app  # its agent's tracker store tells a resend from a new message


async def require_token(request: Request) -> Optional[HTTPResponse]:
    """Refuses a REST message without the integration token (when one is configured;
    in production REST is off until it is)."""
    if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
        return None
    expected = settings.rest_token
    if not expected:
        if settings.app_env != "production":
            return None
        logger.warning("REST message refused: REST_TOKEN is not configured (production)")
        return response.json({"error": "REST 接口仅供服务端集成使用，尚未配置令牌"}, status=403)
    header = request.headers.get("Authorization", "")
    given = header[7:] if header.startswith("Bearer ") else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        logger.warning("REST message refused: missing or wrong token")
        return response.json({"error": "缺少或错误的接口令牌"}, status=401)
    return None
