"""A real stack for end-to-end tests (see bench/stack.py), one per test session."""

from __future__ import annotations

from typing import Iterator

import pytest

from bench.stack import (  # noqa: F401  (re-exported for the test modules)
    AGENT_USER,
    PROJECT_ROOT,
    STAFF_PASSWORD,
    STAFF_USER,
    TOKEN,
    Stack,
    running_stack,
)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running
