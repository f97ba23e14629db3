"""A real stack for end-to-end tests (see bench/stack.py), one per test session, and
Debian's headless Chromium for the browser tests (one per module)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

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


def wait_until(page: Page, expression: str, timeout_ms: float = 30_000) -> None:
    """Polls a JavaScript expression until it is true. Not page.wait_for_function: our
    pages' CSP forbids eval, and Playwright's polling predicate is an eval that the page
    allows only on its first call (microsoft/playwright#36986), so the wait failed with
    an EvalError whenever the condition was not already true (CI, 2026-12-06). Each
    page.evaluate is a single protocol evaluation, which the CSP does not block."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_ms:.0f} ms: {expression}")
        page.wait_for_timeout(100)

