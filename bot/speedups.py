"""Per-message costs of Rasa 3.6 paid once instead, found by `make bench`.

None changes what the assistant answers or the model; they are installed when the
Rasa server imports our channels (bot/channels/__init__.py). The SQLite tracker
store's own fix is a tracker store class (bot/tracker_store.py).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Text

logger = logging.getLogger(__name__)

_installed = False


def cache_action_response_validator() -> None:
    """Validates action-server replies with one compiled JSON-schema validator.

    `RemoteAction._validate_action_result` calls `jsonschema.validate`, which checks
    the constant events schema against its meta-schema and builds a new validator
    for every action call: 44 % of the server's CPU per message in the profile
    (README, Performance). A reply that fails goes through Rasa's own method, so
    the error raised and logged is unchanged.
    """
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        if best_match(validator.iter_errors(result)) is None:
            return True
        return original(self, result)

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def cache_event_classes() -> None:
    """Looks up an event's class by its type name once per name.

    Loading a tracker turns every stored event back into an object, and Rasa's
    `Event.resolve_by_type` walks all ~40 Event subclasses (recursively, checking
    each for abstractness) for every one: half of a tracker retrieve (README,
    Performance). Names Rasa does not know still go through its method, so the
    default, the old `topic` events and the error for an unknown name are unchanged.
    """
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    known: Dict[Text, Any] = {}

    def resolve_by_type(type_name: Text, default: Any = None) -> Any:
        found = known.get(type_name)
        if found is not None:
            return found
        found = original(type_name, default)
        if found is not None and found is not default:
            known[type_name] = found
        return found

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]


def install() -> None:
    """Installs every speed-up once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    for speedup in (cache_action_response_validator, cache_event_classes):
        try:
            speedup()
        except Exception:  # a Rasa upgrade moved something: run without it
            logger.exception("Speed-up %s not installed", speedup.__name__)
