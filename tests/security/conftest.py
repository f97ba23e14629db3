"""Attack tests against a real stack of their own (Rasa server, action server, database)
on free loopback ports; every process is stopped by PID when the session ends."""

from __future__ import annotations

from typing import Iterator

import pytest

from bench.stack import Stack, running_stack

REST_TOKEN = "security-suite-rest-token-0123456789"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # The shipped rate limits (shop/config.py defaults), unlike the other test stacks.
    limits = {"RATE_LIMIT_ADDRESS_PER_MINUTE": "120",
              "RATE_LIMIT_CONVERSATION_PER_MINUTE": "30", "RATE_LIMIT_FORM_PER_MINUTE": "10",
              # REST as production runs it: integrations only, with their token.
              "REST_TOKEN": REST_TOKEN}
    with running_stack(tmp_path_factory.mktemp("security-stack"), extra_env=limits) as running:
        yield running
