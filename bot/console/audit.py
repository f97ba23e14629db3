"""/audit: the audit log of staff actions, for managers only (shop/audit.py)."""

from __future__ import annotations

import asyncio

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.console.auth import audited, manager_only
from bot.web import static_file
from shop import audit
from shop.staff_auth import Staff


def add_routes(console: Blueprint) -> None:
    """The audit page and its API."""

    @console.route("/audit", methods=["GET"])
    async def audit_page(_: Request) -> HTTPResponse:
        return await response.file(static_file("audit.html"))

    @console.route("/api/audit", methods=["GET"])
    @manager_only
    async def audit_log(request: Request, staff: Staff) -> HTTPResponse:
        try:
            body = await asyncio.to_thread(
                audit.listing, int(request.args.get("limit", audit.PAGE_SIZE)),
                int(request.args.get("offset", 0)), request.args.get("staff"),
                request.args.get("action"))
        except ValueError:
            return response.json({"error": "参数有误"}, status=400)
        await audited(request, staff, "view_audit")
        return response.json(body)
