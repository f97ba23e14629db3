"""Personal data deletion from the console (managers only, audited): one customer's
data anonymised everywhere it lives (shop/erasure/customer.py), or one trainee's."""

from __future__ import annotations

import asyncio
import logging

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.console.auth import audited, json_body, manager_only
from shop.erasure.customer import NoSuchPerson, forget_customer, forget_trainee
from shop.staff_auth import Staff

logger = logging.getLogger(__name__)

NOT_CONFIRMED = {"error": "请确认：在确认框中输入要删除的客户编号（或学员姓名）"}
NOT_FOUND = {"error": "没有找到这位客户或学员，未做任何更改"}
MAX_ID_CHARS = 64


def add_routes(console: Blueprint) -> None:
    """POST /api/customers/<id>/erase and /api/trainees/erase."""

    @console.route("/api/customers/<customer_id:str>/erase", methods=["POST"])
    @manager_only
    async def erase_customer(request: Request, staff: Staff, customer_id: str) -> HTTPResponse:
        # Typing the id again: a click on the wrong ticket must not erase anyone.
        if json_body(request).get("confirm") != customer_id or len(customer_id) > MAX_ID_CHARS:
            return response.json(NOT_CONFIRMED, status=400)
        # Recorded before it happens: an erasure that cannot be audited does not happen.
        await audited(request, staff, "erase_personal_data", f"客户 {customer_id}")
        try:
            report = await asyncio.to_thread(forget_customer, customer_id)
        except NoSuchPerson:
            return response.json(NOT_FOUND, status=404)
        return response.json(report.as_dict())

    @console.route("/api/trainees/erase", methods=["POST"])
    @manager_only
    async def erase_trainee(request: Request, staff: Staff) -> HTTPResponse:
        body = json_body(request)
        trainee = body.get("trainee")
        if not isinstance(trainee, str) or not trainee.strip() or len(trainee) > MAX_ID_CHARS \
                or body.get("confirm") != trainee:
            return response.json(NOT_CONFIRMED, status=400)
        await audited(request, staff, "erase_personal_data", "学员（姓名已删除）")
        try:
            report = await asyncio.to_thread(forget_trainee, trainee.strip())
        except NoSuchPerson:
            return response.json(NOT_FOUND, status=404)
        return response.json(report.as_dict())
