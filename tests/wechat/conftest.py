"""Fixtures of the WeChat channel tests: the fake platform API and channel servers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Iterator, List

import pytest

from bot import live
from bot.channels.wechat.official_account import OfficialAccountInput
from bot.channels.wechat.settings import ApiSettings, OfficialAccountSettings
from wechat.simulator import (
    AES_KEY,
    APP_ID,
    TOKEN,
    Assistant,
    ChannelServer,
    FakeApi,
    OfficialAccountPlatform,
)


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    api = FakeApi().start()
    yield api
    api.stop()


@pytest.fixture(autouse=True)
def _outbound_registry() -> Iterator[None]:
    """Channels register outbound senders in bot.live; each test starts clean."""
    saved = dict(live._outbound)
    yield
    live._outbound.clear()
    live._outbound.update(saved)


def api_settings(api: FakeApi, **overrides: Any) -> ApiSettings:
    # Fast retries: the backoff is exercised, not waited for.
    return replace(ApiSettings(api.base_url, backoff_seconds=0.01, timeout_seconds=5),
                   **overrides)


def oa_settings(api: FakeApi, **overrides: Any) -> OfficialAccountSettings:
    values = dict(app_id=APP_ID, app_secret="sim-secret", token=TOKEN,
                  encoding_aes_key=AES_KEY, api=api_settings(api))
    values.update(overrides)
    return OfficialAccountSettings(**values)


@pytest.fixture
def serve() -> Iterator[Callable[..., ChannelServer]]:
    """Starts channel servers for a test and stops them afterwards."""
    servers: List[ChannelServer] = []

    def start(channels: List[Any], assistant: Any, agent: Any = None) -> ChannelServer:
        server = ChannelServer(channels, assistant, agent).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


class OfficialAccount:
    """A running Official Account channel with its simulator and stub assistant."""

    def __init__(self, channel: OfficialAccountInput, server: ChannelServer,
                 assistant: Assistant) -> None:
        self.channel = channel
        self.server = server
        self.assistant = assistant
        self.platform = OfficialAccountPlatform(server.url("/webhooks/wechat/webhook"))

    def settle(self) -> None:
        """Waits until the channel's background sends are done."""
        self.server.run(self.channel.tasks.wait())


@pytest.fixture
def official_account(
    fake_api: FakeApi, serve: Callable[..., ChannelServer]
) -> Callable[..., OfficialAccount]:
    def start(assistant: Assistant = None, agent: Any = None, **overrides: Any) -> OfficialAccount:
        assistant = assistant or Assistant()
        channel = OfficialAccountInput(oa_settings(fake_api, **overrides))
        return OfficialAccount(channel, serve([channel], assistant, agent), assistant)

    return start
