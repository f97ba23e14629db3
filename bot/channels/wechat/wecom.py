"""The WeCom customer service (企业微信 · 微信客服) channel: /webhooks/wecom/webhook.

WeCom does not put the customer's message in the callback. It posts an encrypted
`kf_msg_or_event` event (with a short-lived sync token); the channel then pulls the
new messages with `kf/sync_msg` from the saved cursor, and answers each customer
text with `kf/send_msg`.

* GET: callback URL verification (msg_signature over token, timestamp, nonce,
  echostr; the decrypted echostr is echoed; the receive id must be our corp id).
* The cursor is saved in the database after every page, and every msgid is claimed
  there before it is answered: a restart neither loses nor repeats messages (a
  page is re-read after a crash, its claimed messages are skipped).
* Conversation id "wecom:<open_kfid>:<external_userid>", stable per customer and
  kf account. Only customer messages (origin 3) reach the assistant; other types
  get the text-only notice; messages older than WECOM_MAX_MESSAGE_AGE_SECONDS
  (e.g. the three days of history of a first sync) are not answered.
* A customer entering the session (event `enter_session` with a welcome_code,
  which WeCom gives when they have not chatted for 48 h) is greeted by the
  assistant through `kf/send_msg_on_event`, within the code's 20 s.
* Handoff: with WECOM_SERVICER_USERID set, a conversation the assistant hands off
  is moved to that WeCom servicer (service_state 3) and the assistant stays out
  of it; otherwise the staff console takes it and its replies go out via send_msg.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import live
from bot.channels.claims import DeliveryClaims
from bot.channels.guard import guard
from bot.channels.wechat.client import ApiError, WeComClient
from bot.channels.wechat.crypto import CryptoError, MessageCrypto
from bot.channels.wechat.messages import BadXml, parse_xml, render, split_text, turn_chunks
from bot.channels.wechat.official_account import (
    GREET_PAYLOAD,
    TEXT_ONLY,
    BackgroundTasks,
    CollectingOutput,
    domain_text,
)
from bot.channels.wechat.settings import WeComSettings

logger = logging.getLogger(__name__)

CHANNEL = "wecom"
SENDER_PREFIX = "wecom:"
CUSTOMER_ORIGIN = 3
EVENT_ORIGIN = 4
# A welcome_code is valid for 20 s after the event.
WELCOME_CODE_SECONDS = 20
KF_EVENT = "kf_msg_or_event"
# Claimed msgids are kept this long (the platform keeps messages for days, not weeks).
KEEP_CLAIMS = timedelta(days=7)


# ------------------------------------------------------------ data layer calls
# Blocking; run in a thread.


def _load_cursor(open_kfid: str) -> Optional[str]:
    from shop.db import repository
    from shop.db.engine import session_scope

    with session_scope() as session:
        return repository.channels.get_channel_cursor(session=session, channel=CHANNEL,
                                             account=open_kfid)


def _save_cursor(open_kfid: str, cursor: str) -> None:
    from shop.db import repository
    from shop.db.engine import session_scope

    with session_scope() as session:
        repository.channels.save_channel_cursor(session=session, channel=CHANNEL, account=open_kfid,
                                       cursor=cursor)


def _ensure_schema() -> None:
    from shop.db.engine import create_schema

    create_schema()


def conversation_of(open_kfid: str, external_userid: str) -> str:
    return f"{SENDER_PREFIX}{open_kfid}:{external_userid}"


def parse_conversation_id(value: str) -> Optional[tuple]:
    """(open_kfid, external_userid) of a WeCom conversation id, or None."""
    if not value.startswith(SENDER_PREFIX):
        return None
    open_kfid, _, external_userid = value[len(SENDER_PREFIX):].partition(":")
    return (open_kfid, external_userid) if open_kfid and external_userid else None


class WeComInput(InputChannel):
    """WeCom 微信客服: callbacks in, sync_msg to read, send_msg to answer."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(WeComSettings.from_env())  # secrets only from the environment

    def __init__(
        self,
        settings: Optional[WeComSettings] = None,
        client: Optional[WeComClient] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings or WeComSettings.from_env()
        self.client = client or WeComClient(
            self.settings.api, self.settings.corp_id, self.settings.secret
        )
        self.crypto: Optional[MessageCrypto] = None
        if self.settings.configured:
            try:
                self.crypto = MessageCrypto(self.settings.token, self.settings.encoding_aes_key,
                                            self.settings.corp_id)
            except CryptoError as error:
                logger.error("WECOM_ENCODING_AES_KEY is unusable (%s)", error)
        else:
            logger.warning("WeCom channel not configured (WECOM_CORP_ID / WECOM_TOKEN / "
                           "WECOM_ENCODING_AES_KEY unset)")
        self.tasks = BackgroundTasks()
        self._clock = clock
        self._handler: Optional[Callable[[UserMessage], Awaitable[None]]] = None
        self._app: Any = None
        self._locks: Dict[str, asyncio.Lock] = {}
        # Sync tokens of events not yet acted on, per kf account (latest wins).
        self._wanted: Dict[str, str] = {}
        self._schema_ready = False
        self.claims = DeliveryClaims(CHANNEL, KEEP_CLAIMS, clock=self._clock)

    # ------------------------------------------------------------------ output

    async def send(self, open_kfid: str, external_userid: str, chunks: List[str]) -> bool:
        for chunk in chunks:
            try:
                await self.client.send_text(open_kfid, external_userid, chunk)
            except ApiError as error:
                logger.error("WeCom message to %s not delivered: %s", external_userid, error)
                return False
            except Exception:
                logger.exception("WeCom message to %s not delivered", external_userid)
                return False
        return True

    async def push(self, conversation_id: str, message: Dict[str, Any]) -> bool:
        """Sends a message (e.g. a staff reply) to a WeCom customer via send_msg."""
        parsed = parse_conversation_id(conversation_id)
        if parsed is None:
            logger.warning("Not a WeCom conversation: %s", conversation_id)
            return False
        return await self.send(*parsed, split_text(render(message)))

    # -------------------------------------------------------------------- sync

    async def sync(self, open_kfid: str, token: str) -> None:
        """Pulls and answers the new messages of a kf account (one sync at a time)."""
        self._wanted[open_kfid] = token
        lock = self._locks.setdefault(open_kfid, asyncio.Lock())
        if lock.locked():
            return  # the running sync goes round once more with this token
        async with lock:
            while open_kfid in self._wanted:
                await self._sync_once(open_kfid, self._wanted.pop(open_kfid))

    async def _sync_once(self, open_kfid: str, token: str) -> None:
        try:
            if not self._schema_ready:
                await asyncio.to_thread(_ensure_schema)
                self._schema_ready = True
            cursor = await asyncio.to_thread(_load_cursor, open_kfid)
            while True:
                page = await self.client.sync_messages(open_kfid, cursor, token)
                for message in page.get("msg_list") or []:
                    await self._take(open_kfid, message)
                next_cursor = page.get("next_cursor") or cursor
                if next_cursor and next_cursor != cursor:
                    await asyncio.to_thread(_save_cursor, open_kfid, next_cursor)
                    cursor = next_cursor
                if not page.get("has_more"):
                    break
        except ApiError as error:
            logger.error("WeCom sync of %s stopped: %s (next event resumes)", open_kfid, error)
        except Exception:
            logger.exception("WeCom sync of %s failed (next event resumes)", open_kfid)

    async def _take(self, open_kfid: str, message: Dict[str, Any]) -> None:
        msgid = str(message.get("msgid") or "")
        if not msgid or not await self.claims.claim(msgid):
            logger.info("WeCom message %s already taken", msgid or "without msgid")
            return
        if message.get("origin") == EVENT_ORIGIN:
            await self._event(open_kfid, message)
            return
        if message.get("origin") != CUSTOMER_ORIGIN:
            return  # servicer and system messages are not the assistant's
        kfid = str(message.get("open_kfid") or open_kfid)
        customer = str(message.get("external_userid") or "")
        age = self._clock() - float(message.get("send_time") or 0)
        if not customer or age > self.settings.max_message_age_seconds:
            logger.info("WeCom message %s (%.0f s old) not answered", msgid, age)
            return
        if message.get("msgtype") != "text":
            notice = domain_text(self._app, TEXT_ONLY)
            await self.send(kfid, customer, [notice])
            return
        text = str((message.get("text") or {}).get("content") or "")
        await self._answer(kfid, customer, text)

    async def _event(self, open_kfid: str, message: Dict[str, Any]) -> None:
        """Greets a customer entering the session, if WeCom gave a welcome code."""
        event = message.get("event") or {}
        code = str(event.get("welcome_code") or "")
        customer = str(event.get("external_userid") or "")
        if event.get("event_type") != "enter_session" or not code or not customer:
            return
        kfid = str(event.get("open_kfid") or open_kfid)
        age = self._clock() - float(message.get("send_time") or 0)
        if age > WELCOME_CODE_SECONDS:
            logger.info("WeCom welcome code of %s expired (%.0f s): no greeting", customer, age)
            return
        if self.settings.servicer_userid and await self._paused(conversation_of(kfid, customer)):
            return
        output = await self._turn(kfid, customer, GREET_PAYLOAD)
        chunks = turn_chunks(render(m) for m in output)
        if not chunks:
            return
        try:
            await self.client.send_welcome(code, chunks[0])
        except ApiError as error:  # the code expired or was used: the normal send API
            logger.warning("WeCom welcome of %s not sent with its code: %s", customer, error)
            await self.send(kfid, customer, chunks[:1])
        if chunks[1:]:
            await self.send(kfid, customer, chunks[1:])

    async def _turn(self, open_kfid: str, customer: str, text: str) -> List[Dict[str, Any]]:
        """The assistant's messages for one customer message (none if it failed)."""
        assert self._handler is not None
        output = CollectingOutput()
        conversation_id = conversation_of(open_kfid, customer)
        try:
            await self._handler(UserMessage(text, output, conversation_id, input_channel=CHANNEL))
        except Exception:
            logger.exception("WeCom turn of %s failed", conversation_id)
        return list(output.messages)

    async def _answer(self, open_kfid: str, customer: str, text: str) -> None:
        conversation_id = conversation_of(open_kfid, customer)
        servicer = self.settings.servicer_userid
        if servicer and await self._paused(conversation_id):
            logger.info("WeCom %s is with servicer %s; the assistant stays out", conversation_id,
                        servicer)
            return
        output = await self._turn(open_kfid, customer, text)
        await self.send(open_kfid, customer, turn_chunks(render(m) for m in output))
        if servicer and await self._paused(conversation_id):
            try:
                await self.client.transfer_to_servicer(open_kfid, customer, servicer)
                logger.info("WeCom %s handed to servicer %s", conversation_id, servicer)
            except ApiError as error:
                logger.error("WeCom %s not handed to a servicer: %s", conversation_id, error)

    async def _paused(self, conversation_id: str) -> bool:
        agent = getattr(getattr(self._app, "ctx", None), "agent", None)
        store = getattr(agent, "tracker_store", None)
        if store is None:
            return False
        try:
            tracker = await store.retrieve(conversation_id)
        except Exception:
            logger.exception("Could not read the tracker of %s", conversation_id)
            return False
        return bool(tracker is not None and tracker.is_paused())

    # -------------------------------------------------------------------- http

    def _open(self, request: Request, encrypted: str) -> str:
        """Checks msg_signature and decrypts; CryptoError when either fails."""
        assert self.crypto is not None
        return self.crypto.open_callback(request.args, encrypted)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        self._handler = guard(on_new_message)
        live.register_outbound(self.name(), self.push)
        wecom = Blueprint("wecom_customer_service", __name__)

        @wecom.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "configured": self.crypto is not None})

        @wecom.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if self.crypto is None:
                return response.text("not configured", status=503)
            try:
                return response.text(self._open(request, request.args.get("echostr", "")))
            except CryptoError as error:
                logger.warning("WeCom URL verification refused: %s", error)
                return response.text("forbidden", status=403)

        @wecom.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if self.crypto is None:
                return response.text("not configured", status=503)
            self._app = request.app
            try:
                fields = parse_xml(self._open(request, parse_xml(request.body).get("Encrypt", "")))
            except CryptoError as error:
                logger.warning("WeCom callback refused: %s", error)
                return response.text("forbidden", status=403)
            except BadXml as error:
                logger.warning("WeCom callback refused: %s", error)
                return response.text("bad request", status=400)
            if fields.get("Event") == KF_EVENT and fields.get("OpenKfId"):
                # Answer WeCom at once; reading and answering the messages takes longer.
                self.tasks.spawn(self.sync(fields["OpenKfId"], fields.get("Token", "")))
            else:
                logger.debug("WeCom callback %s ignored", fields.get("Event") or
                             fields.get("MsgType"))
            return response.text("success")

        return wecom
