"""The browser code never turns text into HTML, so customer and staff text cannot
inject markup (the browser test checks the same thing end to end)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "bot" / "web" / "static"
SCRIPTS = sorted(p for p in STATIC.glob("*.js"))
HTML_SINKS = re.compile(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|eval\(")


def test_there_are_scripts() -> None:
    assert {p.name for p in SCRIPTS} >= {"widget.js", "console.js"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_no_html_sinks(script: Path) -> None:
    code = script.read_text(encoding="utf-8")
    assert not HTML_SINKS.findall(code)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_text_goes_through_text_nodes(script: Path) -> None:
    code = script.read_text(encoding="utf-8")
    if "document." not in code:  # no page access at all (staff_api.js only calls the API)
        assert script.name == "staff_api.js"
        return
    assert "textContent" in code or "createTextNode" in code
