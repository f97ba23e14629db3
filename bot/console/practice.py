"""/practice: the trainer's view of every trainee's practice (shop/practice)."""

from __future__ import annotations

import asyncio

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.console.auth import audited, json_body, protected
from bot.web import static_file
from shop.practice import invitations
from shop.practice.progress import progress_png, trainee_progress, trainer_overview
from shop.staff_auth import Staff


def add_routes(console: Blueprint) -> None:
    """The practice page and its API."""

    @console.route("/practice", methods=["GET"])
    async def practice_page(_: Request) -> HTTPResponse:
        return await response.file(static_file("practice.html"))

    @console.route("/api/practice", methods=["GET"])
    @protected
    async def practice_overview(request: Request, staff: Staff) -> HTTPResponse:
        await audited(request, staff, "view_practice")
        return response.json(await asyncio.to_thread(trainer_overview))

    @console.route("/api/practice/trainee", methods=["GET"])
    @protected
    async def practice_trainee(request: Request, staff: Staff) -> HTTPResponse:
        name = request.args.get("name", "")
        progress = await asyncio.to_thread(trainee_progress, name)
        if not progress["sessions"]:
            return response.json({"error": "该学员还没有练习记录"}, status=404)
        await audited(request, staff, "view_trainee", f"学员 {name[:64]}")
        return response.json(progress)

    @console.route("/api/practice/invitations", methods=["POST"])
    @protected
    async def practice_invitation(request: Request, staff: Staff) -> HTTPResponse:
        """A code for one trainee: practice in the chat starts only with it."""
        trainee = json_body(request).get("trainee")
        try:
            code = await asyncio.to_thread(invitations.create, str(trainee or ""), staff.name)
        except ValueError as error:
            return response.json({"error": str(error)}, status=400)
        await audited(request, staff, "invite_trainee", f"学员 {str(trainee)[:64]}")
        days = invitations.VALID_FOR.days
        return response.json({"code": code, "trainee": str(trainee).strip(),
                              "valid_days": days,
                              "payload": f'/practice{{"invitation": "{code}"}}'})

    @console.route("/api/practice/chart.png", methods=["GET"])
    @protected
    async def practice_chart(request: Request, staff: Staff) -> HTTPResponse:
        name = request.args.get("name", "")
        try:
            png = await asyncio.to_thread(progress_png, name)
        except ValueError:
            return response.json({"error": "该学员还没有完成的练习"}, status=404)
        return response.raw(png, content_type="image/png")
