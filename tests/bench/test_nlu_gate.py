"""make test-nlu's gate (bench/nlu_quality.py): each threshold fails on its own."""

from __future__ import annotations

from typing import Any, Dict

from bench.nlu_quality import gate


def figures(served: float, baseline: float, fallback: float) -> Dict[str, Any]:
    return {"sets": {"real": {
        "model": {"as_served": {"macro_f1": served}, "fallback_share_in_scope": fallback},
        "baseline": {"macro_f1": baseline},
    }}}


def test_passes_when_every_threshold_holds() -> None:
    assert gate(figures(0.70, 0.60, 0.03), {"real": 0.64}, {"real": 0.05}, {"real": 0.05}) == 0


def test_fails_under_the_minimum_or_the_baseline_margin() -> None:
    assert gate(figures(0.63, 0.50, 0.03), {"real": 0.64}, {}, {}) == 1
    assert gate(figures(0.70, 0.66, 0.03), {}, {"real": 0.05}, {}) == 1


def test_fails_when_too_many_in_scope_messages_fall_back() -> None:
    assert gate(figures(0.70, 0.60, 0.051), {}, {}, {"real": 0.05}) == 1
    assert gate(figures(0.70, 0.60, 0.051), {}, {}, {}) == 0  # not asked for


def run_logging(quiet: bool) -> str:
    """What a process prints for Rasa's parse event (debug) and a warning."""
    import subprocess
    import sys

    code = ("import structlog\n"
            + ("from bench.nlu_quality import quiet_logs\nquiet_logs()\n" if quiet else "")
            + "log = structlog.get_logger()\n"
            "log.debug('processor.message.parse', parse_data_text='held-out text')\n"
            "log.warning('still shown')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    return done.stdout + done.stderr


def test_the_gate_does_not_print_the_messages_it_parses() -> None:
    assert "held-out text" in run_logging(quiet=False)  # structlog's default: everything
    shown = run_logging(quiet=True)
    assert "held-out text" not in shown
    assert "still shown" in shown
