"""The console's main page: the ticket queue and live conversations — open one with
its transcript and records, join, reply in real time, add notes, hand back, close.

Staff lines and notices are stored in the conversation's tracker (under its lock)
before they are pushed to the customer, so the transcript is the record."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationResumed,
    Event,
    UserUttered,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import live
from bot.console.auth import audited, json_body, protected
from bot.web import static_file
from shop import deadlines, desk
from shop.staff_auth import Staff

logger = logging.getLogger(__name__)

# Shown to staff when the customer's channel refused a reply (the line is kept).
UNDELIVERED = ("回复已记录，但未能送达客户（渠道发送失败，可能客户超过48小时未互动）。"
               "请稍后重试或电话联系客户。")
MAX_REPLY_CHARS = 2000
NO_TICKET = {"error": "工单不存在"}


def transcript(events: List[Event]) -> List[Dict[str, Any]]:
    """User and bot lines of a tracker, staff lines and notices marked as such."""
    lines = []
    for event in events:
        time = desk.iso(deadlines.from_timestamp(event.timestamp))
        if isinstance(event, UserUttered) and event.text:
            lines.append({"sender": "user", "text": event.text, "time": time})
        elif isinstance(event, BotUttered) and event.text:
            meta = event.metadata or {}
            sender = "notice" if meta.get("notice") else "staff" if meta.get("staff") else "bot"
            lines.append({"sender": sender, "text": event.text, "time": time,
                          "staff": meta.get("staff")})
    return lines


def target_of(ticket: Dict[str, Any]) -> str:
    """How the audit log names a ticket (and so its customer and conversation)."""
    return f"工单 #{ticket['id']} {ticket['number']}"


def text_field(request: Request) -> str:
    """The non-empty `text` of the request body (capped); raises ValueError."""
    text = json_body(request).get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("内容不能为空")
    return text.strip()[:MAX_REPLY_CHARS]


async def say(request: Request, conversation_id: str, text: str,
              metadata: Dict[str, Any], push: Dict[str, Any]) -> bool:
    """Stores a staff line or notice in the tracker, then pushes it: whether the
    customer's channel took it."""
    agent = request.app.ctx.agent
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.tracker_store.get_or_create_tracker(conversation_id)
        tracker.update(BotUttered(text, metadata=metadata))
        await agent.tracker_store.save(tracker)
        channel = tracker.get_latest_input_channel()
    return await live.to_customer(conversation_id, {"text": text, **push}, channel=channel)


async def resume(request: Request, conversation_id: str) -> None:
    """Un-pauses the conversation so the bot answers the customer's next message."""
    agent = request.app.ctx.agent
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.tracker_store.get_or_create_tracker(conversation_id)
        if tracker.is_paused():
            tracker.update(ConversationResumed())
            # The bot stopped right after the handoff action; without this
            # listen its rules would not match the customer's next message.
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            await agent.tracker_store.save(tracker)


def notice_text(request: Request, response_name: str, **values: Any) -> str:
    """A notice worded by the domain's response (e.g. utter_staff_joined)."""
    template = request.app.ctx.agent.domain.responses[response_name][0]["text"]
    return template.format(**values)


async def join(request: Request, staff: Staff, ticket_id: int) -> Optional[str]:
    """Takes the ticket (telling the customer once); its conversation id, or None."""
    changed = await asyncio.to_thread(desk.change_ticket, ticket_id, "in_progress", staff.name)
    if changed is None:
        return None
    if changed["before"] != "in_progress":
        notice = {"notice": "staff_joined", "staff": staff.name}
        text = notice_text(request, "utter_staff_joined", staff=staff.name)
        await say(request, changed["conversation_id"], text, notice, notice)
        await live.to_staff("queue_changed")
    return changed["conversation_id"]


async def finish(request: Request, staff: Staff, ticket_id: int, status: str) -> HTTPResponse:
    """Hands back or closes a ticket; a paused conversation returns to the bot."""
    changed = await asyncio.to_thread(desk.change_ticket, ticket_id, status, staff.name)
    if changed is None:
        return response.json(NO_TICKET, status=404)
    await audited(request, staff, "close" if status == "closed" else "handback",
                  f"工单 #{ticket_id}")
    conversation_id = changed["conversation_id"]
    tracker = await request.app.ctx.agent.tracker_store.retrieve(conversation_id)
    if tracker is not None and tracker.is_paused():
        await resume(request, conversation_id)
        text = notice_text(request, "utter_handed_back")
        await say(request, conversation_id, text, {"notice": "handed_back"},
                  {"notice": "handed_back"})
    await live.to_staff("queue_changed")
    return response.json({"ok": True})


def add_routes(console: Blueprint) -> None:
    """The console page, the queue and the ticket API."""

    @console.route("/", methods=["GET"])
    async def page(_: Request) -> HTTPResponse:
        return await response.file(static_file("console.html"))

    @console.route("/api/queue", methods=["GET"])
    @protected
    async def queue(request: Request, staff: Staff) -> HTTPResponse:
        tickets = await asyncio.to_thread(desk.queue_snapshot, staff.name)
        return response.json({"tickets": tickets})

    @console.route("/api/canned", methods=["GET"])
    @protected
    async def canned(request: Request, staff: Staff) -> HTTPResponse:
        return response.json({"groups": desk.canned_replies()})

    @console.route("/api/tickets/<ticket_id:int>", methods=["GET"])
    @protected
    async def ticket(request: Request, staff: Staff, ticket_id: int) -> HTTPResponse:
        context = await asyncio.to_thread(desk.ticket_context, ticket_id)
        if context is None:
            return response.json(NO_TICKET, status=404)
        await audited(request, staff, "view_conversation", target_of(context["ticket"]))
        conversation_id = context["ticket"]["conversation_id"]
        tracker = await request.app.ctx.agent.tracker_store.retrieve(conversation_id)
        context["transcript"] = transcript(list(tracker.events) if tracker else [])
        return response.json(context)

    @console.route("/api/tickets/<ticket_id:int>/join", methods=["POST"])
    @protected
    async def join_ticket(request: Request, staff: Staff, ticket_id: int) -> HTTPResponse:
        if await join(request, staff, ticket_id) is None:
            return response.json(NO_TICKET, status=404)
        await audited(request, staff, "join", f"工单 #{ticket_id}")
        return response.json({"ok": True})

    @console.route("/api/tickets/<ticket_id:int>/reply", methods=["POST"])
    @protected
    async def reply(request: Request, staff: Staff, ticket_id: int) -> HTTPResponse:
        try:
            text = text_field(request)
        except ValueError as error:
            return response.json({"error": str(error)}, status=400)
        conversation_id = await join(request, staff, ticket_id)
        if conversation_id is None:
            return response.json(NO_TICKET, status=404)
        await audited(request, staff, "reply", f"工单 #{ticket_id}")
        if not await say(request, conversation_id, text, {"staff": staff.name},
                         {"staff": staff.name}):
            # Kept in the transcript; the channel (e.g. WeChat's send API) refused it.
            logger.error("Staff reply on ticket %s not delivered to %s", ticket_id,
                         conversation_id)
            return response.json({"error": UNDELIVERED}, status=502)
        return response.json({"ok": True})

    @console.route("/api/tickets/<ticket_id:int>/note", methods=["POST"])
    @protected
    async def note(request: Request, staff: Staff, ticket_id: int) -> HTTPResponse:
        try:
            text = text_field(request)
        except ValueError as error:
            return response.json({"error": str(error)}, status=400)
        if not await asyncio.to_thread(desk.add_note, ticket_id, staff.name, text):
            return response.json(NO_TICKET, status=404)
        await audited(request, staff, "note", f"工单 #{ticket_id}")
        return response.json({"ok": True})

    @console.route("/api/tickets/<ticket_id:int>/handback", methods=["POST"])
    @protected
    async def handback(request: Request, staff: Staff, ticket_id: int) -> HTTPResponse:
        return await finish(request, staff, ticket_id, "handed_back")

    @console.route("/api/tickets/<ticket_id:int>/close", methods=["POST"])
    @protected
    async def close(request: Request, staff: Staff, ticket_id: int) -> HTTPResponse:
        return await finish(request, staff, ticket_id, "closed")
