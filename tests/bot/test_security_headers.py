"""Security headers on the console and chat pages (bot/web/headers.py), through the
real blueprints in a Sanic app; the browser tests run every page under this policy."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Iterator, Tuple

import asgi
import pytest
from sanic import Sanic

from bot.channels.webchat import WebChatInput
from bot.console.channel import StaffConsoleInput
from bot.web import headers
from bot.web.headers import CHAT_POLICY, CONSOLE_POLICY, headers_for


@pytest.fixture
def app() -> Iterator[Sanic]:
    async def on_message(_: Any) -> None:
        return None

    Sanic.test_mode = True
    sanic = Sanic("security_headers")
    sanic.blueprint(StaffConsoleInput().blueprint(on_message), url_prefix="/webhooks/console")
    sanic.blueprint(WebChatInput().blueprint(on_message), url_prefix="/webhooks/chat")
    headers.installer(sanic, None)
    headers.installer(sanic, None)  # idempotent: both channels call it
    asyncio.run(sanic._startup())
    yield sanic
    Sanic._app_registry.pop(sanic.name, None)


def get(app: Sanic, path: str) -> Tuple[int, Dict[str, str]]:
    reply = asgi.request(app, path)
    assert len(reply.pairs) == len(reply.headers), "a header sent twice"
    return reply.status, reply.headers


@pytest.mark.parametrize("page", ["", "practice", "reports", "review", "audit"])
def test_console_pages_allow_only_their_own_scripts_and_no_framing(app, page):
    status, found = get(app, f"/webhooks/console/{page}")
    assert status == 200 and found["content-security-policy"] == CONSOLE_POLICY
    assert "script-src 'self'" in CONSOLE_POLICY and "unsafe-eval" not in CONSOLE_POLICY
    assert "'unsafe-inline'" not in CONSOLE_POLICY.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in CONSOLE_POLICY and found["x-frame-options"] == "DENY"
    assert found["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in found  # development


@pytest.mark.parametrize("path", ["/webhooks/chat/", "/webhooks/chat/demo"])
def test_chat_pages_may_be_framed_only_by_this_site(app, path):
    status, found = get(app, path)
    assert status == 200 and found["content-security-policy"] == CHAT_POLICY
    assert "frame-ancestors 'self'" in CHAT_POLICY and found["x-frame-options"] == "SAMEORIGIN"


def test_scripts_get_nosniff_but_no_page_policy(app):
    status, found = get(app, "/webhooks/chat/widget.js")
    assert status == 200 and found["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in found


def test_production_adds_hsts_everywhere_and_other_routes_stay_alone():
    production = headers_for("/webhooks/console/", "text/html; charset=utf-8", True)
    assert production["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers_for("/model/parse", "application/json", False) == {}
    assert headers_for("/model/parse", "application/json", True) == {
        "Strict-Transport-Security": headers.HSTS}


def test_no_page_has_an_inline_script():
    """The policy forbids inline scripts, so none may exist (they would silently not run)."""
    import re

    from bot.web import STATIC_DIR

    for page in STATIC_DIR.glob("*.html"):
        for tag in re.findall(r"<script\b[^>]*>", page.read_text(encoding="utf-8")):
            assert "src=" in tag, (page.name, tag)
        assert not re.search(r"\son[a-z]+\s*=", page.read_text(encoding="utf-8")), page.name
