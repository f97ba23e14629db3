"""The measured speed-ups answer exactly as Rasa does."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa.core.actions.action import RemoteAction

from bot import speedups


@pytest.fixture
def patched(monkeypatch) -> List[Dict[str, Any]]:
    """The compiled validator over a recording stand-in for Rasa's own method."""
    calls: List[Dict[str, Any]] = []

    def rasa_own(self: RemoteAction, result: Dict[str, Any]) -> bool:
        calls.append(result)
        return False

    monkeypatch.setattr(RemoteAction, "_validate_action_result", rasa_own)
    speedups.cache_action_response_validator()
    return calls


VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "order_no", "value": "DD202611200001"}],
     "responses": [{"text": "好的"}]},
]
INVALID = [
    {"events": "not a list", "responses": []},
    {"events": [{"no_event_key": 1}], "responses": []},
]


@pytest.mark.parametrize("result", VALID)
def test_valid_replies_pass_without_rasas_slow_path(patched, result) -> None:
    action = RemoteAction("action_x", None)
    assert action._validate_action_result(result) is True
    assert patched == []


@pytest.mark.parametrize("result", INVALID)
def test_invalid_replies_go_through_rasas_own_method(patched, result) -> None:
    action = RemoteAction("action_x", None)
    assert action._validate_action_result(result) is False
    assert patched == [result]


def test_event_classes_resolve_as_rasa_does(monkeypatch) -> None:
    from rasa.shared.core import events

    monkeypatch.setattr(events.Event, "resolve_by_type", events.Event.resolve_by_type)
    names = ["user", "bot", "action", "slot", "session_started", "active_loop", "pause",
             "resume", "followup", "reset_slots", "user_featurization"]
    expected = {name: events.Event.resolve_by_type(name) for name in names}
    speedups.cache_event_classes()
    for _ in range(2):  # first lookup fills the cache, the second reads it
        assert {name: events.Event.resolve_by_type(name) for name in names} == expected
    assert events.Event.resolve_by_type("no_such_event", events.UserUttered) is events.UserUttered
    assert events.Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError):
        events.Event.resolve_by_type("no_such_event")
    event = events.Event.from_parameters({"event": "action", "name": "action_listen"})
    assert isinstance(event, events.ActionExecuted) and event.action_name == "action_listen"
