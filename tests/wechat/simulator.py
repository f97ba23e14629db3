"""A local stand-in for the WeChat platforms.

* `OfficialAccountPlatform` / `WeComPlatform` build callbacks exactly as Tencent
  does: query signatures, encrypted envelopes (WXBizMsgCrypt), message XML.
* `FakeApi` is a threaded HTTP server on a free port serving the token, send,
  sync and session-state APIs. It records every call and can be told to fail.
* `ChannelServer` runs a channel's Sanic blueprint on a free port in a thread,
  with a stub assistant (`Assistant`) as `on_new_message`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlencode, urlparse

import requests
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic

from bot.channels.wechat.crypto import MessageCrypto, signature
from bot.channels.wechat.messages import cdata, parse_xml

TOKEN = "sim-token"
APP_ID = "wx5f0a1b2c3d4e5f60"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ACCOUNT = "gh_0123456789ab"
CORP_ID = "ww0123456789abcdef"
KF_ID = "wkSimulatedKfAccount"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ============================================================== messages


_ids = itertools.count(int(time.time()) * 1000)


def new_msg_id() -> str:
    return str(next(_ids))


def message_xml(openid: str, kind: str, fields: Dict[str, str], to_user: str = ACCOUNT,
                create_time: Optional[int] = None) -> str:
    """A user → account message as WeChat pushes it (strings in CDATA)."""
    body = "".join(
        f"<{tag}>{value if tag in ('MsgId', 'Latitude', 'Longitude') else cdata(value)}</{tag}>"
        for tag, value in fields.items()
    )
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(openid)}</FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
        f"<MsgType>{cdata(kind)}</MsgType>{body}</xml>"
    )


def text_xml(openid: str, content: str, msg_id: Optional[str] = None, **kw: Any) -> str:
    return message_xml(openid, "text", {"Content": content, "MsgId": msg_id or new_msg_id()}, **kw)


def event_xml(openid: str, event: str, **kw: Any) -> str:
    return message_xml(openid, "event", {"Event": event}, **kw)


NON_TEXT = {
    "image": {"PicUrl": "http://mmbiz.qpic.cn/x.jpg", "MediaId": "m1"},
    "voice": {"MediaId": "m2", "Format": "amr"},
    "video": {"MediaId": "m3", "ThumbMediaId": "t3"},
    "shortvideo": {"MediaId": "m4", "ThumbMediaId": "t4"},
    "location": {"Location_X": "31.23", "Location_Y": "121.47", "Scale": "15", "Label": "上海"},
    "link": {"Title": "链接", "Description": "说明", "Url": "https://example.com"},
}


@dataclass
class OfficialAccountPlatform:
    """Signs (and in safe mode encrypts) callbacks like the WeChat server."""

    url: str
    token: str = TOKEN
    app_id: str = APP_ID
    aes_key: str = AES_KEY

    def _query(self, timestamp: Optional[str] = None, nonce: Optional[str] = None,
               **extra: str) -> Dict[str, str]:
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(next(_ids) % 10**9)
        return {"signature": signature(self.token, timestamp, nonce), "timestamp": timestamp,
                "nonce": nonce, **extra}

    def verify(self, echostr: str = "echo-123", token: Optional[str] = None,
               timestamp: Optional[str] = None) -> requests.Response:
        query = self._query(timestamp, echostr=echostr)
        if token is not None:
            query["signature"] = signature(token, query["timestamp"], query["nonce"])
        return requests.get(self.url, params=query, timeout=30)

    def post_plain(self, xml: str, openid: str = "", bad_signature: bool = False,
                   timeout: float = 30, timestamp: Optional[str] = None) -> requests.Response:
        query = self._query(timestamp, openid=openid)
        if bad_signature:
            query["signature"] = "0" * 40
        return requests.post(f"{self.url}?{urlencode(query)}", data=xml.encode("utf-8"),
                             headers={"Content-Type": "text/xml"}, timeout=timeout)

    def encrypt(self, xml: str, app_id: Optional[str] = None) -> str:
        return MessageCrypto(self.token, self.aes_key, app_id or self.app_id).encrypt(xml)

    def post_safe(self, xml: str, openid: str = "", app_id: Optional[str] = None,
                  bad_msg_signature: bool = False, timeout: float = 30,
                  timestamp: Optional[str] = None) -> requests.Response:
        encrypted = self.encrypt(xml, app_id)
        query = self._query(timestamp, openid=openid, encrypt_type="aes")
        query["msg_signature"] = signature(self.token, query["timestamp"], query["nonce"],
                                           encrypted)
        if bad_msg_signature:
            query["msg_signature"] = "f" * 40
        envelope = f"<xml><ToUserName>{cdata(ACCOUNT)}</ToUserName>" \
                   f"<Encrypt>{cdata(encrypted)}</Encrypt></xml>"
        return requests.post(f"{self.url}?{urlencode(query)}", data=envelope.encode("utf-8"),
                             headers={"Content-Type": "text/xml"}, timeout=timeout)

    def open_reply(self, body: str) -> Dict[str, str]:
        """A safe-mode reply checked (signature, app id) and decrypted, as WeChat would."""
        envelope = parse_xml(body)
        crypto = MessageCrypto(self.token, self.aes_key, self.app_id)
        assert crypto.verify(envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"],
                             envelope["Encrypt"])
        return parse_xml(crypto.decrypt(envelope["Encrypt"]))


@dataclass
class WeComPlatform:
    """Signs and encrypts WeCom callbacks (receive id = corp id)."""

    url: str
    token: str = TOKEN
    corp_id: str = CORP_ID
    aes_key: str = AES_KEY

    def _crypto(self, corp_id: Optional[str] = None) -> MessageCrypto:
        return MessageCrypto(self.token, self.aes_key, corp_id or self.corp_id)

    def _signed(self, encrypted: str, bad: bool = False) -> Dict[str, str]:
        timestamp, nonce = str(int(time.time())), str(next(_ids) % 10**9)
        sig = "0" * 40 if bad else signature(self.token, timestamp, nonce, encrypted)
        return {"msg_signature": sig, "timestamp": timestamp, "nonce": nonce}

    def verify(self, echo: str = "1616140317555161061", bad: bool = False,
               corp_id: Optional[str] = None) -> requests.Response:
        encrypted = self._crypto(corp_id).encrypt(echo)
        query = {**self._signed(encrypted, bad), "echostr": encrypted}
        return requests.get(self.url, params=query, timeout=30)

    def kf_event(self, token: str = "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR",
                 open_kfid: str = KF_ID, bad: bool = False,
                 corp_id: Optional[str] = None) -> requests.Response:
        inner = (
            f"<xml><ToUserName>{cdata(self.corp_id)}</ToUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType>{cdata('event')}</MsgType>"
            f"<Event>{cdata('kf_msg_or_event')}</Event><Token>{cdata(token)}</Token>"
            f"<OpenKfId>{cdata(open_kfid)}</OpenKfId></xml>"
        )
        encrypted = self._crypto(corp_id).encrypt(inner)
        query = self._signed(encrypted, bad)
        body = f"<xml><ToUserName>{cdata(self.corp_id)}</ToUserName>" \
               f"<Encrypt>{cdata(encrypted)}</Encrypt><AgentID>{cdata('')}</AgentID></xml>"
        return requests.post(f"{self.url}?{urlencode(query)}", data=body.encode("utf-8"),
                             timeout=30)


# ============================================================== fake API


@dataclass
class Call:
    method: str
    path: str
    query: Dict[str, str]
    body: Dict[str, Any]


@dataclass
class FakeApi:
    """Token, send, sync and session-state APIs of both platforms, on localhost."""

    expires_in: int = 7200
    calls: List[Call] = field(default_factory=list)
    # Planned answers per path, used first-in first-out: (HTTP status, JSON body).
    planned: Dict[str, List[Tuple[int, Dict[str, Any]]]] = field(default_factory=dict)
    # WeCom: the messages of each kf account; the cursor is an index into the list.
    kf_messages: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict)
    page_size: int = 1000
    port: int = 0  # 0: any free port

    def __post_init__(self) -> None:
        self._tokens = itertools.count(1)
        self.valid_tokens: set = set()
        self.lock = threading.Lock()
        self.port = self.port or free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler_class())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeApi":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------ scripting

    def plan(self, path: str, *answers: Tuple[int, Dict[str, Any]]) -> None:
        with self.lock:
            self.planned.setdefault(path, []).extend(answers)

    def expire_tokens(self) -> None:
        """The platform invalidates every issued token (as after 2 hours)."""
        with self.lock:
            self.valid_tokens.clear()

    def sent(self, path: str) -> List[Dict[str, Any]]:
        """Bodies of successful calls to `path`."""
        with self.lock:
            return [c.body for c in self.calls if c.path == path and c.body.get("_ok")]

    def texts(self, path: str = "/cgi-bin/message/custom/send") -> List[str]:
        return [b["text"]["content"] for b in self.sent(path)]

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for c in self.calls if c.path == path)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    # ------------------------------------------------------------ serving

    def answer(self, method: str, path: str, query: Dict[str, str],
               body: Dict[str, Any]) -> Tuple[int, Dict[str, Any]]:
        call = Call(method, path, query, body)
        with self.lock:
            self.calls.append(call)
            if self.planned.get(path):
                return self.planned[path].pop(0)
            if path in ("/cgi-bin/token", "/cgi-bin/gettoken"):
                token = f"ACCESS-{next(self._tokens)}"
                self.valid_tokens.add(token)
                return 200, {"access_token": token, "expires_in": self.expires_in,
                             "errcode": 0, "errmsg": "ok"}
            if query.get("access_token") not in self.valid_tokens:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            body["_ok"] = True
            if path == "/cgi-bin/kf/sync_msg":
                messages = self.kf_messages.get(body.get("open_kfid", ""), [])
                start = int(body.get("cursor") or 0)
                page = messages[start:start + self.page_size]
                end = start + len(page)
                return 200, {"errcode": 0, "errmsg": "ok", "next_cursor": str(end),
                             "has_more": int(end < len(messages)), "msg_list": page}
            if path == "/cgi-bin/kf/send_msg":
                return 200, {"errcode": 0, "errmsg": "ok", "msgid": f"sent-{len(self.calls)}"}
            return 200, {"errcode": 0, "errmsg": "ok"}

    def _handler_class(self) -> type:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                parsed = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw.decode("utf-8")) if raw else {}
                status, answer = api.answer(method, parsed.path, query, body)
                data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def kf_text(external_userid: str, content: str, msgid: Optional[str] = None,
            origin: int = 3, send_time: Optional[int] = None,
            open_kfid: str = KF_ID) -> Dict[str, Any]:
    """A message as sync_msg lists it (origin 3: the customer)."""
    return {"msgid": msgid or new_msg_id(), "open_kfid": open_kfid,
            "external_userid": external_userid, "send_time": send_time or int(time.time()),
            "origin": origin, "msgtype": "text", "text": {"content": content}}


# ============================================================== channel server


class Assistant:
    """Stands in for Rasa's `on_new_message`: answers by a rule, optionally slowly."""

    def __init__(self, answer: Optional[Callable[[str], List[Dict[str, Any]]]] = None,
                 delay: float = 0.0) -> None:
        self.answer = answer or (lambda text: [{"text": f"收到：{text}"}])
        self.delay = delay
        self.seen: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.seen.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        for reply in self.answer(message.text or ""):
            await message.output_channel.send_response(message.sender_id, reply)

    @property
    def texts(self) -> List[str]:
        return [m.text for m in self.seen]


_apps = itertools.count(1)


class ChannelServer:
    """Serves input channels' blueprints (under /webhooks/<prefix>) on a free port."""

    def __init__(self, channels: List[InputChannel], assistant: Callable,
                 agent: Any = None) -> None:
        self.port = free_port()
        # Several apps per process: Sanic's start-up "touch-up" must keep the originals.
        Sanic.test_mode = True
        self.app = Sanic(f"wechat_sim_{next(_apps)}")
        self.app.config.ACCESS_LOG = False
        if agent is not None:
            self.app.ctx.agent = agent
        for channel in channels:
            self.app.blueprint(channel.blueprint(assistant),
                               url_prefix=f"/webhooks/{channel.url_prefix()}")
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: Any = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def start() -> None:
            self._server = await self.app.create_server(
                host="127.0.0.1", port=self.port, return_asyncio_server=True
            )
            await self._server.startup()
            # As under `app.run` (Rasa's way): listeners may use app.loop / add_task.
            self.app.is_running = True
            await self._server.after_start()
            self._ready.set()

        self.loop.run_until_complete(start())
        self.loop.run_forever()

    def start(self) -> "ChannelServer":
        self.thread.start()
        assert self._ready.wait(15), "channel server did not start"
        return self

    def run(self, coroutine: Any, timeout: float = 30) -> Any:
        """Runs a coroutine on the server's loop (e.g. to wait for background tasks)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        if not self.loop.is_running():
            return

        async def close() -> None:
            current = asyncio.current_task()
            for task in asyncio.all_tasks():  # e.g. the console's queue watcher
                if task is not current:
                    task.cancel()
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()

        try:
            self.run(close(), timeout=10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
