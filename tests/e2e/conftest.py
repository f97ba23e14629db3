"""A real stack for end-to-end tests (see bench/stack.py), one per test session."""

from __future__ import annotations

from typing import Iterator

import pytest

from bench.stack import (  # noqa: F401  (re-exported for the test modules)
    MODEL,
    PROJECT_ROOT,
    STAFF_PASSWORD,
    STAFF_USER,
    TOKEN,
    Stack,
    stop,
)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    running = Stack(tmp_path_factory.mktemp("stack"))
    try:
        running.seed()
        running.start_actions()
        running.start_rasa()
        yield running
    finally:
        stop(running.rasa)
        stop(running.actions)
