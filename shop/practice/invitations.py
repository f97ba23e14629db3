"""Invitation codes: a trainer makes one for a trainee in the console; practice in the
chat starts only with a valid code, and the code — never a name the client sends —
decides whose practice and history it is. Codes are 10 characters from an alphabet
without look-alikes (about 50 bits), stored only as a SHA-256 hash, and expire."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Optional

from shop import deadlines
from shop.db import repository
from shop.db.engine import session_scope

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 10
VALID_FOR = timedelta(days=30)
MAX_TRAINEE_CHARS = 32


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def create(trainee: str, created_by: str) -> str:
    """A new code for `trainee` (raises ValueError for an unusable name)."""
    name = (trainee or "").strip()
    if not name or len(name) > MAX_TRAINEE_CHARS or any(c in name for c in "{}[]\"\\/"):
        raise ValueError(f"学员姓名需为 1–{MAX_TRAINEE_CHARS} 个字符，且不含特殊符号")
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    now = deadlines.utcnow()
    with session_scope() as session:
        repository.practice.add_invitation(session=session, code_hash=_hash(code), trainee=name,
                                           created_by=created_by, created_at=now,
                                           expires_at=now + VALID_FOR)
    return code


def trainee_of(code: Optional[str]) -> Optional[str]:
    """The trainee an unexpired code was made for, or None."""
    if not code or len(str(code)) > 64:
        return None
    with session_scope() as session:
        return repository.practice.invitation_trainee(
            session=session, code_hash=_hash(str(code)), now=deadlines.utcnow())
