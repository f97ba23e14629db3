"""Security headers on the pages and files the Rasa server serves (issue 14, item 8).

Every console and chat response: `X-Content-Type-Options: nosniff` and a same-origin
referrer policy. HTML pages also get a Content-Security-Policy — scripts only from
this origin (no inline script, no eval), styles from this origin and the pages' own
<style> blocks, images from this origin plus the blob:/data: URLs the report charts
use, connections (fetch, socket.io) to this origin only, no <base> and no plugins —
and may not be framed by another site (`frame-ancestors`; the console not at all).
In production (APP_ENV=production, served over HTTPS by the proxy) every response
carries HSTS. Rasa's own HTTP API is left alone: its JSON is not a page.
"""

from __future__ import annotations

from typing import Any, Dict

from sanic.request import Request
from sanic.response import HTTPResponse

from shop.config import settings

PREFIXES = ("/webhooks/console", "/webhooks/chat")
HSTS = "max-age=31536000; includeSubDomains"


def page_policy(frame_ancestors: str) -> str:
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:", "connect-src 'self'", "font-src 'self' data:",
        "object-src 'none'", "base-uri 'none'", "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ])


CONSOLE_POLICY = page_policy("'none'")
CHAT_POLICY = page_policy("'self'")


def headers_for(path: str, content_type: str, production: bool) -> Dict[str, str]:
    """The headers a response to `path` of `content_type` gets."""
    found: Dict[str, str] = {"Strict-Transport-Security": HSTS} if production else {}
    if not path.startswith(PREFIXES):
        return found
    found.update({"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})
    if content_type.startswith("text/html"):
        console = path.startswith("/webhooks/console")
        found["Content-Security-Policy"] = CONSOLE_POLICY if console else CHAT_POLICY
        found["X-Frame-Options"] = "DENY" if console else "SAMEORIGIN"
    return found


async def add_headers(request: Request, response: HTTPResponse) -> None:
    """Response middleware."""
    content_type = response.content_type or response.headers.get("content-type", "")
    for name, value in headers_for(request.path, content_type or "",
                                   settings.app_env == "production").items():
        response.headers.setdefault(name, value)


def installer(app: Any, _loop: Any) -> None:
    """A `before_server_start` listener for a channel's blueprint (idempotent)."""
    if getattr(app.ctx, "security_headers_installed", False):
        return
    app.ctx.security_headers_installed = True
    app.register_middleware(add_headers, "response")
