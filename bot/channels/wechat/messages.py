"""Callback XML in and out, and bot messages turned into WeChat text.

XML comes from the network, so it is parsed defensively: defusedxml when it is
installed, otherwise the standard library after refusing any DOCTYPE/ENTITY
declaration (entity expansion is the only dangerous part of expat here).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, Dict, Iterable, List, Optional, Text
from xml.etree.ElementTree import Element, ParseError

# defusedxml (pinned in requirements.txt) refuses entity expansion, external entities
# and DTDs; the declaration check below refuses them before any parser runs.
from defusedxml.ElementTree import fromstring as _fromstring

SAFE_PARSER = "defusedxml"

# Text per message: the custom-service send APIs refuse more than 2048 bytes.
MAX_TEXT_BYTES = 2048
MAX_XML_BYTES = 64 * 1024
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# Where a long text is best cut: paragraph ends first, then sentence ends.
_PARAGRAPH = "\n"
_SENTENCE_ENDS = "。！？!?；;…"


class BadXml(ValueError):
    """A body that is not a small, plain WeChat XML document."""


def parse_xml(body: bytes | str) -> Dict[str, str]:
    """The child elements of a WeChat `<xml>` document as {tag: text}."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    if len(data) > MAX_XML_BYTES:
        raise BadXml("document too large")
    if _DECLARATION.search(data):
        raise BadXml("DOCTYPE and ENTITY declarations are refused")
    try:
        root: Element = _fromstring(data)
    except (ParseError, ValueError) as error:  # defusedxml raises ValueError subclasses
        raise BadXml(f"not XML: {error}") from error
    if root.tag != "xml":
        raise BadXml(f"unexpected root element {root.tag!r}")
    return {child.tag: (child.text or "").strip() for child in root}


def cdata(text: str) -> str:
    """`text` as a CDATA section (a literal "]]>" is split across two sections)."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply_xml(to_user: str, from_user: str, content: str, now: Optional[int] = None) -> str:
    """A passive text reply."""
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(now if now is not None else time.time())}</CreateTime>"
        f"<MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )


def encrypted_xml(encrypted: str, msg_signature: str, timestamp: str, nonce: str) -> str:
    """The envelope of an encrypted message (replies in safe mode, simulator requests)."""
    return (
        "<xml>"
        f"<Encrypt>{cdata(encrypted)}</Encrypt>"
        f"<MsgSignature>{cdata(msg_signature)}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp>"
        f"<Nonce>{cdata(nonce)}</Nonce>"
        "</xml>"
    )


def new_nonce() -> str:
    return str(uuid.uuid4().int % 10**10)


def _cut(text: str, limit: int) -> int:
    """Index where to end the first chunk of `text` (at most `limit` UTF-8 bytes)."""
    size, end = 0, 0
    for index, char in enumerate(text):
        size += len(char.encode("utf-8"))
        if size > limit:
            break
        end = index + 1
    if end == len(text):
        return end
    window = text[:end]
    # Prefer a boundary in the second half of the chunk, so chunks stay large.
    floor = end // 2
    for boundaries in (_PARAGRAPH, _SENTENCE_ENDS):
        best = max(window.rfind(mark) for mark in boundaries)
        if best >= floor:
            return best + 1
    return max(end, 1)


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> List[str]:
    """`text` in chunks of at most `limit` UTF-8 bytes, cut at sentence ends if possible."""
    chunks: List[str] = []
    rest = text.strip()
    while rest:
        end = _cut(rest, limit)
        chunk = rest[:end].strip()
        if chunk:
            chunks.append(chunk)
        rest = rest[end:].strip()
    return chunks


def turn_chunks(texts: Iterable[str], limit: int = MAX_TEXT_BYTES) -> List[str]:
    """The messages of one bot turn as WeChat texts.

    A turn that fits one message is sent as one (joined by a blank line, which
    keeps the order and fits WeChat's one passive reply); otherwise each bot
    message is sent on its own, split where it is too long.
    """
    parts = [t.strip() for t in texts if t and t.strip()]
    joined = "\n\n".join(parts)
    if joined and len(joined.encode("utf-8")) <= limit:
        return [joined]
    return [chunk for part in parts for chunk in split_text(part, limit)]


def render(message: Dict[Text, Any]) -> str:
    """A Rasa bot message as plain WeChat text (buttons become 【title】 options)."""
    lines: List[str] = []
    if message.get("text"):
        lines.append(str(message["text"]))
    options = message.get("buttons") or message.get("quick_replies") or []
    titles = [str(b.get("title")) for b in options if isinstance(b, dict) and b.get("title")]
    if titles:
        lines.append("".join(f"【{title}】" for title in titles))
    for key in ("image", "attachment"):
        if isinstance(message.get(key), str) and message[key]:
            lines.append(message[key])
    custom = message.get("custom")
    if isinstance(custom, dict) and isinstance(custom.get("text"), str):
        lines.append(custom["text"])
    return "\n".join(lines)
