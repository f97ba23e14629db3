"""Practice mode starts only with a trainer's invitation code, and the code — not a
name the client sends — decides whose practice and history it is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import make_tracker, run_action, slot_events, texts

from actions.practice import ActionEndPractice, ActionStartPractice
from shop import deadlines
from shop.db import repository
from shop.db.engine import session_scope
from shop.db.models import PracticeInvitation
from shop.practice import data, invitations


def drills(trainee: str) -> int:
    with session_scope() as session:
        return len(repository.practice.practice_history(session=session, trainee=trainee))


def start(domain, dispatcher, **slots):
    tracker = make_tracker(domain, slots=slots, text="/practice", intent="practice")
    return slot_events(run_action(ActionStartPractice(), dispatcher, tracker, domain))


@pytest.mark.parametrize("code", [None, "", "NOTACODE42", "x" * 500])
def test_without_a_valid_code_practice_does_not_start(db, domain, dispatcher, code):
    slots = start(domain, dispatcher, practice_invitation=code, trainee="受害学员")
    assert texts(dispatcher) == [data.feedback()["chat"]["needs_invitation"]]
    # The form completes at once; no drill, and no trainee name taken from the client.
    assert slots["practice_reply"] == "ended" and slots["trainee"] is None
    assert "practice_id" not in slots and drills("受害学员") == 0


def test_the_code_decides_whose_practice_it_is(db, domain, dispatcher):
    code = invitations.create("小林", created_by="王老师")
    # A trainee name smuggled into the slots (e.g. an old payload) is overwritten.
    slots = start(domain, dispatcher, practice_invitation=code.lower(), trainee="受害学员")
    assert slots["trainee"] == "小林" and slots["practice_id"] and slots["practice_reply"] is None
    assert drills("小林") == 1 and drills("受害学员") == 0
    assert "客户：" in "\n".join(texts(dispatcher))


def test_ending_without_a_started_practice_shows_no_history(db, domain, dispatcher):
    tracker = make_tracker(domain, slots={"trainee": None})
    assert slot_events(run_action(ActionEndPractice(), dispatcher, tracker, domain)) == {
        "practice_id": None, "practice_reply": None}
    assert dispatcher.messages == []


def test_codes_are_stored_hashed_and_expire(db, monkeypatch):
    code = invitations.create(" 小林 ", created_by="王老师")
    assert len(code) == invitations.LENGTH and set(code) <= set(invitations.ALPHABET)
    with session_scope() as session:
        (stored,) = session.query(PracticeInvitation).all()
        assert code not in stored.code_hash and stored.trainee == "小林"
    assert invitations.trainee_of(code) == "小林"
    assert invitations.create("小林", "王老师") != code
    later = deadlines.utcnow() + invitations.VALID_FOR + timedelta(seconds=1)
    monkeypatch.setattr(deadlines, "utcnow", lambda: later)
    assert invitations.trainee_of(code) is None


@pytest.mark.parametrize("name", ["", "   ", "x" * 33, 'a"b', "{x}"])
def test_unusable_trainee_names_are_refused(db, name):
    with pytest.raises(ValueError, match="学员姓名"):
        invitations.create(name, "王老师")
