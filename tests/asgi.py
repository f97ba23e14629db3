"""One request through a Sanic app's ASGI interface, for the console and web tests
that build an app from the real blueprints (no server, no port)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlsplit


@dataclass
class Reply:
    status: int
    pairs: List[Tuple[str, str]]  # header names lower-cased, in the order sent
    body: bytes

    @property
    def headers(self) -> Dict[str, str]:
        return dict(self.pairs)

    def json(self) -> Any:
        return json.loads(self.body)


def request(app: Any, path: str, *, method: str = "GET", token: Optional[str] = None,
            body: Optional[Any] = None, peer: str = "127.0.0.1",
            headers: Optional[Dict[str, str]] = None) -> Reply:
    """`body` is sent as JSON; `token` as a bearer token; `peer` is the client."""
    parts = urlsplit(path)
    sent_headers = [(b"host", b"test"), (b"content-type", b"application/json")]
    if token:
        sent_headers.append((b"authorization", f"Bearer {token}".encode()))
    sent_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    payload = json.dumps(body).encode() if body is not None else b""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": parts.path,
             "raw_path": parts.path.encode(), "query_string": parts.query.encode(),
             "headers": sent_headers, "client": (peer, 1), "server": ("test", 80)}
    sent: List[Dict[str, Any]] = []

    async def receive() -> Dict[str, Any]:
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: Dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    pairs = [(k.decode().lower(), v.decode()) for k, v in start["headers"]]  # a generator
    raw = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Reply(start["status"], pairs, raw)
