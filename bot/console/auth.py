"""Staff login, the token check every console API route goes through, the manager
role check, and the audit helper every route that shows personal data or changes a
record calls (shop/audit.py)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, Awaitable, Callable, Dict

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.client import client_address
from shop import audit, deadlines, staff_auth, staff_login
from shop.desk import iso
from shop.staff_auth import AuthError, Staff

logger = logging.getLogger(__name__)

StaffHandler = Callable[..., Awaitable[HTTPResponse]]


UNAVAILABLE = {"error": "服务暂时不可用，请稍后再试"}


def bearer(request: Request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:] if header.startswith("Bearer ") else ""


async def authenticate(request: Request) -> Staff:
    """The staff member whose bearer token the request carries (not logged out: a
    database lookup, in a worker thread); raises AuthError."""
    return await asyncio.to_thread(staff_login.authenticate, bearer(request))


def protected(handler: StaffHandler) -> Callable[..., Awaitable[HTTPResponse]]:
    """A route for logged-in staff: 401 without a valid token, and a polite 503 (with
    the failure logged) instead of a stack trace when the handler fails."""
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        try:
            staff = await authenticate(request)
        except AuthError as error:
            return response.json({"error": str(error)}, status=401)
        except Exception:  # e.g. the database is down: no way to know about a logout
            logger.exception("Console authentication for %s failed", request.path)
            return response.json(UNAVAILABLE, status=503)
        try:
            return await handler(request, staff, *args, **kwargs)
        except Exception:
            logger.exception("Console request %s failed", request.path)
            return response.json(UNAVAILABLE, status=503)

    wrapper.__name__ = handler.__name__
    return wrapper


def manager_only(handler: StaffHandler) -> Callable[..., Awaitable[HTTPResponse]]:
    """A route for managers (reports, exports, audit log): 403 for agents, logged."""
    async def wrapper(request: Request, staff: Staff, *args: Any, **kwargs: Any) -> HTTPResponse:
        if not staff.is_manager:
            logger.warning("Agent %s refused at manager route %s", staff.name, request.path)
            return response.json({"error": "没有权限：此功能仅限主管使用"}, status=403)
        return await handler(request, staff, *args, **kwargs)

    wrapper.__name__ = handler.__name__
    return protected(wrapper)


async def audited(request: Request, staff: Staff, action: str, target: str = "") -> None:
    """Records a staff action with the request's client address (before the answer:
    a view that cannot be audited is not shown)."""
    await asyncio.to_thread(audit.record, staff.name, staff.role, action, target,
                            client_address(request))


def json_body(request: Request) -> Dict[str, Any]:
    """The request's JSON object, or {} for anything else."""
    return request.json if isinstance(request.json, dict) else {}


def add_routes(console: Blueprint) -> None:
    """POST /api/login: a staff token for a user name and password."""

    @console.route("/api/login", methods=["POST"])
    async def login(request: Request) -> HTTPResponse:
        try:
            return await attempt(request)
        except Exception:  # e.g. the audit log cannot be written: no unrecorded login
            logger.exception("Staff login failed")
            return response.json(UNAVAILABLE, status=503)

    async def attempt(request: Request) -> HTTPResponse:
        body = json_body(request)
        username, password = body.get("username"), body.get("password")
        code = body.get("code")
        if not isinstance(username, str) or not isinstance(password, str) or not (
                code is None or isinstance(code, str)):
            return response.json({"error": "请输入用户名和密码"}, status=400)
        directory = staff_auth.staff_directory()
        try:
            token = await asyncio.to_thread(staff_login.login, username[:64], password[:256],
                                            client_address(request), code)
        except staff_login.LockedOut as error:
            await audited(request, Staff(name=username[:64], role=""), "login_locked")
            return response.json({"error": str(error)}, status=429,
                                 headers={"Retry-After": str(error.seconds)})
        except AuthError as error:
            await audited(request, Staff(name=username[:64], role=""), "login_failed")
            # The same answer whether the name exists or has a second factor.
            return response.json({"error": str(error)}, status=401)
        staff = directory.verify(token)
        await audited(request, staff, "login")
        expires = deadlines.utcnow() + timedelta(hours=directory.token_hours)
        return response.json({"token": token, "name": staff.name, "role": staff.role,
                              "expires_at": iso(expires)})

    @console.route("/api/logout", methods=["POST"])
    @protected
    async def logout(request: Request, staff: Staff) -> HTTPResponse:
        await asyncio.to_thread(staff_login.logout, staff)
        await audited(request, staff, "logout")
        return response.json({"ok": True})

    @console.route("/api/me", methods=["GET"])
    @protected
    async def me(request: Request, staff: Staff) -> HTTPResponse:
        return response.json({"name": staff.name, "role": staff.role})
