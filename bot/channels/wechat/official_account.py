"""The WeChat Official Account (公众号) channel: /webhooks/wechat/webhook.

* GET: URL verification (sha1 of token, timestamp, nonce) echoes `echostr`.
* POST: messages in plain or safe mode (encrypted; msg_signature and app id checked).
  Text goes to the assistant as conversation "wechat:<openid>"; a `subscribe` event
  greets; other message types get the text-only notice from the domain.
* Every delivery is processed once: WeChat retries a message up to three times
  within 15 s, and a retry arriving while the first is still processing is dropped.
* The answer of a turn goes back as the passive reply when it is ready within the
  reply window (default 4.5 s; WeChat waits 5 s) and fits one message; otherwise
  WeChat gets "success" at once and every message goes out, in order, through the
  customer-service API, split to 2048 bytes each.
* Staff replies from the console reach WeChat customers through the same API
  (registered with `bot.live`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import live
from bot.channels.claims import DeliveryClaims
from bot.channels.guard import guard
from bot.channels.wechat.client import ApiError, OfficialAccountClient
from bot.channels.wechat.crypto import CryptoError, MessageCrypto, signature_matches
from bot.channels.wechat.dedup import RecentKeys
from bot.channels.wechat.messages import (
    BadXml,
    encrypted_xml,
    new_nonce,
    parse_xml,
    render,
    split_text,
    text_reply_xml,
    turn_chunks,
)
from bot.channels.wechat.settings import OfficialAccountSettings

logger = logging.getLogger(__name__)

SENDER_PREFIX = "wechat:"
CHANNEL = "wechat"
# A new follower is greeted as if they had said hello (the greet intent, no NLU).
GREET_PAYLOAD = "/greet"
TEXT_ONLY = "utter_text_only"
# Last-resort wording, used only when the domain cannot be read.
_FALLBACK_TEXT = {
    TEXT_ONLY: "亲，目前只支持文字消息哦～ 麻烦用文字描述一下您的问题。",
}
SUCCESS = "success"
# Deliveries are claimed in the database too, so a WeChat retry that reaches another
# Rasa server (production profile) is not answered twice.
KEEP_CLAIMS = timedelta(days=1)
NONCE_CHANNEL = "wechat-nonce"
KEEP_NONCES = timedelta(hours=1)


class CollectingOutput(OutputChannel):
    """Keeps the bot messages of one turn (named "wechat" for channel response variants)."""

    def __init__(self) -> None:
        self.messages: List[Dict[Text, Any]] = []

    @classmethod
    def name(cls) -> Text:
        return "wechat"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self.messages.append(dict(message))


def domain_text(app: Any, name: str, fallback: Dict[str, str] = _FALLBACK_TEXT) -> str:
    """The first variant of a domain response, or the fallback wording."""
    try:
        return str(app.ctx.agent.domain.responses[name][0]["text"])
    except Exception:  # no agent (unit tests), no domain, no such response
        return fallback[name]


class BackgroundTasks:
    """Tasks that outlive a request, referenced until they finish."""

    def __init__(self) -> None:
        self._tasks: Set["asyncio.Task[Any]"] = set()

    def spawn(self, coroutine: Awaitable[Any]) -> "asyncio.Task[Any]":
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def wait(self) -> None:
        """Waits for the running tasks (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class OfficialAccountInput(InputChannel):
    """WeChat Official Account messages in, passive replies or API messages out."""

    @classmethod
    def name(cls) -> Text:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        # Secrets come from the environment only; credentials.yml may tune the window.
        overrides = {}
        if credentials and credentials.get("reply_window_seconds") is not None:
            overrides["reply_window_seconds"] = float(credentials["reply_window_seconds"])
        return cls(OfficialAccountSettings.from_env(**overrides))

    def __init__(
        self,
        settings: Optional[OfficialAccountSettings] = None,
        client: Optional[OfficialAccountClient] = None,
    ) -> None:
        self.settings = settings or OfficialAccountSettings.from_env()
        self.client = client or OfficialAccountClient(
            self.settings.api, self.settings.app_id, self.settings.app_secret
        )
        self.crypto: Optional[MessageCrypto] = None
        if self.settings.encoding_aes_key:
            try:
                self.crypto = MessageCrypto(
                    self.settings.token, self.settings.encoding_aes_key, self.settings.app_id
                )
            except CryptoError as error:
                logger.error("WECHAT_ENCODING_AES_KEY is unusable (%s): safe mode is off", error)
        self.recent = RecentKeys(ttl=self.settings.dedup_seconds)
        self.claims = DeliveryClaims(CHANNEL, KEEP_CLAIMS)
        # (timestamp, nonce) of every signed callback, kept past the freshness window:
        # a captured request replayed within that window is taken only once.
        self.nonces = DeliveryClaims(NONCE_CHANNEL, KEEP_NONCES)
        self.tasks = BackgroundTasks()
        self._handler: Optional[Callable[[UserMessage], Awaitable[None]]] = None
        if not self.settings.configured:
            logger.warning("WeChat Official Account channel not configured (WECHAT_TOKEN unset)")

    # ------------------------------------------------------------------ output

    async def push(self, conversation_id: str, message: Dict[str, Any]) -> bool:
        """Sends a message (e.g. a staff reply) to a WeChat customer via the API."""
        if not conversation_id.startswith(SENDER_PREFIX):
            logger.warning("Not a WeChat conversation: %s", conversation_id)
            return False
        return await self.send(conversation_id[len(SENDER_PREFIX):], split_text(render(message)))

    async def send(self, openid: str, chunks: List[str]) -> bool:
        """Sends texts in order through the customer-service API; False if one failed."""
        for chunk in chunks:
            try:
                await self.client.send_text(openid, chunk)
            except ApiError as error:
                logger.error("WeChat message to %s not delivered: %s", openid, error)
                return False
            except Exception:
                logger.exception("WeChat message to %s not delivered", openid)
                return False
        return True

    # ------------------------------------------------------------------- turns

    async def _turn(self, conversation_id: str, text: str) -> List[str]:
        """Runs one assistant turn; the texts it produced."""
        assert self._handler is not None
        output = CollectingOutput()
        message = UserMessage(text, output, conversation_id, input_channel=self.name())
        try:
            await self._handler(message)
        except Exception:  # the guard already answers failures; this is its failure
            logger.exception("WeChat turn of %s failed", conversation_id)
        return [render(m) for m in output.messages]

    async def _deliver_later(self, openid: str, turn: "asyncio.Task[List[str]]") -> None:
        texts = await turn
        chunks = turn_chunks(texts)
        logger.info("Late answer for %s: %d message(s) via the API", openid, len(chunks))
        await self.send(openid, chunks)

    async def _answer(self, openid: str, text: str) -> Optional[str]:
        """The passive reply text, or None when the answer goes through the API."""
        turn = asyncio.ensure_future(self._turn(SENDER_PREFIX + openid, text))
        claimed = False
        try:
            done, _ = await asyncio.wait({turn}, timeout=self.settings.reply_window_seconds)
            if turn in done:
                claimed = True
                chunks = turn_chunks(turn.result())
                if len(chunks) == 1:
                    return chunks[0]
                if chunks:
                    self.tasks.spawn(self.send(openid, chunks))
                return None
            logger.info("No answer for %s within %.1f s; it will go via the API",
                        openid, self.settings.reply_window_seconds)
            return None
        finally:
            # Also when the request itself is cancelled (WeChat hung up).
            if not claimed:
                self.tasks.spawn(self._deliver_later(openid, turn))

    async def _first_delivery(self, key: str) -> bool:
        """Claims the delivery across servers; a database failure never loses a message."""
        try:
            return await self.claims.claim(key)
        except Exception as error:
            logger.warning("Could not claim WeChat delivery %s (%s); answering it", key, error)
            return True

    async def _handle(self, request: Request, fields: Dict[str, str]) -> Optional[str]:
        """Processes a decrypted message; the passive reply text or None ("success")."""
        openid = fields.get("FromUserName", "")
        if not openid:
            logger.info("WeChat message without FromUserName ignored")
            return None
        kind = fields.get("MsgType", "").lower()
        event = fields.get("Event", "").lower()
        key = fields.get("MsgId") or f"{openid}|{fields.get('CreateTime', '')}|{event}"
        if not self.recent.add(key):
            logger.info("Duplicate WeChat delivery %s from %s ignored", key, openid)
            return None
        if not await self._first_delivery(key):
            logger.info("WeChat delivery %s from %s already taken by another server", key,
                        openid)
            return None
        if kind == "text":
            return await self._answer(openid, fields.get("Content", ""))
        if kind == "voice" and fields.get("Recognition"):
            # Speech recognition is switched on for the account: the words are text.
            return await self._answer(openid, fields["Recognition"])
        if kind == "event":
            if event == "subscribe":
                return await self._answer(openid, GREET_PAYLOAD)
            logger.debug("WeChat event %s from %s needs no answer", event, openid)
            return None
        logger.info("WeChat %s message from %s: text-only notice", kind or "untyped", openid)
        return domain_text(request.app, TEXT_ONLY)

    # -------------------------------------------------------------------- http

    def _signed(self, request: Request) -> bool:
        args = request.args
        return signature_matches(
            args.get("signature", ""), self.settings.token,
            args.get("timestamp", ""), args.get("nonce", ""),
        )

    def _fresh(self, request: Request) -> bool:
        """Whether the signed timestamp is recent (see max_age_seconds)."""
        try:
            sent = int(request.args.get("timestamp", ""))
        except ValueError:
            return False
        return abs(time.time() - sent) <= self.settings.max_age_seconds

    async def _first_use(self, request: Request) -> bool:
        """Whether this signed (timestamp, nonce) is seen for the first time. With the
        database down the freshness window alone guards (the channel keeps working)."""
        args = request.args
        try:
            return await self.nonces.claim(f"{args.get('timestamp', '')}:{args.get('nonce', '')}")
        except Exception:  # the database: logged, not fatal for the customer's message
            logger.warning("Could not record a WeChat nonce; replay check skipped", exc_info=True)
            return True

    def _reply(self, fields: Dict[str, str], content: str, safe: bool) -> HTTPResponse:
        xml = text_reply_xml(fields.get("FromUserName", ""), fields.get("ToUserName", ""),
                             content)
        if safe and self.crypto is not None:
            timestamp, nonce = str(int(time.time())), new_nonce()
            encrypted = self.crypto.encrypt(xml)
            xml = encrypted_xml(encrypted, self.crypto.sign(timestamp, nonce, encrypted),
                                timestamp, nonce)
        return response.text(xml, content_type="application/xml")

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        self._handler = guard(on_new_message)
        live.register_outbound(self.name(), self.push)
        wechat = Blueprint("wechat_official_account", __name__)

        @wechat.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "configured": self.settings.configured})

        @wechat.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if not self.settings.configured:
                return response.text("not configured", status=503)
            if not self._signed(request):
                logger.warning("WeChat URL verification with a bad signature refused")
                return response.text("forbidden", status=403)
            if not self._fresh(request):
                logger.warning("WeChat URL verification with a stale timestamp refused")
                return response.text("forbidden", status=403)
            return response.text(request.args.get("echostr", ""))

        @wechat.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.settings.configured:
                return response.text("not configured", status=503)
            if not self._signed(request):
                logger.warning("WeChat message with a bad signature refused")
                return response.text("forbidden", status=403)
            if not self._fresh(request):
                # Signed but old: a replay (WeChat itself retries within 15 s).
                logger.warning("WeChat message with a stale timestamp refused (replay?)")
                return response.text("forbidden", status=403)
            safe = request.args.get("encrypt_type", "raw").lower() == "aes"
            if self.settings.encoding_aes_key and not safe:
                # Safe mode is the account's setting: the request cannot opt out of it.
                logger.warning("Plaintext WeChat callback refused: safe mode is configured")
                return response.text("forbidden", status=403)
            if not await self._first_use(request):
                logger.warning("WeChat callback with a nonce already used ignored (replay?)")
                return response.text(SUCCESS)
            try:
                fields = parse_xml(request.body)
                if safe:
                    if self.crypto is None:
                        logger.error("Encrypted WeChat message but no usable AES key")
                        return response.text("forbidden", status=403)
                    encrypted = fields.get("Encrypt", "")
                    fields = parse_xml(self.crypto.open_callback(request.args, encrypted))
            except CryptoError as error:
                logger.warning("WeChat message refused: %s", error)
                return response.text("forbidden", status=403)
            except BadXml as error:
                logger.warning("WeChat message refused: %s", error)
                return response.text("bad request", status=400)
            content = await self._handle(request, fields)
            if content is None:
                return response.text(SUCCESS)
            return self._reply(fields, content, safe)

        return wechat
