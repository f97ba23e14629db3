"""The soak's verdict (bench/soak.py) on made-up samples: the p99 check follows a
slowdown that grows with time, not one stalled window."""

from __future__ import annotations

from typing import List

from bench.load import LevelResult, Sample
from bench.soak import Point, verdict

WINDOW_S = 10


def run(window_p99s: List[float], slow: int = 2) -> tuple:
    """Points every 10 s with those p99s (the first two are warm-up), and the samples:
    per window 100 replies, `slow` of them as slow as the window's p99, the rest 20 ms."""
    points, samples = [], []
    for number, p99 in enumerate(window_p99s, start=1):
        at = number * WINDOW_S
        points.append(Point(at_s=at, rss_mb={"rasa": 400.0}, descriptors={"rasa": 20},
                            db_connections={"rasa": 2}, messages=100, p99_ms=p99))
        samples += [Sample("s", at - WINDOW_S + i / 10, 0.02) for i in range(100 - slow)]
        samples += [Sample("s", at - 0.05, p99 / 1000)] * slow
    return points, LevelResult(customers=1, pace_rate=None, samples=samples, started=0.0)


def test_steady_latency_passes() -> None:
    points, level = run([500, 500] + [90] * 12)
    assert verdict(points, level, warmup=0.15)["p99 drift"]["ok"]


def test_one_stalled_window_in_the_second_half_passes() -> None:
    # Twenty slow replies in one window: the p99 of the whole half would be 400 ms.
    points, level = run([500, 500] + [90] * 6 + [90, 400, 90, 90, 90, 90], slow=20)
    check = verdict(points, level, warmup=0.15)["p99 drift"]
    assert check["ok"], check


def test_latency_that_grows_through_the_second_half_fails() -> None:
    points, level = run([500, 500] + [90] * 6 + [150, 160, 170, 180, 190, 200])
    check = verdict(points, level, warmup=0.15)["p99 drift"]
    assert not check["ok"], check
    assert check["value"] == "90 → 175 ms"


def test_errors_and_memory_growth_still_fail() -> None:
    points, level = run([90] * 14)
    for point in points[-2:]:
        point.rss_mb["rasa"] = 440.0
    level.samples[-1].error = "timeout"
    checks = verdict(points, level, warmup=0.15)
    assert not checks["memory growth, rasa"]["ok"] and not checks["errors"]["ok"]
