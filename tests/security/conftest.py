"""Attack tests against a real stack of their own (Rasa server, action server, database)
on free loopback ports; every process is stopped by PID when the session ends."""

from __future__ import annotations

from typing import Iterator

import pytest

from bench.stack import Stack, running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("security-stack")) as running:
        yield running
