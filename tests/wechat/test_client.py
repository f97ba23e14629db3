"""Access tokens and the send API: caching, refresh, retries, final failures."""

from __future__ import annotations

import asyncio
from typing import List

import pytest

from bot.channels.wechat.client import ApiError, OfficialAccountClient
from wechat.conftest import api_settings

SEND = "/cgi-bin/message/custom/send"
TOKEN = "/cgi-bin/token"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sleeps() -> List[float]:
    return []


@pytest.fixture
def client(fake_api, clock, sleeps) -> OfficialAccountClient:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return OfficialAccountClient(api_settings(fake_api), "wxapp", "app-secret", clock=clock,
                                 sleep=sleep)


def send(client: OfficialAccountClient, text: str = "您好") -> None:
    asyncio.run(client.send_text("oUser", text))


def test_token_is_fetched_once_and_reused(client, fake_api):
    send(client)
    send(client)
    assert fake_api.count(TOKEN) == 1 and fake_api.texts() == ["您好", "您好"]
    [token_call] = [c for c in fake_api.calls if c.path == TOKEN]
    assert token_call.query == {"grant_type": "client_credential", "appid": "wxapp",
                                "secret": "app-secret"}


def test_token_is_refreshed_before_it_expires(client, fake_api, clock):
    send(client)
    clock.now += 7200 - 300 - 1  # still inside the safety margin
    send(client)
    assert fake_api.count(TOKEN) == 1
    clock.now += 2  # within 5 minutes of the platform's expiry: refresh first
    send(client)
    assert fake_api.count(TOKEN) == 2
    tokens = [c.query["access_token"] for c in fake_api.calls if c.path == SEND]
    assert tokens == ["ACCESS-1", "ACCESS-1", "ACCESS-2"]


def test_token_expired_on_the_platform_is_refreshed_and_the_send_retried(client, fake_api):
    send(client, "第一条")
    fake_api.expire_tokens()  # e.g. the secret was reset, or another server took a token
    send(client, "第二条")
    assert fake_api.texts() == ["第一条", "第二条"]
    assert fake_api.count(TOKEN) == 2


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param((200, {"errcode": -1, "errmsg": "system error"}), id="errcode-minus-1"),
        pytest.param((200, {"errcode": 42001, "errmsg": "access_token expired"}),
                     id="errcode-42001"),
        pytest.param((500, {}), id="http-500"),
        pytest.param((502, {"html": "bad gateway"}), id="http-502"),
    ],
)
def test_failed_send_is_retried_with_backoff(client, fake_api, sleeps, failure):
    fake_api.plan(SEND, failure, failure)
    send(client, "重要通知")
    assert fake_api.texts() == ["重要通知"]
    assert fake_api.count(SEND) == 3
    assert sleeps == [0.01, 0.02]


def test_send_gives_up_after_the_last_attempt(client, fake_api, sleeps):
    fake_api.plan(SEND, *[(500, {})] * 3)
    with pytest.raises(ApiError, match="gave up after 3 attempts"):
        send(client)
    assert fake_api.count(SEND) == 3 and fake_api.texts() == []


def test_final_errors_are_not_retried(client, fake_api, sleeps):
    fake_api.plan(SEND, (200, {"errcode": 45015, "errmsg": "response out of time limit"}))
    with pytest.raises(ApiError) as error:
        send(client)
    assert error.value.errcode == 45015
    assert fake_api.count(SEND) == 1 and sleeps == []


def test_token_endpoint_failure_is_retried(client, fake_api):
    fake_api.plan(TOKEN, (500, {}), (200, {"errcode": -1, "errmsg": "busy"}))
    send(client)
    assert fake_api.count(TOKEN) == 3 and fake_api.texts() == ["您好"]


def test_wrong_secret_is_a_final_error(client, fake_api):
    fake_api.plan(TOKEN, (200, {"errcode": 40125, "errmsg": "invalid appsecret"}))
    with pytest.raises(ApiError, match="no access token"):
        send(client)
    assert fake_api.count(SEND) == 0


def test_unreachable_platform_fails_after_retries(clock, sleeps):
    from dataclasses import replace

    from bot.channels.wechat.settings import ApiSettings
    from wechat.simulator import free_port

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    api = replace(ApiSettings(f"http://127.0.0.1:{free_port()}"), backoff_seconds=0.01,
                  timeout_seconds=2)
    client = OfficialAccountClient(api, "wxapp", "secret", clock=clock, sleep=sleep)
    with pytest.raises(ApiError, match="ClientConnectorError"):
        send(client)
    assert len(sleeps) == 2


def test_the_secret_and_token_never_reach_the_logs(client, fake_api, caplog):
    fake_api.plan(SEND, (500, {}))
    with caplog.at_level("DEBUG"):
        send(client)
    assert "app-secret" not in caplog.text and "ACCESS-1" not in caplog.text
