"""HTTP clients of the WeChat platforms: access tokens, retries, the send APIs.

The access token is fetched on first use, cached, and refreshed shortly before
the platform says it expires, or at once when a call reports it invalid
(40001 / 40014 / 42001). Failed calls (network, HTTP 5xx, errcode -1 "system
busy", an invalid token) are retried with exponential backoff; other errcodes are
final (e.g. 45015: the customer has not written within 48 hours). Tokens and
secrets never appear in logs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

import aiohttp

from bot.channels.wechat.settings import ApiSettings

logger = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
RETRYABLE_ERRORS = frozenset({-1})


class ApiError(RuntimeError):
    """A platform call that failed for good."""

    def __init__(self, message: str, errcode: Optional[int] = None) -> None:
        super().__init__(message)
        self.errcode = errcode


class _Retry(Exception):
    """A failure worth another attempt."""


class PlatformClient:
    """Token cache and retrying JSON calls; subclasses say how to get a token."""

    name = "wechat"

    def __init__(
        self,
        api: ApiSettings,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.api = api
        self._clock = clock
        self._sleep = sleep
        self._token: Optional[str] = None
        self._expires_at = 0.0
        self._lock: Optional[asyncio.Lock] = None

    # ------------------------------------------------------------------ tokens

    def _token_request(self) -> Tuple[str, Dict[str, str]]:
        """Path and query of the token endpoint."""
        raise NotImplementedError

    async def access_token(self) -> str:
        """A valid access token (cached; refreshed before it expires)."""
        if self._token and self._clock() < self._expires_at:
            return self._token
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one fetch, however many callers wait
            if self._token and self._clock() < self._expires_at:
                return self._token
            path, query = self._token_request()
            status, data = await self._http("GET", path, query)
            if status >= 500:
                raise _Retry(f"token endpoint answered HTTP {status}")
            errcode = int(data.get("errcode") or 0)
            if errcode in RETRYABLE_ERRORS:
                raise _Retry(f"token endpoint busy ({errcode})")
            if status >= 400 or errcode or not data.get("access_token"):
                raise ApiError(
                    f"{self.name}: no access token (HTTP {status}, errcode {errcode}, "
                    f"{data.get('errmsg', '')})",
                    errcode,
                )
            lifetime = float(data.get("expires_in") or 7200)
            self._token = str(data["access_token"])
            self._expires_at = self._clock() + max(lifetime - self.api.token_margin_seconds,
                                                   lifetime / 2)
            logger.info("%s: new access token, valid for %.0f s", self.name, lifetime)
            return self._token

    def invalidate_token(self, token: Optional[str] = None) -> None:
        """Forgets the cached token (only if it is still `token`, when given)."""
        if token is None or token == self._token:
            self._token, self._expires_at = None, 0.0

    # ------------------------------------------------------------------- calls

    async def _http(
        self, method: str, path: str, query: Dict[str, str], payload: Optional[Dict] = None
    ) -> Tuple[int, Dict[str, Any]]:
        timeout = aiohttp.ClientTimeout(total=self.api.timeout_seconds)
        # UTF-8 as is: the platform shows \\u escapes literally in some APIs.
        body = None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"} if body else {}
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.request(
                    method, self.api.base_url + path, params=query, data=body, headers=headers
                ) as response:
                    text = await response.text(encoding="utf-8", errors="replace")
                    try:
                        data = json.loads(text) if text.strip() else {}
                    except ValueError:
                        data = {}
                    return response.status, data if isinstance(data, dict) else {}
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise _Retry(f"{type(error).__name__}: {error}") from error

    async def call(self, path: str, payload: Dict[str, Any]) -> Dict[str, Any]:
        """POSTs `payload` to an API path with the access token; retries; raises ApiError."""
        delay = self.api.backoff_seconds
        last = "no attempt"
        for attempt in range(1, self.api.attempts + 1):
            try:
                token = await self.access_token()
                status, data = await self._http("POST", path, {"access_token": token}, payload)
                errcode = int(data.get("errcode") or 0)
                if status >= 500:
                    raise _Retry(f"HTTP {status}")
                if errcode in TOKEN_ERRORS:
                    self.invalidate_token(token)
                    raise _Retry(f"access token rejected ({errcode})")
                if errcode in RETRYABLE_ERRORS:
                    raise _Retry(f"platform busy ({errcode})")
                if status >= 400 or errcode:
                    raise ApiError(
                        f"{self.name} {path}: HTTP {status}, errcode {errcode} "
                        f"{data.get('errmsg', '')}",
                        errcode,
                    )
                return data
            except _Retry as reason:
                last = str(reason)
                logger.warning("%s %s: attempt %d/%d failed: %s", self.name, path, attempt,
                               self.api.attempts, last)
            if attempt < self.api.attempts:
                await self._sleep(delay)
                delay *= 2
        raise ApiError(f"{self.name} {path}: gave up after {self.api.attempts} attempts ({last})")


class OfficialAccountClient(PlatformClient):
    """The Official Account API: access token and customer-service messages."""

    name = "wechat"

    def __init__(self, api: ApiSettings, app_id: str, app_secret: str, **kwargs: Any) -> None:
        super().__init__(api, **kwargs)
        self.app_id = app_id
        self._secret = app_secret

    def _token_request(self) -> Tuple[str, Dict[str, str]]:
        return "/cgi-bin/token", {
            "grant_type": "client_credential", "appid": self.app_id, "secret": self._secret,
        }

    async def send_text(self, openid: str, content: str) -> None:
        """A customer-service text message (allowed within 48 h of the user's last message)."""
        await self.call("/cgi-bin/message/custom/send", {
            "touser": openid, "msgtype": "text", "text": {"content": content},
        })


class WeComClient(PlatformClient):
    """The WeCom 微信客服 API: sync_msg, send_msg and the session state."""

    name = "wecom"

    def __init__(self, api: ApiSettings, corp_id: str, secret: str, **kwargs: Any) -> None:
        super().__init__(api, **kwargs)
        self.corp_id = corp_id
        self._secret = secret

    def _token_request(self) -> Tuple[str, Dict[str, str]]:
        return "/cgi-bin/gettoken", {"corpid": self.corp_id, "corpsecret": self._secret}

    async def sync_messages(
        self, open_kfid: str, cursor: Optional[str], token: Optional[str], limit: int = 1000
    ) -> Dict[str, Any]:
        """One page of new messages: {next_cursor, has_more, msg_list}."""
        payload: Dict[str, Any] = {"open_kfid": open_kfid, "limit": limit, "voice_format": 0}
        if cursor:
            payload["cursor"] = cursor
        if token:
            payload["token"] = token
        return await self.call("/cgi-bin/kf/sync_msg", payload)

    async def send_text(self, open_kfid: str, external_userid: str, content: str) -> None:
        await self.call("/cgi-bin/kf/send_msg", {
            "touser": external_userid, "open_kfid": open_kfid, "msgtype": "text",
            "text": {"content": content},
        })

    async def send_welcome(self, code: str, content: str) -> None:
        """The welcome of an enter_session event (its welcome_code lasts 20 s)."""
        await self.call("/cgi-bin/kf/send_msg_on_event", {
            "code": code, "msgtype": "text", "text": {"content": content},
        })

    async def transfer_to_servicer(
        self, open_kfid: str, external_userid: str, servicer_userid: str
    ) -> None:
        """Moves the session to a human servicer (service_state 3)."""
        await self.call("/cgi-bin/kf/service_state/trans", {
            "open_kfid": open_kfid, "external_userid": external_userid,
            "service_state": 3, "servicer_userid": servicer_userid,
        })
