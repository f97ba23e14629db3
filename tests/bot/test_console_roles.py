"""Staff roles and the audit log (PIPL): agents work tickets but cannot read reports,
exports or the audit log; every view of a customer's conversation and every change is
recorded with who, role, what, when and the client address — and a view that cannot
be recorded is not shown."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Optional, Tuple

import asgi
import pytest
from sanic import Sanic

from bot.console.channel import StaffConsoleInput
from shop import audit, staff_auth
from shop.config import settings
from shop.db import repository
from shop.db.engine import session_scope
from shop.staff_auth import AGENT, MANAGER, StaffDirectory, hash_password

PASSWORD = "pw-1234"
CONSOLE = "/webhooks/console"


def accounts(*names: str) -> str:
    return ";".join(f"{n}:{hash_password(PASSWORD, iterations=1000)}" for n in names)


@pytest.fixture
def directory(tmp_path, monkeypatch) -> StaffDirectory:
    config = replace(settings, staff_accounts=accounts("boss", "ann"), staff_managers=("boss",),
                     staff_token_secret="r" * 40, var_dir=tmp_path / "var",
                     staff_accounts_file=tmp_path / "var" / "staff.yml")
    found = StaffDirectory(config)
    monkeypatch.setattr(staff_auth, "staff_directory", lambda: found)
    return found


class NoTrackers:
    async def retrieve(self, _: str) -> None:
        return None


@pytest.fixture
def app(directory, db) -> Iterator[Sanic]:
    async def on_message(_: Any) -> None:
        return None

    Sanic.test_mode = True
    sanic = Sanic(f"roles_{id(directory)}")
    sanic.blueprint(StaffConsoleInput().blueprint(on_message), url_prefix=CONSOLE)
    responses = {"utter_staff_joined": [{"text": "{staff}为您服务"}],
                 "utter_handed_back": [{"text": "已交还"}]}
    sanic.ctx.agent = SimpleNamespace(tracker_store=NoTrackers(),
                                      domain=SimpleNamespace(responses=responses))
    asyncio.run(sanic._startup())  # routes only: no background tasks
    yield sanic
    Sanic._app_registry.pop(sanic.name, None)


def call(app: Sanic, path: str, token: Optional[str] = None, method: str = "GET",
         body: Optional[Dict[str, Any]] = None, peer: str = "127.0.0.1",
         forwarded: Optional[str] = None) -> Tuple[int, Any]:
    """One request through the app's ASGI interface, from `peer`."""
    reply = asgi.request(app, path, method=method, token=token, body=body or {}, peer=peer,
                         headers={"X-Forwarded-For": forwarded} if forwarded else None)
    try:
        return reply.status, reply.json()
    except ValueError:
        return reply.status, reply.body


def login(app: Sanic, name: str, password: str = PASSWORD, peer: str = "127.0.0.1") -> str:
    status, body = call(app, f"{CONSOLE}/api/login", method="POST",
                        body={"username": name, "password": password}, peer=peer)
    assert status == 200, body
    return body["token"]


def log(**filters: str) -> List[Dict[str, Any]]:
    return audit.listing(limit=200, **filters)["entries"]


@pytest.fixture
def ticket(db) -> int:
    with session_scope() as session:
        return repository.tickets.create_ticket(
            session=session, kind="handoff", conversation_id="conv-audit", summary="转人工",
            customer_id="C001").id


def test_roles_come_from_configuration_and_apply_at_once(directory, tmp_path):
    assert directory.verify(directory.login("boss", PASSWORD)).role == MANAGER
    agent_token = directory.login("ann", PASSWORD)
    assert directory.verify(agent_token).role == AGENT
    # From an accounts file's `managers:` list, on the next check of the same token.
    directory._managers.add("ann")
    assert directory.verify(agent_token).is_manager


def test_the_generated_development_account_is_a_manager(tmp_path):
    config = replace(settings, staff_accounts="", staff_managers=(), app_env="development",
                     staff_token_secret="r" * 40, var_dir=tmp_path / "var",
                     staff_accounts_file=tmp_path / "var" / "staff.yml")
    assert StaffDirectory(config).role("staff") == MANAGER
    # Production never falls back: without STAFF_MANAGERS nobody manages.
    production = replace(config, app_env="production", staff_accounts=accounts("staff"),
                         staff_accounts_file=tmp_path / "none.yml")
    assert StaffDirectory(production).role("staff") == AGENT


MANAGER_ONLY = [
    ("GET", f"{CONSOLE}/api/reports"),
    ("GET", f"{CONSOLE}/api/reports/tickets_by_kind.csv"),
    ("GET", f"{CONSOLE}/api/reports/chart/commitments.png"),
    ("GET", f"{CONSOLE}/api/audit"),
    ("POST", f"{CONSOLE}/api/review/export"),
    ("POST", f"{CONSOLE}/api/review/recheck"),
]


@pytest.mark.parametrize("method,path", MANAGER_ONLY)
def test_agents_cannot_read_reports_exports_or_the_audit_log(app, method, path):
    token = login(app, "ann")
    status, body = call(app, path, token, method=method)
    assert status == 403 and "主管" in body["error"]
    assert call(app, path, method=method)[0] == 401  # and nobody without a login


def test_managers_read_the_audit_log_and_agents_learn_their_role(app, ticket):
    assert call(app, f"{CONSOLE}/api/me", login(app, "ann"))[1] == {"name": "ann",
                                                                    "role": AGENT}
    boss = login(app, "boss")
    status, body = call(app, f"{CONSOLE}/api/audit", boss)
    assert status == 200 and body["total"] >= 2
    assert [e["action"] for e in body["entries"]][:2] == ["login", "login"]  # newest first
    assert body["actions"]["view_conversation"] == "查看会话与客户资料"


def test_viewing_a_conversation_is_recorded_with_who_what_and_where(app, ticket):
    token = login(app, "ann", peer="10.0.0.7")
    # A forged X-Forwarded-For from a peer that is not our proxy is not believed.
    status, body = call(app, f"{CONSOLE}/api/tickets/{ticket}", token, peer="10.0.0.7",
                        forwarded="8.8.8.8")
    assert status == 200 and body["customer"]["id"] == "C001"
    (entry,) = log(action="view_conversation")
    assert (entry["staff"], entry["role"], entry["address"]) == ("ann", AGENT, "10.0.0.7")
    assert entry["target"] == f"工单 #{ticket} {body['ticket']['number']}" and entry["at"]


def test_every_change_to_a_ticket_is_recorded(app, ticket, monkeypatch):
    from bot.console import tickets

    async def delivered(*_: Any, **__: Any) -> bool:
        return True

    monkeypatch.setattr(tickets, "say", delivered)
    token = login(app, "ann")
    assert call(app, f"{CONSOLE}/api/tickets/{ticket}/note", token, "POST",
                {"text": "客户已来电"})[0] == 200
    assert call(app, f"{CONSOLE}/api/tickets/{ticket}/reply", token, "POST",
                {"text": "您好，我来处理"})[0] == 200
    assert call(app, f"{CONSOLE}/api/tickets/{ticket}/close", token, "POST")[0] == 200
    actions = [e["action"] for e in log(staff="ann")]
    assert actions[:3] == ["close", "reply", "note"] and "login" in actions
    assert {e["target"] for e in log(staff="ann") if e["action"] != "login"} == {
        f"工单 #{ticket}"}


def test_reports_and_exports_are_recorded_for_managers(app, db):
    token = login(app, "boss")
    assert call(app, f"{CONSOLE}/api/reports/tickets_by_kind.csv?since=2026-11-01", token)[0] \
        == 200
    (entry,) = log(action="export_report")
    assert entry["staff"] == "boss" and entry["target"].startswith("tickets_by_kind.csv")


def test_failed_logins_are_recorded_with_the_name_tried(app):
    status, _ = call(app, f"{CONSOLE}/api/login", method="POST",
                     body={"username": "mallory", "password": "guess"}, peer="10.9.9.9")
    assert status == 401
    (entry,) = log(action="login_failed")
    assert (entry["staff"], entry["address"]) == ("mallory", "10.9.9.9")


def test_a_view_that_cannot_be_recorded_is_not_shown(app, ticket, monkeypatch, caplog):
    token = login(app, "ann")

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("audit database down")

    monkeypatch.setattr(audit, "record", broken)
    status, body = call(app, f"{CONSOLE}/api/tickets/{ticket}", token)
    assert status == 503 and "customer" not in body
    assert "服务暂时不可用" in body["error"]


def test_unknown_actions_and_bad_pages_are_refused(db):
    with pytest.raises(ValueError):
        audit.record("ann", AGENT, "read_minds")
    for bad in ({"limit": 0}, {"limit": 201}, {"offset": -1}):
        with pytest.raises(ValueError):
            audit.listing(**bad)


def test_the_audit_page_is_served_and_linked_for_managers(app):
    status, body = call(app, f"{CONSOLE}/audit")
    assert status == 200 and b"/static/audit.js" in body and b"/static/staff_api.js" in body


def test_guessing_a_password_locks_the_account_with_429(app):
    for _ in range(5):
        status, _ = call(app, f"{CONSOLE}/api/login", method="POST",
                         body={"username": "ann", "password": "guess"}, peer="10.1.1.1")
        assert status == 401
    status, body = call(app, f"{CONSOLE}/api/login", method="POST",
                        body={"username": "ann", "password": PASSWORD}, peer="10.1.1.2")
    assert status == 429 and "分钟后再试" in body["error"] and "token" not in body
    assert [e["action"] for e in log(staff="ann")][:2] == ["login_locked", "login_failed"]


def test_logout_ends_the_token_on_the_server(app):
    token = login(app, "ann")
    assert call(app, f"{CONSOLE}/api/me", token)[0] == 200
    assert call(app, f"{CONSOLE}/api/logout", token, method="POST")[0] == 200
    status, body = call(app, f"{CONSOLE}/api/me", token)
    assert status == 401 and "退出" in body["error"]
    assert log(action="logout")[0]["staff"] == "ann"


def test_trainers_make_invitation_codes_and_it_is_recorded(app):
    from shop.practice import invitations

    token = login(app, "ann")
    status, body = call(app, f"{CONSOLE}/api/practice/invitations", token, "POST",
                        {"trainee": "小林"})
    assert status == 200 and invitations.trainee_of(body["code"]) == "小林"
    assert body["payload"] == f'/practice{{"invitation": "{body["code"]}"}}'
    assert log(action="invite_trainee")[0]["target"] == "学员 小林"
    assert call(app, f"{CONSOLE}/api/practice/invitations", token, "POST",
                {"trainee": ""})[0] == 400
    assert call(app, f"{CONSOLE}/api/practice/invitations", method="POST",
                body={"trainee": "小林"})[0] == 401


@pytest.fixture
def erasable(db, tmp_path, monkeypatch) -> str:
    """The console's erasure works on a tracker store and a project folder in tmp_path."""
    from shop.erasure import customer as erasure
    monkeypatch.setattr(erasure, "settings", replace(
        settings, tracker_store_url=f"sqlite:///{tmp_path / 'none.db'}", export_dirs=(tmp_path,)))
    return "C002"


def test_only_a_manager_erases_a_customer_and_only_with_the_id_typed_again(app, erasable):
    path = f"{CONSOLE}/api/customers/{erasable}/erase"
    assert call(app, path, login(app, "ann"), "POST", {"confirm": erasable})[0] == 403
    boss = login(app, "boss")
    assert call(app, path, boss, "POST", {})[0] == 400
    assert call(app, path, boss, "POST", {"confirm": "C003"})[0] == 400
    assert call(app, f"{CONSOLE}/api/customers/C999/erase", boss, "POST",
                {"confirm": "C999"})[0] == 404
    with session_scope() as session:
        assert repository.erasure.find_customer(session=session, customer_id=erasable).phone \
            == "13900139002"  # nothing changed by the refused calls
    status, body = call(app, path, boss, "POST", {"confirm": erasable}, peer="10.0.0.9")
    assert status == 200 and body["who"] == f"客户 {erasable}"
    with session_scope() as session:
        person = repository.erasure.find_customer(session=session, customer_id=erasable)
        assert "张建华" not in person.name and person.phone != "13900139002"
    entries = audit.listing(action="erase_personal_data")["entries"]
    assert [(e["staff"], e["target"], e["address"]) for e in entries][:1] == [
        ("boss", f"客户 {erasable}", "10.0.0.9")]
    # Agents do not learn whether a customer exists either.
    assert call(app, f"{CONSOLE}/api/customers/C999/erase", login(app, "ann"), "POST",
                {"confirm": "C999"})[0] == 403


def test_a_trainee_is_erased_from_the_console_by_a_manager(app, erasable):
    with session_scope() as session:
        repository.practice.start_practice(session=session, trainee="周学员", scenario_id="s",
                                           objection_type="price")
    path = f"{CONSOLE}/api/trainees/erase"
    body = {"trainee": "周学员", "confirm": "周学员"}
    assert call(app, path, login(app, "ann"), "POST", body)[0] == 403
    boss = login(app, "boss")
    assert call(app, path, boss, "POST", {"trainee": "周学员"})[0] == 400
    assert call(app, path, boss, "POST", body)[0] == 200
    assert call(app, path, boss, "POST", body)[0] == 404
    with session_scope() as session:
        assert "周学员" not in {d.trainee for d in repository.practice.practice_history(
            session=session)}
