"""The rate limiter's windows (bot/channels/limits.py) on a fake clock."""

from __future__ import annotations

from bot.channels.limits import MAX_KEYS, Limits, Window


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_allows_its_limit_per_minute_then_says_how_long_to_wait():
    clock = Clock()
    window = Window(3, clock)
    assert [window.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    clock.now += 20
    assert window.take("a") == 40.0  # the first event leaves the window in 40 s
    assert window.take("b") == 0.0  # another key is not affected
    clock.now += 40.5
    assert window.take("a") == 0.0


def test_zero_means_no_limit():
    window = Window(0, Clock())
    assert all(window.take("a") == 0.0 for _ in range(1000))


def test_messages_are_limited_per_address_and_per_conversation():
    limits = Limits(address=5, conversation=2, form=1, clock=Clock())
    assert limits.message("10.0.0.1", "c1") == 0 and limits.message("10.0.0.1", "c1") == 0
    assert limits.message("10.0.0.1", "c1") > 0  # the conversation's third in a minute
    assert limits.message("10.0.0.1", "c2") == 0 and limits.message("10.0.0.1", "c3") == 0
    assert limits.message("10.0.0.1", "c4") > 0  # the address's sixth
    assert limits.message("10.0.0.2", "c5") == 0
    assert limits.form_post("10.0.0.1", "/rating") == 0
    assert limits.form_post("10.0.0.1", "/rating") > 0
    assert limits.form_post("10.0.0.1", "/login") == 0  # each form on its own


def test_a_flood_of_fresh_addresses_keeps_memory_bounded():
    window = Window(5, Clock())
    for number in range(MAX_KEYS + 500):
        window.take(f"k{number}")
    assert len(window._events) == MAX_KEYS
