"""The staff console: a Rasa custom channel, so it reaches the agent, the tracker
store and the customers' socket.io rooms.

Staff log in, see the queue of tickets (tier A first, then the earliest deadline),
open a conversation with its full transcript, the customer record, orders, open
tickets and notes, join, reply in real time, hand the conversation back to the bot
or close the ticket. Every API route requires a staff token.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from functools import lru_cache
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
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

from bot.channels import live
from bot.channels.webchat import static_file
from shop import deadlines, knowledge
from shop.db import repository
from shop.db.engine import session_scope
from shop.db.models import Ticket
from shop.insights import alerts, manager_report
from shop.practice.progress import progress_png, trainee_progress, trainer_overview
from shop.review import queue as review
from shop.staff_auth import AuthError, Staff, StaffDirectory

logger = logging.getLogger(__name__)

# Shown to staff when the customer's channel refused a reply (the line is kept).
UNDELIVERED = ("回复已记录，但未能送达客户（渠道发送失败，可能客户超过48小时未互动）。"
               "请稍后重试或电话联系客户。")
# How often the queue is checked for changes to push to consoles (seconds).
QUEUE_POLL_SECONDS = 2.0
MAX_REPLY_CHARS = 2000


@lru_cache(maxsize=1)
def directory() -> StaffDirectory:
    """The staff accounts of this process (read once)."""
    return StaffDirectory()


def _iso(moment: Any) -> Optional[str]:
    return deadlines.to_local(moment).isoformat(timespec="seconds") if moment else None


def ticket_view(ticket: Ticket, now: Any) -> Dict[str, Any]:
    """A ticket as the console shows it."""
    customer = ticket.customer
    return {
        "id": ticket.id,
        "number": ticket.number,
        "kind": ticket.kind,
        "status": ticket.status,
        "priority": ticket.priority,
        "tier": customer.tier if customer else None,
        "customer_name": customer.name if customer else None,
        "conversation_id": ticket.conversation_id,
        "summary": ticket.summary,
        "detail": ticket.detail,
        "created_at": _iso(ticket.created_at),
        "respond_due": _iso(ticket.respond_due),
        "resolve_due": _iso(ticket.resolve_due),
        "waiting_seconds": max(0, int((now - ticket.created_at).total_seconds())),
        "assigned_to": ticket.assigned_to,
    }


def queue_snapshot(staff: Optional[str] = None) -> List[Dict[str, Any]]:
    """The ordered queue; also records that `staff` is online."""
    now = deadlines.utcnow()
    with session_scope() as session:
        if staff:
            repository.touch_staff(session=session, name=staff, now=now)
        return [ticket_view(t, now) for t in repository.ticket_queue(session=session)]


def queue_signature() -> List[Any]:
    with session_scope() as session:
        return repository.queue_signature(session=session)


def ticket_context(ticket_id: int) -> Optional[Dict[str, Any]]:
    """Everything the console shows next to a conversation (records side)."""
    now = deadlines.utcnow()
    with session_scope() as session:
        ticket = repository.get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None:
            return None
        customer = ticket.customer
        orders = open_tickets = []
        if customer is not None:
            orders = [
                {
                    "order_no": o.order_no,
                    "status": knowledge.policies()["order_statuses"].get(o.status, o.status),
                    "items": "、".join(f"{i.product.name}×{i.qty}" for i in o.items),
                    "placed_at": _iso(o.placed_at),
                }
                for o in repository.customer_orders(session=session, customer_id=customer.id)
            ]
            open_tickets = [
                {"number": t.number, "kind": t.kind, "status": t.status,
                 "respond_due": _iso(t.respond_due)}
                for t in repository.customer_open_tickets(session=session, customer_id=customer.id)
            ]
        notes = [
            {"author": n.author, "text": n.text, "time": _iso(n.created_at)}
            for n in repository.ticket_notes(session=session, ticket_id=ticket.id)
        ]
        return {
            "ticket": ticket_view(ticket, now),
            "customer": (
                {"id": customer.id, "name": customer.name, "phone": customer.phone,
                 "tier": customer.tier}
                if customer else None
            ),
            "orders": orders,
            "open_tickets": open_tickets,
            "notes": notes,
        }


def transcript(events: List[Event]) -> List[Dict[str, Any]]:
    """User and bot lines of a tracker, staff lines and notices marked as such."""
    lines = []
    for event in events:
        time = _iso(deadlines.from_timestamp(event.timestamp))
        if isinstance(event, UserUttered) and event.text:
            lines.append({"sender": "user", "text": event.text, "time": time})
        elif isinstance(event, BotUttered) and event.text:
            meta = event.metadata or {}
            sender = "notice" if meta.get("notice") else "staff" if meta.get("staff") else "bot"
            lines.append({"sender": sender, "text": event.text, "time": time,
                          "staff": meta.get("staff")})
    return lines


def change_ticket(ticket_id: int, status: str, staff: str) -> Optional[Dict[str, Any]]:
    """Sets a ticket's status; returns its conversation id and previous status."""
    with session_scope() as session:
        ticket = repository.get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None:
            return None
        before = ticket.status
        repository.set_ticket_status(session=session, ticket=ticket, status=status, staff=staff)
        return {"conversation_id": ticket.conversation_id, "before": before}


def add_note(ticket_id: int, staff: str, text: str) -> bool:
    """Adds an internal note; False when the ticket does not exist."""
    with session_scope() as session:
        ticket = repository.get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None:
            return False
        repository.add_note(session=session, ticket=ticket, author=staff, text=text)
        return True


def canned_replies() -> List[Dict[str, Any]]:
    """Ready-made replies: the canned file plus the objection scripts without placeholders."""
    groups = [dict(group) for group in knowledge.load("canned_replies")["groups"]]
    playbook = knowledge.objections()
    names = {t["key"]: t["name"] for t in playbook["types"]}
    by_type: Dict[str, List[str]] = {}
    for script in playbook["scripts"]:
        if not script["needs_product"]:
            by_type.setdefault(names[script["type"]], []).append(script["text"])
    groups += [{"title": f"异议处理 · {name}", "replies": replies}
               for name, replies in by_type.items()]
    return groups


class StaffConsoleInput(InputChannel):
    """/webhooks/console/: the console page and its token-protected API."""

    @classmethod
    def name(cls) -> Text:
        return "console"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        console = Blueprint("staff_console", __name__)

        def authenticate(request: Request) -> Staff:
            header = request.headers.get("Authorization", "")
            token = header[7:] if header.startswith("Bearer ") else None
            return directory().verify(token)

        def protected(handler: Callable[..., Awaitable[HTTPResponse]]) -> Callable:
            async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
                try:
                    staff = authenticate(request)
                except AuthError as error:
                    return response.json({"error": str(error)}, status=401)
                try:
                    return await handler(request, staff, *args, **kwargs)
                except Exception:
                    logger.exception("Console request %s failed", request.path)
                    return response.json({"error": "服务暂时不可用，请稍后再试"}, status=503)

            wrapper.__name__ = handler.__name__
            return wrapper

        def text_field(request: Request) -> str:
            body = request.json if isinstance(request.json, dict) else {}
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                raise ValueError("内容不能为空")
            return text.strip()[:MAX_REPLY_CHARS]

        async def say(request: Request, conversation_id: str, text: str,
                      metadata: Dict[str, Any], push: Dict[str, Any]) -> bool:
            """Stores a staff line or notice in the tracker, then pushes it: whether
            the customer's channel took it."""
            agent = request.app.ctx.agent
            async with agent.lock_store.lock(conversation_id):
                tracker = await agent.tracker_store.get_or_create_tracker(conversation_id)
                tracker.update(BotUttered(text, metadata=metadata))
                await agent.tracker_store.save(tracker)
                channel = tracker.get_latest_input_channel()
            return await live.to_customer(conversation_id, {"text": text, **push},
                                          channel=channel)

        async def resume(request: Request, conversation_id: str) -> None:
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
            template = request.app.ctx.agent.domain.responses[response_name][0]["text"]
            return template.format(**values)

        async def join(request: Request, staff: Staff, ticket_id: int) -> Optional[str]:
            changed = await asyncio.to_thread(change_ticket, ticket_id, "in_progress", staff.name)
            if changed is None:
                return None
            if changed["before"] != "in_progress":
                text = notice_text(request, "utter_staff_joined", staff=staff.name)
                await say(request, changed["conversation_id"], text,
                          {"notice": "staff_joined", "staff": staff.name},
                          {"notice": "staff_joined", "staff": staff.name})
                await live.to_staff("queue_changed")
            return changed["conversation_id"]

        @console.route("/", methods=["GET"])
        async def page(_: Request) -> HTTPResponse:
            return await response.file(static_file("console.html"))

        @console.route("/api/login", methods=["POST"])
        async def login(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else {}
            username, password = body.get("username"), body.get("password")
            if not isinstance(username, str) or not isinstance(password, str):
                return response.json({"error": "请输入用户名和密码"}, status=400)
            try:
                token = await asyncio.to_thread(directory().login, username, password)
            except AuthError as error:
                return response.json({"error": str(error)}, status=401)
            staff = directory().verify(token)
            expires = deadlines.utcnow() + timedelta(hours=directory().token_hours)
            return response.json(
                {"token": token, "name": staff.name, "expires_at": _iso(expires)}
            )

        @console.route("/api/queue", methods=["GET"])
        @protected
        async def queue(request: Request, staff: Staff) -> HTTPResponse:
            tickets = await asyncio.to_thread(queue_snapshot, staff.name)
            return response.json({"tickets": tickets})

        @console.route("/api/canned", methods=["GET"])
        @protected
        async def canned(request: Request, staff: Staff) -> HTTPResponse:
            return response.json({"groups": canned_replies()})

        @console.route("/api/tickets/<ticket_id:int>", methods=["GET"])
        @protected
        async def ticket(request: Request, staff: Staff, ticket_id: int) -> HTTPResponse:
            context = await asyncio.to_thread(ticket_context, ticket_id)
            if context is None:
                return response.json({"error": "工单不存在"}, status=404)
            conversation_id = context["ticket"]["conversation_id"]
            tracker = await request.app.ctx.agent.tracker_store.retrieve(conversation_id)
            context["transcript"] = transcript(list(tracker.events) if tracker else [])
            return response.json(context)

        @console.route("/api/tickets/<ticket_id:int>/join", methods=["POST"])
        @protected
        async def join_ticket(request: Request, staff: Staff, ticket_id: int) -> HTTPResponse:
            if await join(request, staff, ticket_id) is None:
                return response.json({"error": "工单不存在"}, status=404)
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
                return response.json({"error": "工单不存在"}, status=404)
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
            if not await asyncio.to_thread(add_note, ticket_id, staff.name, text):
                return response.json({"error": "工单不存在"}, status=404)
            return response.json({"ok": True})

        async def finish(
            request: Request, staff: Staff, ticket_id: int, status: str
        ) -> HTTPResponse:
            changed = await asyncio.to_thread(change_ticket, ticket_id, status, staff.name)
            if changed is None:
                return response.json({"error": "工单不存在"}, status=404)
            conversation_id = changed["conversation_id"]
            agent = request.app.ctx.agent
            tracker = await agent.tracker_store.retrieve(conversation_id)
            if tracker is not None and tracker.is_paused():
                await resume(request, conversation_id)
                text = notice_text(request, "utter_handed_back")
                await say(request, conversation_id, text, {"notice": "handed_back"},
                          {"notice": "handed_back"})
            await live.to_staff("queue_changed")
            return response.json({"ok": True})

        @console.route("/api/tickets/<ticket_id:int>/handback", methods=["POST"])
        @protected
        async def handback(request: Request, staff: Staff, ticket_id: int) -> HTTPResponse:
            return await finish(request, staff, ticket_id, "handed_back")

        @console.route("/api/tickets/<ticket_id:int>/close", methods=["POST"])
        @protected
        async def close(request: Request, staff: Staff, ticket_id: int) -> HTTPResponse:
            return await finish(request, staff, ticket_id, "closed")

        @console.route("/practice", methods=["GET"])
        async def practice_page(_: Request) -> HTTPResponse:
            return await response.file(static_file("practice.html"))

        @console.route("/api/practice", methods=["GET"])
        @protected
        async def practice_overview(request: Request, staff: Staff) -> HTTPResponse:
            return response.json(await asyncio.to_thread(trainer_overview))

        @console.route("/api/practice/trainee", methods=["GET"])
        @protected
        async def practice_trainee(request: Request, staff: Staff) -> HTTPResponse:
            name = request.args.get("name", "")
            progress = await asyncio.to_thread(trainee_progress, name)
            if not progress["sessions"]:
                return response.json({"error": "该学员还没有练习记录"}, status=404)
            return response.json(progress)

        @console.route("/api/practice/chart.png", methods=["GET"])
        @protected
        async def practice_chart(request: Request, staff: Staff) -> HTTPResponse:
            name = request.args.get("name", "")
            try:
                png = await asyncio.to_thread(progress_png, name)
            except ValueError:
                return response.json({"error": "该学员还没有完成的练习"}, status=404)
            return response.raw(png, content_type="image/png")

        @console.route("/reports", methods=["GET"])
        async def reports_page(_: Request) -> HTTPResponse:
            return await response.file(static_file("reports.html"))

        @console.route("/api/reports", methods=["GET"])
        @protected
        async def reports(request: Request, staff: Staff) -> HTTPResponse:
            return await report_export(request, "json", "")

        @console.route(r"/api/reports/<file:[a-z_]+\.csv>", methods=["GET"])
        @protected
        async def report_csv(request: Request, staff: Staff, file: str) -> HTTPResponse:
            return await report_export(request, "csv", file[:-4])

        @console.route(r"/api/reports/chart/<file:[a-z_]+\.png>", methods=["GET"])
        @protected
        async def report_chart(request: Request, staff: Staff, file: str) -> HTTPResponse:
            return await report_export(request, "png", file[:-4])

        async def report_export(request: Request, form: str, name: str) -> HTTPResponse:
            since, until = request.args.get("since"), request.args.get("until")
            try:
                body = await asyncio.to_thread(manager_report.export, form, name, since, until)
            except KeyError:
                return response.json({"error": "没有这个报表"}, status=404)
            except ValueError as error:
                return response.json({"error": str(error)}, status=400)
            if form == "json":
                return response.json(body)
            return response.raw(body, content_type=manager_report.CONTENT_TYPES[form], headers={
                "Content-Disposition": f'attachment; filename="{name}.{form}"'})

        @console.route("/review", methods=["GET"])
        async def review_page(_: Request) -> HTTPResponse:
            return await response.file(static_file("review.html"))

        @console.route("/api/review", methods=["GET"])
        @protected
        async def review_list(request: Request, staff: Staff) -> HTTPResponse:
            def values(name: str) -> List[str]:
                return [v for raw in request.args.getlist(name, []) for v in raw.split(",")]

            try:
                body = await asyncio.to_thread(
                    review.listing, values("status"), values("reason"),
                    request.args.get("conversation_id") or None,
                    int(request.args.get("limit", review.PAGE_SIZE)),
                    int(request.args.get("offset", 0)))
            except ValueError as error:
                message = str(error) if isinstance(error, review.QueueError) else "参数有误"
                return response.json({"error": message}, status=400)
            return response.json(body)

        @console.route("/api/review/<item_id:int>/label", methods=["POST"])
        @protected
        async def review_label(request: Request, staff: Staff, item_id: int) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else {}
            try:
                item = await asyncio.to_thread(
                    review.label, item_id, str(body.get("label") or ""), staff.name)
            except review.QueueError as error:
                return response.json({"error": str(error)}, status=error.status)
            return response.json({"item": item})

        @console.route("/api/review/scan", methods=["POST"])
        @protected
        async def review_scan(request: Request, staff: Staff) -> HTTPResponse:
            return response.json(await asyncio.to_thread(review.scan_summary))

        @console.route("/api/review/export", methods=["POST"])
        @protected
        async def review_export(request: Request, staff: Staff) -> HTTPResponse:
            return response.json(await asyncio.to_thread(review.export_summary))

        @console.route("/api/review/recheck", methods=["GET", "POST"])
        @protected
        async def review_recheck(request: Request, staff: Staff) -> HTTPResponse:
            if request.method == "POST":  # with the model this server is running
                agent = request.app.ctx.agent
                return response.json(await review.recheck_now(agent, agent.model_name or ""))
            stored = await asyncio.to_thread(review.last_recheck)
            if stored is None:
                return response.json({"error": "还没有重新识别的结果"}, status=404)
            return response.json(stored)

        @console.listener("after_server_start")
        async def watch_queue(app: Any, _loop: Any) -> None:
            app.add_task(self._watch_queue())
            app.add_task(alerts.watch())
            app.add_task(review.watch())

        return console

    async def _watch_queue(self) -> None:
        """Pushes `queue_changed` to consoles when tickets appear or move (any process
        may create them: the action server opens most)."""
        last: Optional[List[Any]] = None
        while True:
            try:
                signature = await asyncio.to_thread(queue_signature)
                if last is not None and signature != last:
                    await live.to_staff("queue_changed")
                last = signature
            except Exception:
                logger.exception("Queue watch failed; retrying")
            await asyncio.sleep(QUEUE_POLL_SECONDS)
