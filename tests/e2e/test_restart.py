"""The Rasa server restarts mid-conversation: the customer carries on where they were.

Its own stack (module scope), so stopping the server disturbs no other test. The
conversation lives in the SQL tracker store, not in the process: after a SIGTERM
(by PID) and a fresh start on the same port, the order form asks on and answers.
"""

from __future__ import annotations

import uuid
from typing import Iterator

import pytest

from e2e.conftest import Stack, running_stack, wait_until


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("restart")) as running:
        yield running


def test_order_form_continues_after_a_rasa_restart(own_stack: Stack) -> None:
    me = f"e2e-restart-{uuid.uuid4().hex[:8]}"
    assert "订单号" in own_stack.texts(me, "帮我查下快递到哪了")
    assert "后四位" in own_stack.texts(me, "DD202611200001")

    before = own_stack.rasa.pid  # type: ignore[union-attr]
    own_stack.stop_rasa()  # SIGTERM to the server's process group, by PID
    own_stack.start_rasa()
    assert own_stack.rasa.pid != before  # type: ignore[union-attr]

    reply = own_stack.texts(me, "8001")
    assert "DD202611200001" in reply and "运输中" in reply and "顺丰" in reply
    # The form, not the digits, found the order: alone they reveal nothing.
    assert "运输中" not in own_stack.texts(f"{me}-fresh", "8001")


def user_messages(stack: Stack, session_id: str) -> list:
    import requests

    from e2e.conftest import TOKEN
    tracker = requests.get(f"{stack.url}/conversations/{session_id}/tracker",
                           params={"token": TOKEN}, timeout=30).json()
    return [e.get("text") for e in tracker.get("events", []) if e.get("event") == "user"]


def test_a_message_typed_while_the_server_dies_arrives_once(own_stack: Stack,
                                                            browser) -> None:
    """The widget keeps what the server has not acknowledged and resends it when the
    connection comes back (bot/channels/delivery.py drops what was already handled)."""
    import os
    import signal

    from playwright.sync_api import expect

    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{own_stack.url}/webhooks/chat/")
    page.fill("#cs-input", "你好")
    page.click("#cs-send")
    expect(page.locator(".cs-msg.cs-bot")).to_have_count(1, timeout=30_000)
    session_id = page.evaluate("window.csWidget.sessionId")

    os.killpg(own_stack.rasa.pid, signal.SIGKILL)  # type: ignore[union-attr]
    own_stack.rasa.wait(timeout=30)  # type: ignore[union-attr]
    page.fill("#cs-input", "小米14多少钱")
    page.click("#cs-send")
    # Not acknowledged: kept by the browser (a reload would keep it too).
    wait_until(page, "JSON.parse(localStorage.getItem('cs_outbox') || '[]').length === 1",
               10_000)
    own_stack.start_rasa()

    expect(page.locator(".cs-msg.cs-bot .cs-text").last).to_contain_text("3,999",
                                                                          timeout=60_000)
    wait_until(page, "JSON.parse(localStorage.getItem('cs_outbox') || '[]').length === 0")
    page.wait_for_timeout(4_000)  # a needless resend would have arrived by now
    assert user_messages(own_stack, session_id) == ["你好", "小米14多少钱"]
    page.context.close()
