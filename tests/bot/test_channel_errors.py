"""Request checks and the exception handler of last resort (bot/channels/errors.py).

The same code runs in the real server in tests/e2e/test_fuzz.py and test_errors.py;
here are the decisions, one row each.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any, Optional

import pytest
from sanic.exceptions import NotFound

from bot.channels import errors

EXECUTE = "conversations/<conversation_id:path>/execute"
MESSAGES = "conversations/<conversation_id:path>/messages"
EVENTS = "conversations/<conversation_id:path>/tracker/events"


@pytest.mark.parametrize(
    "text, clean",
    [("你好", "你好"), ("a\x00b\x1b[0m", "ab[0m"), ("行1\n行2\t", "行1\n行2\t"),
     ("\ud800x\udfff", "\ufffdx\ufffd"), ("😀", "😀"), (None, None), (5, 5)],
)
def test_clean_text(text: Any, clean: Any) -> None:
    assert errors.clean_text(text) == clean


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"sender": "u1", "message": "你好"}, None),
        ({"sender": "u1", "message": None}, None),  # the guard prompts for text
        ({"sender": "u1", "message": "hi", "metadata": {"a": 1}, "input_channel": "rest"}, None),
        ([1, 2], errors.NOT_JSON_OBJECT),
        (None, errors.NOT_JSON_OBJECT),
        ("text", errors.NOT_JSON_OBJECT),
        ({"message": "hi"}, "缺少会话编号（sender）"),  # not everyone in "default"
        ({"sender": " ", "message": "hi"}, "缺少会话编号（sender）"),
        ({"sender": 7, "message": "hi"}, "缺少会话编号（sender）"),
        ({"sender": "x" * 256, "message": "hi"}, "会话编号格式不正确"),
        ({"sender": "a\x00b", "message": "hi"}, "会话编号格式不正确"),
        ({"sender": "u1", "message": {"text": "hi"}}, "消息内容需为文字"),
        ({"sender": "u1", "message": True}, "消息内容需为文字"),
        ({"sender": "u1", "message": "hi", "metadata": "x"}, "metadata 需为 JSON 对象"),
        ({"sender": "u1", "message": "hi", "input_channel": 5}, "input_channel 需为文字"),
    ],
)
def test_rest_problem(body: Any, problem: Optional[str]) -> None:
    assert errors.rest_problem(body) == problem


def test_rest_body_is_cleaned_in_place() -> None:
    body = {"sender": "u1", "message": 8001}
    assert errors.rest_problem(body) is None and body["message"] == "8001"
    body = {"sender": "u1", "message": "\ud800查订单\x00"}
    assert errors.rest_problem(body) is None and body["message"] == "\ufffd查订单"


ACTIONS = ["action_listen", "utter_greet"]


@pytest.mark.parametrize(
    "route, body, ok",
    [
        ("model/parse", {"text": "你好"}, True),
        ("model/parse", {"text": 5}, False),
        ("model/parse", [], False),
        ("model/parse", {"text": "hi", "message_id": {}}, False),
        (MESSAGES, {"text": "hi", "sender": "user"}, True),
        (MESSAGES, {"text": "hi", "sender": "user", "parse_data": "x"}, False),
        # A given parse replaces the NLU: Rasa then needs its intent (fuzzing: a 500).
        (MESSAGES, {"text": "", "sender": "user", "parse_data": {"": None}}, False),
        (MESSAGES, {"text": "hi", "sender": "user", "parse_data": {"intent": {}}}, False),
        (MESSAGES, {"text": "hi", "sender": "user",
                    "parse_data": {"intent": {"name": "greet"}, "entities": "x"}}, False),
        (MESSAGES, {"text": "hi", "sender": "user",
                    "parse_data": {"intent": {"name": "greet"}, "entities": []}}, True),
        (MESSAGES, {"text": "hi", "sender": "user",
                    "parse_data": {"intent": {"name": "greet", "confidence": 1.0}}}, True),
        (MESSAGES, {"sender": "user"}, False),
        (EXECUTE, {"name": "utter_greet"}, True),
        (EXECUTE, {"name": "utter_greet", "policy": "p", "confidence": 0.5}, True),
        (EXECUTE, {"name": "nope"}, False),
        (EXECUTE, {"name": 5}, False),
        (EXECUTE, {"name": "utter_greet", "confidence": "x"}, False),
        (EVENTS, [], False),
        (EVENTS, [{"event": "x"}], True),  # Rasa's schema check answers 400 itself
        ("status", None, True),  # not a route we check
    ],
)
def test_api_problem(route: str, body: Any, ok: bool) -> None:
    assert (errors.api_problem(route, body, ACTIONS) is None) is ok


def test_api_problem_without_a_domain_does_not_check_action_names() -> None:
    assert errors.api_problem(EXECUTE, {"name": "anything"}, None) is None


def fake_request(path: str, route: str, body: Any = None, raw: bool = False,
                 conversation_id: Optional[str] = None, method: str = "POST",
                 headers: Optional[dict] = None, content: bytes = b"") -> Any:
    class Request(SimpleNamespace):
        @property
        def json(self) -> Any:
            if raw:
                raise ValueError("not JSON")
            return body

    agent = SimpleNamespace(domain=SimpleNamespace(action_names_or_texts=ACTIONS))
    return Request(method=method, path=path, route=SimpleNamespace(path=route),
                   headers=headers or {}, body=content,
                   match_info={"conversation_id": conversation_id} if conversation_id else {},
                   app=SimpleNamespace(ctx=SimpleNamespace(agent=agent)))


def run(request: Any) -> Any:
    return asyncio.run(errors.check_request(request))


def test_middleware_refuses_a_bad_rest_body_in_chinese() -> None:
    reply = run(fake_request("/webhooks/rest/webhook", "webhooks/rest/webhook", raw=True))
    assert reply.status == 400
    assert json.loads(reply.body) == {"error": errors.NOT_JSON_OBJECT}
    good = {"sender": "u", "message": "hi"}
    assert run(fake_request("/webhooks/rest/webhook", "webhooks/rest/webhook", good)) is None


def test_middleware_refuses_api_bodies_in_rasas_shape() -> None:
    reply = run(fake_request("/conversations/a/execute", EXECUTE, {"name": "nope"},
                             conversation_id="a"))
    assert reply.status == 400
    assert json.loads(reply.body)["reason"] == "BadRequest"


def test_middleware_refuses_overlong_conversation_ids_on_any_method() -> None:
    route = "conversations/<conversation_id:path>/tracker"
    reply = run(fake_request("/conversations/x/tracker", route, method="GET",
                             conversation_id="x" * 256))
    assert reply.status == 400
    assert run(fake_request("/conversations/x/tracker", route, method="GET",
                            conversation_id="x" * 255)) is None


def test_middleware_never_breaks_a_request() -> None:
    broken = SimpleNamespace(method="POST", path="/x")  # no route, no app: the check fails
    assert run(broken) is None


def test_unexpected_errors_become_a_polite_json_500(caplog) -> None:
    request = SimpleNamespace(method="GET", path="/webhooks/chat/static/x")
    try:
        raise RuntimeError("disk on fire at /srv/secret/path")
    except RuntimeError as error:
        reply = errors.on_error(request, error)
    assert reply.status == 500
    assert json.loads(reply.body) == {"error": errors.UNEXPECTED}
    assert b"disk on fire" not in reply.body and b"Traceback" not in reply.body
    assert "Unhandled error on GET /webhooks/chat/static/x" in caplog.text
    assert "disk on fire" in caplog.text  # the trace goes to the log


def test_sanic_client_errors_keep_their_default_answer() -> None:
    default = SimpleNamespace(default=lambda request, exception: ("default", exception))
    request = SimpleNamespace(method="GET", path="/nope",
                              app=SimpleNamespace(error_handler=default))
    missing = NotFound("Requested URL /nope not found")
    assert errors.on_error(request, missing) == ("default", missing)


def test_install_is_idempotent() -> None:
    added = []
    app = SimpleNamespace(
        ctx=SimpleNamespace(),
        register_middleware=lambda fn, kind: added.append((fn, kind)),
        error_handler=SimpleNamespace(add=lambda exc, fn: added.append((exc, fn))),
    )
    errors.install(app)
    errors.install(app)
    assert added == [(errors.check_request, "request"), (Exception, errors.on_error)]


@pytest.mark.parametrize("headers, content", [
    ({"content-length": str(64 * 1024 + 1)}, b""),
    ({}, b"x" * (64 * 1024 + 1)),            # no length given: the body read counts
])
def test_middleware_refuses_bodies_over_64_kb_on_any_route(headers, content):
    for route in ("webhooks/rest/webhook", "webhooks/console/api/login", "model/parse"):
        answer = run(fake_request("/" + route, route, body={"sender": "a", "message": "b"},
                                  headers=headers, content=content))
        assert answer.status == 413
        assert json.loads(answer.body) == {"error": "请求内容过大，请缩短后再发送"}


def test_middleware_lets_a_body_of_exactly_64_kb_through():
    answer = run(fake_request("/webhooks/rest/webhook", "webhooks/rest/webhook",
                              body={"sender": "a", "message": "b"},
                              headers={"content-length": str(64 * 1024)}))
    assert answer is None



def test_the_reserved_prefixes_are_the_wechat_channels_own():
    from bot.channels.errors import OTHER_CHANNEL_PREFIXES
    from bot.channels.wechat import official_account, wecom

    assert set(OTHER_CHANNEL_PREFIXES) == {official_account.SENDER_PREFIX, wecom.SENDER_PREFIX}


def test_rest_in_production_is_off_until_it_has_a_token(monkeypatch):
    import asyncio
    from dataclasses import replace
    from types import SimpleNamespace

    from bot.channels import rest
    from shop.config import settings

    def request(header: str = "") -> SimpleNamespace:
        return SimpleNamespace(method="POST", path="/webhooks/rest/webhook",
                               headers={"Authorization": header} if header else {})

    def check(**config) -> object:
        monkeypatch.setattr(rest, "settings", replace(settings, **config))
        answer = asyncio.run(rest.require_token(request()))
        return answer.status if answer is not None else None

    assert check(app_env="development", rest_token="") is None  # development: open
    assert check(app_env="production", rest_token="") == 403
    assert check(app_env="production", rest_token="t" * 32) == 401
    monkeypatch.setattr(rest, "settings", replace(settings, app_env="production",
                                                  rest_token="t" * 32))
    assert asyncio.run(rest.require_token(request("Bearer " + "t" * 32))) is None
