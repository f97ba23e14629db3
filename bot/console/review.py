"""/review: the review queue (四个不漏) — list, label, scan, export, re-check."""

from __future__ import annotations

import asyncio
from typing import List

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.console.auth import audited, json_body, manager_only, protected
from bot.web import static_file
from shop.review import queue
from shop.staff_auth import Staff


def add_routes(console: Blueprint) -> None:
    """The review page and its API."""

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
                queue.listing, values("status"), values("reason"),
                request.args.get("conversation_id") or None,
                int(request.args.get("limit", queue.PAGE_SIZE)),
                int(request.args.get("offset", 0)))
        except ValueError as error:
            message = str(error) if isinstance(error, queue.QueueError) else "参数有误"
            return response.json({"error": message}, status=400)
        await audited(request, staff, "view_review", request.query_string[:200])
        return response.json(body)

    @console.route("/api/review/<item_id:int>/label", methods=["POST"])
    @protected
    async def review_label(request: Request, staff: Staff, item_id: int) -> HTTPResponse:
        body = json_body(request)
        try:
            item = await asyncio.to_thread(
                queue.label, item_id, str(body.get("label") or ""), staff.name)
        except queue.QueueError as error:
            return response.json({"error": str(error)}, status=error.status)
        await audited(request, staff, "label_review", f"复核消息 #{item_id}")
        return response.json({"item": item})

    @console.route("/api/review/scan", methods=["POST"])
    @protected
    async def review_scan(request: Request, staff: Staff) -> HTTPResponse:
        await audited(request, staff, "scan_review")
        return response.json(await asyncio.to_thread(queue.scan_summary))

    @console.route("/api/review/export", methods=["POST"])
    @manager_only
    async def review_export(request: Request, staff: Staff) -> HTTPResponse:
        await audited(request, staff, "export_review")
        return response.json(await asyncio.to_thread(queue.export_summary))

    @console.route("/api/review/recheck", methods=["GET", "POST"])
    @protected
    async def review_recheck(request: Request, staff: Staff) -> HTTPResponse:
        if request.method == "POST":  # with the model this server is running
            if not staff.is_manager:
                return response.json({"error": "没有权限：此功能仅限主管使用"}, status=403)
            await audited(request, staff, "recheck_review")
            agent = request.app.ctx.agent
            return response.json(await queue.recheck_now(agent, agent.model_name or ""))
        stored = await asyncio.to_thread(queue.last_recheck)
        if stored is None:
            return response.json({"error": "还没有重新识别的结果"}, status=404)
        return response.json(stored)
