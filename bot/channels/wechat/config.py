"""Settings of the WeChat channels, read once from the environment.

Secrets (app secret, token, EncodingAESKey) come only from the environment; the
defaults point at Tencent's production APIs. A channel without its token is
"not configured": it stays registered but answers 503 and logs why.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional


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


@dataclass(frozen=True)
class OfficialAccountSettings:
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

    @classmethod
    def from_env(
        cls, env: Optional[Mapping[str, str]] = None, **overrides: Any
    ) -> "OfficialAccountSettings":
        env = os.environ if env is None else env
        values: Dict[str, Any] = dict(
            app_id=env.get("WECHAT_APP_ID", ""),
            app_secret=env.get("WECHAT_APP_SECRET", ""),
            token=env.get("WECHAT_TOKEN", ""),
            encoding_aes_key=env.get("WECHAT_ENCODING_AES_KEY", ""),
            api=_api(env, "WECHAT", "https://api.weixin.qq.com"),
            reply_window_seconds=_float(env, "WECHAT_REPLY_WINDOW_SECONDS", 4.5),
            max_age_seconds=_float(env, "WECHAT_MAX_AGE_SECONDS", 600.0),
        )
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True)
class WeComSettings:
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

    @classmethod
    def from_env(
        cls, env: Optional[Mapping[str, str]] = None, **overrides: Any
    ) -> "WeComSettings":
        env = os.environ if env is None else env
        values: Dict[str, Any] = dict(
            corp_id=env.get("WECOM_CORP_ID", ""),
            secret=env.get("WECOM_SECRET", ""),
            token=env.get("WECOM_TOKEN", ""),
            encoding_aes_key=env.get("WECOM_ENCODING_AES_KEY", ""),
            api=_api(env, "WECOM", "https://qyapi.weixin.qq.com"),
            servicer_userid=env.get("WECOM_SERVICER_USERID", ""),
            max_message_age_seconds=_float(env, "WECOM_MAX_MESSAGE_AGE_SECONDS", 600.0),
        )
        values.update(overrides)
        return cls(**values)
