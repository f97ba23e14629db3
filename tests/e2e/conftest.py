"""A real stack for end-to-end tests (see bench/stack.py), one per test session, and
Debian's headless Chromium for the browser tests (one per module)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

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


CHROMIUM = "/usr/bin/chromium"
# Flags for a closed network: no background calls home from the browser.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: run `make browser`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()
