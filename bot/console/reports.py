"""/reports: the manager report (shop/insights) as JSON, CSV and charts."""

from __future__ import annotations

import asyncio

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.console.auth import audited, manager_only
from bot.web import static_file
from shop.insights import manager_report
from shop.staff_auth import Staff


async def report_export(request: Request, staff: Staff, form: str, name: str) -> HTTPResponse:
    """One export of the report for the request's since/until period (audited)."""
    since, until = request.args.get("since"), request.args.get("until")
    try:
        body = await asyncio.to_thread(manager_report.export, form, name, since, until)
    except KeyError:
        return response.json({"error": "没有这个报表"}, status=404)
    except ValueError as error:
        return response.json({"error": str(error)}, status=400)
    period = f"{since or ''}~{until or ''}"
    if form == "json":
        await audited(request, staff, "view_report", f"经营报告 {period}")
    else:
        await audited(request, staff, "export_report", f"{name}.{form} {period}")
    if form == "json":
        return response.json(body)
    return response.raw(body, content_type=manager_report.CONTENT_TYPES[form], headers={
        "Content-Disposition": f'attachment; filename="{name}.{form}"'})


def add_routes(console: Blueprint) -> None:
    """The reports page and its API."""

    @console.route("/reports", methods=["GET"])
    async def reports_page(_: Request) -> HTTPResponse:
        return await response.file(static_file("reports.html"))

    @console.route("/api/reports", methods=["GET"])
    @manager_only
    async def reports(request: Request, staff: Staff) -> HTTPResponse:
        return await report_export(request, staff, "json", "")

    @console.route(r"/api/reports/<file:[a-z_]+\.csv>", methods=["GET"])
    @manager_only
    async def report_csv(request: Request, staff: Staff, file: str) -> HTTPResponse:
        return await report_export(request, staff, "csv", file[:-4])

    @console.route(r"/api/reports/chart/<file:[a-z_]+\.png>", methods=["GET"])
    @manager_only
    async def report_chart(request: Request, staff: Staff, file: str) -> HTTPResponse:
        return await report_export(request, staff, "png", file[:-4])
