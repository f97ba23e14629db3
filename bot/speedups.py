"""Per-message costs of Rasa 3.6 paid once instead, found by `make bench`.

Neither changes what the assistant answers or the model; both are installed when
the Rasa server imports our channels (bot/channels/__init__.py).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Dict, Optional, Text

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


def sqlite_wal(tracker_store_url: Optional[str] = None) -> None:
    """The SQLite tracker store in WAL mode with synchronous=NORMAL.

    Rasa's SQL tracker store commits every turn from inside the event loop; with
    SQLite's rollback journal that is several fsyncs during which no other
    conversation moves. With WAL a committed turn can be lost only on power
    failure, not when a process dies. Only the tracker database: the records keep
    their journal (other tools copy and replace that file). Production keeps
    trackers in PostgreSQL, where this does nothing.
    """
    from sqlalchemy import event
    from sqlalchemy.engine import Engine, make_url

    from actions.config import settings

    url = make_url(tracker_store_url or settings.tracker_store_url)
    if not url.drivername.startswith("sqlite") or not url.database:
        return
    tracker_file = os.path.realpath(url.database)

    @event.listens_for(Engine, "connect")
    def _wal(dbapi_connection: Any, _record: Any) -> None:
        if not type(dbapi_connection).__module__.startswith("sqlite3"):
            return
        cursor = dbapi_connection.cursor()
        try:
            files = [row[2] for row in cursor.execute("PRAGMA database_list")]
            if files and files[0] and os.path.realpath(files[0]) == tracker_file:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()


def install() -> None:
    """Installs every speed-up once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    for speedup in (cache_action_response_validator, sqlite_wal):
        try:
            speedup()
        except Exception:  # a Rasa upgrade moved something: run without it
            logger.exception("Speed-up %s not installed", speedup.__name__)
