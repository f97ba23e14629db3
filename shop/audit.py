"""The audit log (PIPL): every staff view of a customer record, transcript, report or
export and every change is recorded — who, with which role, what, when, from where —
and only managers may read it (bot/console/audit.py)."""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from shop import deadlines, knowledge
from shop.db import repository
from shop.db.engine import session_scope
from shop.desk import iso

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
MAX_PAGE = 200


def action_names() -> Dict[str, str]:
    """The Chinese name of each audited action (knowledge/audit.yml)."""
    return dict(knowledge.load("audit")["actions"])


def record(staff: str, role: str, action: str, target: str = "", address: str = "") -> None:
    """Writes one entry. Raises on a database failure: an action that cannot be
    audited must not happen silently (the console answers 503)."""
    if action not in action_names():
        raise ValueError(f"unknown audit action {action!r}")
    with session_scope() as session:
        repository.audit.add_entry(session=session, at=deadlines.utcnow(), staff=staff,
                                   role=role, action=action, target=target, address=address)


def listing(limit: int = PAGE_SIZE, offset: int = 0, staff: Optional[str] = None,
            action: Optional[str] = None) -> Dict[str, Any]:
    """A page of the log for the console, newest first."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ValueError("分页参数有误")
    names = action_names()
    with session_scope() as session:
        rows, total = repository.audit.entries(session=session, limit=limit, offset=offset,
                                               staff=staff or None, action=action or None)
        return {
            "total": total,
            "actions": names,
            "entries": [
                {"id": e.id, "at": iso(e.at), "staff": e.staff, "role": e.role,
                 "action": e.action, "action_name": names.get(e.action, e.action),
                 "target": e.target, "address": e.address}
                for e in rows
            ],
        }
