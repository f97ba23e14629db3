"""Web chat session ids, issued by the server and bound to the browser they were
issued to: the browser holds the id's signature (HMAC-SHA256 under the console's
signing secret, in its own domain), and the socket.io channel and the rating form
refuse an id without it. Knowing or guessing an id — from a log line, a screenshot,
a shared link — is no longer enough to read or write a conversation."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Any, Tuple

from shop.staff_auth import token_secret

# Keeps these signatures apart from anything else the secret signs.
_DOMAIN = b"web-chat-session\x00"


def signature(session_id: str) -> str:
    key = token_secret().encode("utf-8")
    return hmac.new(key, _DOMAIN + session_id.encode("utf-8"), hashlib.sha256).hexdigest()


def issue() -> Tuple[str, str]:
    """A new session id and its signature."""
    session_id = uuid.uuid4().hex
    return session_id, signature(session_id)


def verify(session_id: Any, token: Any) -> bool:
    """Whether `token` is the signature this server gave `session_id` (constant time)."""
    if not isinstance(session_id, str) or not isinstance(token, str) or not session_id:
        return False
    if len(session_id) > 128 or len(token) != 64:
        return False
    return hmac.compare_digest(signature(session_id), token)
