"""The Rasa server restarts mid-conversation: the customer carries on where they were.

Its own stack (module scope), so stopping the server disturbs no other test. The
conversation lives in the SQL tracker store, not in the process: after a SIGTERM
(by PID) and a fresh start on the same port, the order form asks on and answers.
"""

from __future__ import annotations

import uuid
from typing import Iterator

import pytest

from e2e.conftest import Stack, running_stack


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
