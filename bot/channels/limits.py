"""Rate limits on what customers and strangers can send (issue 14, item 7).

Sliding one-minute windows kept in this process, per client address (from the
connection: bot/channels/client.py) and per conversation:

* customer messages — REST webhook and socket.io `user_uttered` — per address
  (RATE_LIMIT_ADDRESS_PER_MINUTE) and per conversation (RATE_LIMIT_CONVERSATION_PER_MINUTE);
* satisfaction ratings and staff login attempts per address
  (RATE_LIMIT_FORM_PER_MINUTE; failed logins are also locked out, shop/staff_login.py).

Over the limit: REST and the forms get 429 with a Chinese reason and Retry-After,
a socket.io message gets a polite "slow down" reply instead of an answer; each
refusal is logged. With RATE_LIMIT_STORE=redis (the production profile) the windows
live in Redis and hold across replicas (bot/channels/redis_window.py); otherwise each
process keeps its own. The number of locally tracked keys is capped, oldest first, so
a flood of fresh addresses cannot grow memory without bound.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from typing import Any, Callable, Deque, Optional, Tuple, Union

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import redis_window
from bot.channels.client import client_address
from shop.config import settings

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60.0
MAX_KEYS = 100_000
SLOW_DOWN = "您发送得太快了，请稍等片刻再发 🙏"
MESSAGE_ROUTE = "/webhooks/rest/webhook"
FORM_ROUTES = ("/webhooks/chat/rating", "/webhooks/console/api/login")


class Window:
    """At most `limit` events per key within the last minute."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._events: "OrderedDict[str, Deque[float]]" = OrderedDict()

    def take(self, key: str) -> float:
        """Counts one event for `key`: 0 when allowed, else seconds until it would be."""
        if self.limit <= 0:
            return 0.0
        now = self._clock()
        events = self._events.pop(key, None) or deque()
        while events and events[0] <= now - WINDOW_SECONDS:
            events.popleft()
        self._events[key] = events  # most recently used last
        if len(self._events) > MAX_KEYS:
            self._events.popitem(last=False)
        if len(events) >= self.limit:
            return max(0.1, events[0] + WINDOW_SECONDS - now)
        events.append(now)
        return 0.0


class Limits:
    """The windows of this process (local, or shared through Redis)."""

    def __init__(self, address: int, conversation: int, form: int,
                 clock: Callable[[], float] = time.monotonic,
                 redis_client: Optional[Any] = None, prefix: str = "shop") -> None:
        local = {"address": Window(address, clock), "conversation": Window(conversation, clock),
                 "form": Window(form, clock)}
        self.windows: dict = dict(local)
        if redis_client is not None:
            self.windows = {
                name: redis_window.SharedWindow(name, window.limit, redis_client, window,
                                                prefix, WINDOW_SECONDS, clock)
                for name, window in local.items()}

    @classmethod
    def from_settings(cls) -> "Limits":
        shared = None
        if settings.rate_limit_store == "redis":
            shared = redis_window.client(settings.redis_host, settings.redis_port,
                                         settings.redis_db)
        return cls(settings.rate_limit_address, settings.rate_limit_conversation,
                   settings.rate_limit_form, redis_client=shared,
                   prefix=settings.redis_key_prefix)

    async def _take(self, name: str, key: str) -> float:
        window: Union[Window, redis_window.SharedWindow] = self.windows[name]
        if isinstance(window, Window):
            return window.take(key)
        return await window.take(key)

    async def message(self, address: str, conversation_id: str) -> float:
        """A customer message: seconds to wait (0 = go ahead)."""
        wait = await self._take("address", f"msg:{address}")
        return wait or await self._take("conversation", conversation_id)

    async def form_post(self, address: str, route: str) -> float:
        return await self._take("form", f"{route}:{address}")


_limits: Optional[Limits] = None


def limits() -> Limits:
    global _limits
    if _limits is None:
        _limits = Limits.from_settings()
    return _limits


def _sender(request: Request) -> str:
    """The REST body's sender; Sanic parses the body once for every reader of it
    (bot/channels/errors.py has already read it by now)."""
    try:
        body = request.json
    except Exception:  # not JSON, or not UTF-8: errors.py answers 400
        return ""
    return str(body.get("sender") or "")[:128] if isinstance(body, dict) else ""


def too_many(wait: float) -> HTTPResponse:
    return response.json({"error": SLOW_DOWN}, status=429,
                         headers={"Retry-After": str(int(wait) + 1)})


async def check_request(request: Request) -> Optional[HTTPResponse]:
    """Request middleware for the REST webhook and the two public forms."""
    if request.method != "POST":
        return None
    path = request.path.rstrip("/")
    if path == MESSAGE_ROUTE:
        address = client_address(request)
        wait = await limits().message(address, f"rest:{_sender(request)}")
        if wait:
            logger.warning("Rate limit: REST message from %s refused (%.0f s)", address, wait)
            return too_many(wait)
    elif path in FORM_ROUTES:
        address = client_address(request)
        wait = await limits().form_post(address, path)
        if wait:
            logger.warning("Rate limit: %s from %s refused (%.0f s)", path, address, wait)
            return too_many(wait)
    return None


async def socket_message_wait(sid: str, request: Optional[Any], data: Any) -> Tuple[float, str]:
    """(seconds to wait, address) for a socket.io message of session `sid`."""
    address = client_address(request)
    session = str(data.get("session_id") or sid) if isinstance(data, dict) else sid
    return await limits().message(address, f"socketio:{session}"), address


def installer(app: Any, _loop: Any) -> None:
    """A `before_server_start` listener (idempotent)."""
    if getattr(app.ctx, "rate_limits_installed", False):
        return
    app.ctx.rate_limits_installed = True
    app.register_middleware(check_request, "request")

