"""Settings of the WeChat channels, read once from the environment.

Secrets (app secret, token, EncodingAESKey) come only from the environment; the
defaults point at Tencent's production APIs. A channel without its token is
"not configured": it stays registered but answers 503 and logs why.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, Mapping, Optional, Type, TypeVar

T = TypeVar("T", bound="EnvSettings")


@dataclass(frozen=True)
class ApiSettings:
    """How a channel calls its platform's HTTP API."""

    base_url: str
    # Attempts per call (the first one included) and the first backoff delay (s),
    # doubled after each failed attempt.
    attempts: int = 3
    backoff_seconds: float = 0.5
    timeout_seconds: float = 10.0
    # An access token is refreshed this long before the platform says it expires.
    token_margin_seconds: float = 300.0


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name)
    return float(value) if value not in (None, "") else default


def _api(env: Mapping[str, str], prefix: str, default_base: str) -> ApiSettings:
    return ApiSettings(
        base_url=(env.get(f"{prefix}_API_BASE") or default_base).rstrip("/"),
        attempts=max(1, int(_float(env, f"{prefix}_API_ATTEMPTS", 3))),
        backoff_seconds=_float(env, f"{prefix}_API_BACKOFF_SECONDS", 0.5),
        timeout_seconds=_float(env, f"{prefix}_API_TIMEOUT_SECONDS", 10.0),
    )


class EnvSettings:
    """One `from_env` for every channel: each class names its variables."""

    PREFIX: ClassVar[str]  # <PREFIX>_API_BASE, _API_ATTEMPTS, … configure its API calls
    API_BASE: ClassVar[str]
    TEXT_VARS: ClassVar[Dict[str, str]]  # field → environment variable
    FLOAT_VARS: ClassVar[Dict[str, str]]

    @classmethod
    def from_env(cls: Type[T], env: Optional[Mapping[str, str]] = None, **overrides: Any) -> T:
        env = os.environ if env is None else env
        defaults = cls()
        values: Dict[str, Any] = {"api": _api(env, cls.PREFIX, cls.API_BASE)}
        values.update({name: env.get(var, "") for name, var in cls.TEXT_VARS.items()})
        values.update({name: _float(env, var, getattr(defaults, name))
                       for name, var in cls.FLOAT_VARS.items()})
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True)
class OfficialAccountSettings(EnvSettings):
    """The Official Account (公众号) channel."""

    app_id: str = ""
    app_secret: str = ""
    token: str = ""
    # Empty: plain mode only; set: "safe mode" (encrypted) messages are accepted too.
    encoding_aes_key: str = ""
    api: ApiSettings = field(default_factory=lambda: ApiSettings("https://api.weixin.qq.com"))
    # WeChat waits 5 s for a passive reply; later answers go through the API.
    reply_window_seconds: float = 4.5
    # Duplicate deliveries (WeChat retries 3 times within 15 s) are remembered this long.
    dedup_seconds: float = 300.0
    # A signed callback older (or further in the future) than this is refused: the
    # timestamp is part of the signature, so a captured request cannot be replayed
    # once its MsgId claim (kept a day) is gone. Allows for clock skew.
    max_age_seconds: float = 600.0

    @property
    def configured(self) -> bool:
        return bool(self.token)

    PREFIX: ClassVar[str] = "WECHAT"
    API_BASE: ClassVar[str] = "https://api.weixin.qq.com"
    TEXT_VARS: ClassVar[Dict[str, str]] = {
        "app_id": "WECHAT_APP_ID", "app_secret": "WECHAT_APP_SECRET",
        "token": "WECHAT_TOKEN", "encoding_aes_key": "WECHAT_ENCODING_AES_KEY"}
    FLOAT_VARS: ClassVar[Dict[str, str]] = {
        "reply_window_seconds": "WECHAT_REPLY_WINDOW_SECONDS",
        "max_age_seconds": "WECHAT_MAX_AGE_SECONDS"}


@dataclass(frozen=True)
class WeComSettings(EnvSettings):
    """The WeCom customer service (企业微信 · 微信客服) channel."""

    corp_id: str = ""
    # The secret of the 微信客服 application (its access token calls the kf APIs).
    secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    api: ApiSettings = field(default_factory=lambda: ApiSettings("https://qyapi.weixin.qq.com"))
    # When set, a conversation the assistant hands off is passed to this WeCom
    # servicer (service_state 3); otherwise our staff console takes it.
    servicer_userid: str = ""
    # Messages older than this are not answered (the first sync without a cursor
    # returns up to three days of history).
    max_message_age_seconds: float = 600.0

    @property
    def configured(self) -> bool:
        return bool(self.token and self.encoding_aes_key and self.corp_id)

    PREFIX: ClassVar[str] = "WECOM"
    API_BASE: ClassVar[str] = "https://qyapi.weixin.qq.com"
    TEXT_VARS: ClassVar[Dict[str, str]] = {
        "corp_id": "WECOM_CORP_ID", "secret": "WECOM_SECRET", "token": "WECOM_TOKEN",
        "encoding_aes_key": "WECOM_ENCODING_AES_KEY",
        "servicer_userid": "WECOM_SERVICER_USERID"}
    FLOAT_VARS: ClassVar[Dict[str, str]] = {
        "max_message_age_seconds": "WECOM_MAX_MESSAGE_AGE_SECONDS"}
