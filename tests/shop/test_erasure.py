"""Personal data deletion (PIPL): one customer's or trainee's data anonymised in the
records, Rasa's tracker store (a real SQLTrackerStore file) and exports on disk —
afterwards their name and phone number appear nowhere, while the statistics (events,
intents, tickets, ratings, scores) stay; and the retention job."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import sqlalchemy as sa
from conftest import NOW
from rasa.shared.core.events import SlotSet
from tracker_scripts import START, Script, save

from shop import audit
from shop.config import settings
from shop.db import repository
from shop.db.engine import get_engine, session_scope
from shop.erasure import customer as erasure
from shop.erasure import retention
from shop.erasure.identifiers import ERASED, json_escaped, pseudonym

NAME, PHONE, CUSTOMER = "王丽", "13800138001", "C001"


def their_order() -> str:
    with session_scope() as session:
        return repository.erasure.order_numbers(session=session, customer_id=CUSTOMER)[0]


def conversations(order_no: str) -> Dict[str, Script]:
    return {
        # Their own conversation: identified through the order form, then a complaint.
        "web-victim": Script(START).session()
        .user(f"我是{NAME}，电话{PHONE}", "inform")
        .bot("action_order_status", f"{NAME}您好，请提供订单号", "utter_ask_order_no", None,
             SlotSet("order_no", order_no), SlotSet("verified_order", order_no),
             SlotSet("objection_history", ["price|value"]))
        .user("快递太慢了，我要投诉", "complain"),
        # Found by the order number alone (a later session, another browser).
        "web-victim-later": Script(START + timedelta(minutes=5)).session()
        .user(f"订单{order_no}到哪了", "order_status"),
        # Someone else: untouched.
        "web-other": Script(START + timedelta(minutes=10)).session()
        .user("这款空调多少钱", "ask_price").bot("action_product_info", "3999元"),
    }


def events(path: Path) -> List[Tuple[str, str, str, Dict[str, Any]]]:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT sender_id, type_name, coalesce(intent_name, ''), data FROM events ORDER BY id")
        found = [(s, t, i, json.loads(d)) for s, t, i, d in rows]
    engine.dispose()
    return found


def raw_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def every_record_value() -> str:
    """Every value of every table of the records database, as one text."""
    engine = get_engine()
    parts = []
    with engine.connect() as connection:
        for table in sa.inspect(engine).get_table_names():
            for row in connection.exec_driver_sql(f'SELECT * FROM "{table}"'):
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


def assert_forgotten(text: str, *identifiers: str) -> None:
    for identifier in identifiers:
        assert identifier not in text
        assert json_escaped(identifier) not in text


@pytest.fixture
def world(db, tmp_path, monkeypatch) -> Dict[str, Any]:
    """Records, a tracker store and an export on disk that all know the customer."""
    order_no = their_order()
    path = tmp_path / "tracker.db"
    save(path, conversations(order_no))
    with session_scope() as session:
        ticket = repository.tickets.create_ticket(
            session=session, kind="complaint", conversation_id="web-victim",
            summary=f"投诉：{NAME} 物流慢", detail=f"客户{NAME}（{PHONE}）说快递太慢了",
            customer_id=CUSTOMER, order_no=order_no)
        repository.tickets.add_note(session=session, ticket=ticket, author="小王",
                                    text=f"已电话联系 {PHONE}，{NAME}同意等两天")
        repository.ratings.add_rating(session=session, conversation_id="web-victim",
                                      expected=4, perceived=2, comment="太慢了，我叫王丽")
        repository.review.add_review_item(
            session=session, conversation_id="web-victim", event_id=3, text=f"我是{NAME}",
            reason="nlu_fallback", created_at=NOW)
        repository.review.add_review_item(
            session=session, conversation_id="web-other", event_id=4, text="这款空调多少钱",
            reason="low_confidence", created_at=NOW)
        ticket_id = ticket.id
    audit.record("小王", "manager", "view_conversation", f"工单 #{ticket_id} {NAME}")
    exports = tmp_path / "project" / "results" / "report"
    exports.mkdir(parents=True)
    (exports / "tickets.csv").write_text(f"工单,客户,电话\n{ticket_id},{NAME},{PHONE}\n",
                                         encoding="utf-8")
    (exports / "other.csv").write_text("工单,客户\n9,张三\n", encoding="utf-8")
    monkeypatch.setattr(erasure, "settings", replace(settings, export_dirs=(exports.parent,)))
    return {"path": path, "url": f"sqlite:///{path}", "order_no": order_no,
            "ticket_id": ticket_id, "exports": exports}


def test_the_store_holds_the_customer_before(world):
    raw = raw_bytes(world["path"])
    assert PHONE.encode() in raw and json_escaped(NAME).encode() in raw
    assert NAME in every_record_value() and PHONE in every_record_value()


def test_after_forgetting_the_name_and_phone_appear_nowhere(world):
    before = events(world["path"])
    report = erasure.forget_customer(phone=PHONE, tracker_url=world["url"])
    assert report.conversations == 2 and report.events_changed > 0 and report.files_changed == 1

    # The tracker store: no trace in any row, nor in the file's free pages or log.
    after = events(world["path"])
    assert_forgotten(json.dumps([e[3] for e in after]) + json.dumps(after), NAME, PHONE)
    raw = raw_bytes(world["path"])
    for forbidden in (NAME, PHONE, json_escaped(NAME), "web-victim"):
        assert forbidden.encode() not in raw, forbidden
    # The records and the exports.
    assert_forgotten(every_record_value(), NAME, PHONE)
    assert NAME not in (world["exports"] / "tickets.csv").read_text(encoding="utf-8")
    assert (world["exports"] / "other.csv").read_text(encoding="utf-8").endswith("张三\n")

    # Statistics intact: as many events, the same types and intents, in the same order;
    # the other customer's conversation unchanged to the byte.
    assert [(t, i) for _, t, i, _ in after] == [(t, i) for _, t, i, _ in before]
    assert [e for e in after if e[0] == "web-other"] == [e for e in before if e[0] == "web-other"]
    victim = pseudonym("web-victim")
    theirs = [e[3] for e in after if e[0] == victim]
    assert {e["text"] for e in theirs if e["event"] in ("user", "bot")} == {ERASED}
    slots = {e["name"]: e["value"] for e in theirs if e["event"] == "slot"}
    assert slots["order_no"] is None and slots["verified_order"] is None
    assert slots["objection_history"] == ["price|value"]  # counted by the reports
    with session_scope() as session:
        ticket = session.get(repository.tickets.Ticket, world["ticket_id"])
        assert (ticket.kind, ticket.customer_id, ticket.conversation_id) == (
            "complaint", CUSTOMER, victim)
        assert ticket.detail == ERASED
        rating = repository.ratings.ratings_between(
            session=session, start=NOW - timedelta(days=1), end=NOW + timedelta(days=1))[0]
        assert (rating.conversation_id, rating.expected, rating.perceived) == (victim, 4, 2)
        person = repository.erasure.find_customer(session=session, customer_id=CUSTOMER)
        assert person.tier == "A" and person.name == erasure.rules()["erased_customer_name"]
        assert repository.erasure.order_numbers(session=session, customer_id=CUSTOMER)


def test_forgetting_again_changes_nothing_and_a_stranger_is_refused(world):
    erasure.forget_customer(customer_id=CUSTOMER, tracker_url=world["url"])
    first = events(world["path"])
    again = erasure.forget_customer(customer_id=CUSTOMER, tracker_url=world["url"])
    assert again.events_changed == 0 and events(world["path"]) == first
    with pytest.raises(erasure.NoSuchPerson):
        erasure.forget_customer(phone=PHONE, tracker_url=world["url"])
    with pytest.raises(erasure.NoSuchPerson):
        erasure.forget_customer(customer_id="C999", tracker_url=world["url"])


def test_a_trainee_is_forgotten_with_their_practice_kept_as_scores(db, tmp_path, monkeypatch):
    monkeypatch.setattr(erasure, "settings", replace(settings, export_dirs=(tmp_path,)))
    path = tmp_path / "tracker.db"
    save(path, {"p-1": Script(START).session()
                .user('/practice{"trainee": "李小明"}', "practice")
                .bot("action_start_practice", "李小明，练习开始", None, None,
                     SlotSet("trainee", "李小明"))})
    with session_scope() as session:
        drill = repository.practice.start_practice(
            session=session, trainee="李小明", scenario_id="s1", objection_type="price")
        repository.practice.add_practice_turn(
            session=session, practice_id=drill.id, turn_no=1, customer_text="太贵了",
            reply_text="李小明觉得物有所值", technique="value", suitable=True, score=80,
            rubric=[])
        repository.practice.add_invitation(session=session, code_hash="h" * 64,
                                           trainee="李小明", created_by="小王",
                                           created_at=NOW, expires_at=NOW + timedelta(days=1))
    erasure.forget_trainee("李小明", tracker_url=f"sqlite:///{path}")
    assert_forgotten(every_record_value(), "李小明")
    assert "李小明".encode() not in raw_bytes(path)
    assert json_escaped("李小明").encode() not in raw_bytes(path)
    with session_scope() as session:
        drills = repository.practice.practice_history(session=session)
        assert [(d.objection_type, [t.score for t in d.turns]) for d in drills] == [("price", [80])]
    with pytest.raises(erasure.NoSuchPerson):
        erasure.forget_trainee("李小明", tracker_url=f"sqlite:///{path}")


def test_retention_anonymises_only_conversations_idle_too_long(db, tmp_path, clock):
    path = tmp_path / "tracker.db"
    old = NOW - timedelta(days=200)
    save(path, {"old": Script(old).session().user(f"我叫{NAME}", "inform")
                .bot("utter_greet", f"{NAME}您好"),
                "recent": Script(NOW - timedelta(days=10)).session().user("在吗", "greet")})
    with session_scope() as session:
        repository.tickets.create_ticket(session=session, kind="handoff", conversation_id="old",
                                         summary="转人工", detail=f"我叫{NAME}", now=old)
    url = f"sqlite:///{path}"
    before = events(path)
    assert retention.anonymise_idle(days=180, tracker_url=url) == 1
    after = events(path)
    anon = pseudonym("old", "anon")
    assert {s for s, *_ in after} == {anon, "recent"}
    assert [(t, i) for _, t, i, _ in after] == [(t, i) for _, t, i, _ in before]
    assert [e for e in after if e[0] == "recent"] == [e for e in before if e[0] == "recent"]
    raw = raw_bytes(path)
    assert NAME.encode() not in raw and json_escaped(NAME).encode() not in raw
    with session_scope() as session:
        ticket = repository.tickets.open_tickets(session=session, conversation_id=anon)[0]
        assert ticket.detail == ERASED and ticket.summary == "转人工"
    assert retention.anonymise_idle(days=180, tracker_url=url) == 0
    assert retention.anonymise_idle(days=0, tracker_url=url) == 0  # 0 = keep for ever


def test_the_widget_notice_states_the_retention_period():
    assert "30 天" in erasure.widget_notice(30) and "删除" in erasure.widget_notice(30)
    assert "天" not in erasure.widget_notice(0)
