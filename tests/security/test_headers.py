"""The real Rasa server sends the security headers (bot/web/headers.py) on its pages:
a page that could be framed or run a foreign script would let an attacker act as
the staff member looking at it."""

from __future__ import annotations

import requests

from bench.stack import Stack


def test_console_and_chat_pages_carry_the_policy(stack: Stack) -> None:
    console = requests.get(f"{stack.url}/webhooks/console/", timeout=30)
    policy = console.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert console.headers["X-Frame-Options"] == "DENY"
    chat = requests.get(f"{stack.url}/webhooks/chat/", timeout=30)
    assert "frame-ancestors 'self'" in chat.headers["Content-Security-Policy"]
    widget = requests.get(f"{stack.url}/webhooks/chat/widget.js", timeout=30)
    assert widget.headers["X-Content-Type-Options"] == "nosniff"
    # Development stack: no HSTS (production only, behind TLS).
    assert "Strict-Transport-Security" not in console.headers
