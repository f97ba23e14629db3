"""The web chat: chat page, embeddable widget and rating endpoint.

Served by the Rasa server itself at /webhooks/chat/… so a shop needs nothing but
one script tag; the conversation runs over Rasa's socket.io channel.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import errors, limits
from bot.web import headers, static_file
from shop import chat_sessions
from shop.db.repository.ratings import AlreadyRated
from shop.erasure.customer import widget_notice

logger = logging.getLogger(__name__)

def parse_rating(body: Any) -> Dict[str, Any]:
    """Validates a rating request; raises ValueError with a reason."""
    if not isinstance(body, dict):
        raise ValueError("请求格式不正确")
    session_id = body.get("session_id")
    if not isinstance(session_id, str) or not 8 <= len(session_id) <= 128:
        raise ValueError("缺少会话编号")
    scores = {}
    for key in ("expected", "perceived"):
        value = body.get(key)
        if isinstance(value, str) and value.isdecimal():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            raise ValueError("评分需为1到5分")
        scores[key] = value
    comment = body.get("comment") or ""
    if not isinstance(comment, str):
        raise ValueError("评价内容格式不正确")
    # Only the browser the session was issued to holds its signature (checked last: a
    # malformed form gets its reason first).
    if not chat_sessions.verify(session_id, body.get("session_token")):
        raise PermissionError(NOT_YOURS)
    return {"conversation_id": session_id, **scores, "comment": comment[:2000]}


NO_CONVERSATION = "找不到这次会话，请在咨询后再评价"
NOT_YOURS = "只能评价您本人的会话，请刷新页面后重试"
ALREADY_RATED = "您已经评价过这次服务了，感谢您的反馈"


async def has_customer_messages(request: Request, conversation_id: str) -> bool:
    """Whether the conversation exists and the customer said something in it: a rating
    is for a real conversation (one each), not for ids made up to skew the figures."""
    agent = getattr(request.app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return False
    tracker = await store.retrieve(conversation_id)
    return tracker is not None and any(
        isinstance(event, UserUttered) for event in tracker.events)


def store_rating(values: Dict[str, Any]) -> float:
    """Stores a rating and returns the satisfaction index C = perceived / expected."""
    from shop.db import repository
    from shop.db.engine import session_scope

    with session_scope() as session:
        rating = repository.ratings.add_rating(session=session, channel="web", **values)
        return round(rating.perceived / rating.expected, 3)


async def rate(request: Request) -> HTTPResponse:
    """A satisfaction rating from the web chat: validated, only from the session's own
    browser, for a real conversation, once."""
    try:
        values = parse_rating(request.json)
    except PermissionError as error:
        logger.warning("Rejected a rating without the session's signature")
        return response.json({"error": str(error)}, status=403)
    except Exception as error:  # bad JSON raises inside request.json too
        reason = str(error) if isinstance(error, ValueError) else "请求格式不正确"
        logger.info("Rejected rating: %s", reason)
        return response.json({"error": reason}, status=400)
    try:
        if not await has_customer_messages(request, values["conversation_id"]):
            logger.info("Rejected a rating for a conversation without messages")
            return response.json({"error": NO_CONVERSATION}, status=404)
        satisfaction = await asyncio.to_thread(store_rating, values)
    except AlreadyRated:
        logger.info("Rejected a second rating of one conversation")
        return response.json({"error": ALREADY_RATED}, status=409)
    except Exception:
        logger.exception("Could not store a rating")
        return response.json({"error": "评价暂时无法保存，请稍后再试"}, status=503)
    return response.json({"satisfaction": satisfaction})


class WebChatInput(InputChannel):
    """Static pages of the web chat plus the rating endpoint."""

    @classmethod
    def name(cls) -> Text:
        return "chat"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        chat = Blueprint("web_chat", __name__)
        # Unexpected errors → polite JSON, never a trace (bot/channels/errors.py).
        chat.listener("before_server_start")(errors.installer)
        chat.listener("before_server_start")(headers.installer)
        chat.listener("before_server_start")(limits.installer)

        async def send(name: str) -> HTTPResponse:
            path = static_file(name)
            if path is None:
                return response.json({"error": "not found"}, status=404)
            return await response.file(path)

        @chat.route("/", methods=["GET"])
        async def page(_: Request) -> HTTPResponse:
            return await send("chat.html")

        @chat.route("/widget.js", methods=["GET"])
        async def widget(_: Request) -> HTTPResponse:
            return await send("widget.js")

        @chat.route("/demo", methods=["GET"])
        async def demo(_: Request) -> HTTPResponse:
            return await send("demo.html")

        @chat.route("/static/<name:path>", methods=["GET"])
        async def static(_: Request, name: str) -> HTTPResponse:
            return await send(name)

        @chat.route("/privacy", methods=["GET"])
        async def privacy(_: Request) -> HTTPResponse:
            """The privacy notice under the chat (retention period, how to be forgotten)."""
            return response.json({"notice": widget_notice()})

        @chat.route("/rating", methods=["POST", "OPTIONS"])
        async def rating(request: Request) -> HTTPResponse:
            if request.method == "OPTIONS":
                return response.empty()
            return await rate(request)

        @chat.route("/practice/chart.png", methods=["GET"])
        async def practice_chart(request: Request) -> HTTPResponse:
            """A trainee's own progress chart, behind the signed link practice mode sends."""
            from shop.practice.progress import progress_png
            from shop.staff_auth import AuthError, chart_trainee

            try:
                trainee = chart_trainee(request.args.get("t"))
            except AuthError:
                logger.info("Refused a practice chart link that is invalid or expired")
                return response.json({"error": "链接已失效，请结束一次练习后重新获取"}, status=403)
            try:
                png = await asyncio.to_thread(progress_png, trainee)
            except ValueError:
                return response.json({"error": "还没有完成的练习"}, status=404)
            return response.raw(png, content_type="image/png",
                                headers={"Cache-Control": "private, max-age=300"})

        return chat
