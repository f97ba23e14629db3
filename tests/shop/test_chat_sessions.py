"""Server-issued web chat session ids: a signature only the server can make."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shop import chat_sessions, staff_auth
from shop.config import settings


def test_an_issued_session_verifies_and_nothing_else_does():
    session_id, token = chat_sessions.issue()
    other, other_token = chat_sessions.issue()
    assert session_id != other and len(session_id) == 32
    assert chat_sessions.verify(session_id, token)
    for forged_id, forged_token in ((session_id, other_token), (other, token),
                                    (session_id, token.upper()), (session_id, token[:-1]),
                                    (session_id, None), (None, token), ("", token),
                                    (session_id, ""), (["x"], token), ("x" * 129, token)):
        assert not chat_sessions.verify(forged_id, forged_token), (forged_id, forged_token)


def test_the_signature_depends_on_the_secret(monkeypatch):
    session_id, token = chat_sessions.issue()
    other = replace(settings, staff_token_secret="another-secret-of-enough-length-000")
    monkeypatch.setattr(chat_sessions, "token_secret", lambda: staff_auth.token_secret(other))
    assert not chat_sessions.verify(session_id, token)


def test_a_console_token_is_not_a_chat_signature():
    """The secret signs console tokens too: the domain prefix keeps them apart."""
    session_id, token = chat_sessions.issue()
    import hashlib
    import hmac
    plain = hmac.new(staff_auth.token_secret().encode(), session_id.encode(),
                     hashlib.sha256).hexdigest()
    assert plain != token and not chat_sessions.verify(session_id, plain)


@pytest.mark.parametrize("session_id", ["a" * 8, "会话" * 10, "wechat:abc"])
def test_any_id_shape_is_signed(session_id):
    assert chat_sessions.verify(session_id, chat_sessions.signature(session_id))
