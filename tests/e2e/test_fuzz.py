"""Bad input, generated: the public channels and the HTTP API against a real server.

Hypothesis sends arbitrary JSON (wrong types, missing fields, nesting, huge strings,
emoji, control characters, lone surrogates), non-JSON bodies under any content type,
and garbage conversation ids (path traversal, very long) with and without the tokens.
Whatever comes in: no 5xx — except the 503 our console deliberately answers when its
records are unavailable, in our JSON shape —, never a Python traceback, never a
protected resource without its token, and the Rasa server's memory stays bounded.

Examples are derandomized (same inputs on every run) and few: the whole module takes
about a minute on two cores.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
import requests

# Hypothesis caches under .hypothesis/ in the working directory; not in the project.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY",
                      str(Path(tempfile.gettempdir()) / "hypothesis-e2e"))
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from e2e.conftest import STAFF_PASSWORD, STAFF_USER, TOKEN, Stack  # noqa: E402

FUZZ = settings(
    max_examples=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large],
)
# Growth of the Rasa server's resident memory allowed over the fuzz run, after a
# warm-up of every route (first use of a code path loads modules and caches).
MAX_RSS_GROWTH_MB = 100

# Every character JSON can carry, lone surrogates included, plus the ones we care about.
ANY_CHAR = st.characters(exclude_categories=())
NASTY = st.sampled_from(
    ["\x00", "\x1b[31m", "\u202e", "\ufeff", "😀", "👨‍👩‍👧", "订单", "DD202611200001", "'",
     "\"", "\\", "%s", "{0}", "<script>", "\ud800", "\udfff", "\r\n", "13800138001"]
)
TEXT = st.lists(st.one_of(ANY_CHAR, ANY_CHAR, NASTY), max_size=16).map("".join)
HUGE = st.builds(lambda part, times: part * times, st.text(min_size=1, max_size=5),
                 st.integers(5_000, 20_000))
STRINGS = st.one_of(TEXT, TEXT, TEXT, HUGE)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), STRINGS)
JSON = st.recursive(
    SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                     st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=8,
)
CONTENT_TYPES = st.sampled_from([
    None, "application/json", "application/json; charset=latin-1", "text/plain",
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/html",
    "application/octet-stream", "garbage/\u00e9",
])
# Conversation ids: traversal, encodings, very long, anything printable.
IDS = st.one_of(
    st.sampled_from(["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%00", "a/../../b", ".",
                     "x" * 300, "x" * 5000, "default", "' OR '1'='1", "会话😀", "a?b#c"]),
    st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=60),
)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (MB), from /proc."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines()
                          if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total / 1024


def part(value: Any, safe: str = "") -> str:
    """A URL path part; lone surrogates sent as their (invalid) UTF-8 bytes."""
    return urllib.parse.quote(str(value), safe=safe, errors="surrogatepass")


def check(reply: requests.Response, allow_503: bool = False) -> None:
    """The invariants of every answer."""
    event(f"HTTP {reply.status_code}")  # the spread, with --hypothesis-show-statistics
    body = reply.text
    assert "Traceback" not in body and 'File "' not in body, body[:500]
    if reply.status_code == 503 and allow_503:
        # Deliberate: our JSON with a Chinese apology, nothing else.
        assert set(reply.json()) == {"error"}, body[:500]
        return
    assert reply.status_code < 500, f"{reply.status_code}: {body[:500]}"


def send(method: str, url: str, *, body: Any = None, raw: Optional[bytes] = None,
         content_type: Optional[str] = None, headers: Optional[Dict[str, str]] = None,
         params: Optional[Dict[str, str]] = None) -> requests.Response:
    headers = dict(headers or {})
    data = raw
    if raw is None and body is not None:
        data = json.dumps(body).encode()  # NaN and Infinity included: invalid JSON
        headers.setdefault("Content-Type", "application/json")
    if content_type is not None:
        headers["Content-Type"] = content_type
    return requests.request(method, url, data=data, headers=headers, params=params,
                            timeout=60)


@pytest.fixture(scope="module")
def staff_headers(stack: Stack) -> Dict[str, str]:
    login = requests.post(f"{stack.url}/webhooks/console/api/login",
                          json={"username": STAFF_USER, "password": STAFF_PASSWORD}, timeout=30)
    return {"Authorization": f"Bearer {login.json()['token']}"}


@pytest.fixture(scope="module")
def memory(stack: Stack, staff_headers: Dict[str, str]) -> Dict[str, float]:
    """Warms every route up, then samples the Rasa server's memory before the fuzz."""
    pid = stack.rasa.pid  # type: ignore[union-attr]
    stack.texts(f"fuzz-warm-{uuid.uuid4().hex[:8]}", "你好")
    for path in ("/version", "/status", "/conversations/warm/tracker"):
        requests.get(f"{stack.url}{path}", params={"token": TOKEN}, timeout=30)
    requests.post(f"{stack.url}/model/parse", params={"token": TOKEN}, json={"text": "你好"},
                  timeout=30)
    for path in ("queue", "canned", "tickets/999999", "reports"):
        requests.get(f"{stack.url}/webhooks/console/api/{path}", headers=staff_headers,
                     timeout=60)
    return {"before": rss_mb(pid)}


FRESH_SENDER = st.builds(lambda: f"fuzz-{uuid.uuid4().hex[:10]}")
REST_BODIES = st.one_of(
    # Well-formed envelopes with nasty text: these go all the way through the bot.
    st.fixed_dictionaries({"sender": FRESH_SENDER, "message": STRINGS}),
    st.fixed_dictionaries({"sender": FRESH_SENDER, "message": STRINGS}),
    st.fixed_dictionaries({"sender": FRESH_SENDER, "message": st.one_of(STRINGS, JSON)},
                          optional={"metadata": JSON, "input_channel": JSON}),
    st.fixed_dictionaries({"sender": st.one_of(STRINGS, JSON), "message": STRINGS}),
    JSON,
)


@settings(FUZZ, max_examples=150)
@given(body=REST_BODIES)
def test_rest_webhook_with_any_json(stack: Stack, memory: Dict[str, float], body: Any) -> None:
    reply = send("POST", f"{stack.url}/webhooks/rest/webhook", body=body)
    check(reply)
    if reply.status_code == 200:
        messages = reply.json()
        assert isinstance(messages, list) and messages, "a customer was left in silence"
    else:
        # Polite, in Chinese: malformed (400) or over 64 KB (413).
        assert reply.status_code in (400, 413) and reply.json()["error"]


@FUZZ
@given(raw=st.one_of(st.binary(max_size=300), TEXT.map(lambda t: t.encode("utf-8", "replace"))),
       content_type=CONTENT_TYPES)
def test_rest_webhook_with_any_bytes(stack: Stack, memory: Dict[str, float], raw: bytes,
                                     content_type: Optional[str]) -> None:
    check(send("POST", f"{stack.url}/webhooks/rest/webhook", raw=raw,
               content_type=content_type))


API = [  # (method, path template, protected?)
    ("GET", "/status", True),
    ("GET", "/version", False),
    ("GET", "/conversations/{id}/tracker", True),
    ("GET", "/conversations/{id}/story", True),
    ("POST", "/conversations/{id}/messages", True),
    ("POST", "/model/parse", True),
    ("POST", "/conversations/{id}/execute", True),
    ("POST", "/conversations/{id}/trigger_intent", True),
    ("POST", "/conversations/{id}/tracker/events", True),
    ("POST", "/conversations/{id}/predict", True),
]
API_BODIES = st.one_of(
    JSON,
    st.fixed_dictionaries({"text": STRINGS}, optional={"sender": st.just("user"),
                                                       "parse_data": JSON,
                                                       "message_id": JSON}),
    st.fixed_dictionaries({"text": JSON, "sender": JSON}),
    # Only harmless actions: the fuzz must not open tickets in the shared records.
    st.fixed_dictionaries({"name": st.one_of(st.sampled_from(["utter_greet", "action_listen",
                                                              "greet"]), TEXT, JSON)},
                          optional={"policy": JSON, "confidence": JSON, "entities": JSON}),
    st.lists(st.fixed_dictionaries({"event": st.sampled_from(["slot", "user", "bot", "x"])},
                                   optional={"name": JSON, "value": JSON, "text": JSON}),
             max_size=3),
)
TOKENS = st.sampled_from([None, TOKEN, "wrong-token", "", TOKEN + "x"])


@settings(FUZZ, max_examples=200)
@given(endpoint=st.sampled_from(API), conversation=IDS, token=TOKENS, body=API_BODIES,
       raw=st.one_of(st.none(), st.binary(max_size=100)), content_type=CONTENT_TYPES)
def test_http_api_with_garbage(stack: Stack, memory: Dict[str, float],
                               endpoint: Any, conversation: str, token: Optional[str],
                               body: Any, raw: Optional[bytes],
                               content_type: Optional[str]) -> None:
    method, template, protected = endpoint
    path = template.format(id=part(conversation, safe="/%"))
    reply = send(method, f"{stack.url}{path}", body=body if method == "POST" else None,
                 raw=raw if method == "POST" else None, content_type=content_type,
                 params={"token": token} if token is not None else None)
    check(reply)
    if protected and token != TOKEN:
        # Refused: unauthenticated, or malformed (checked before the token, shape only).
        assert reply.status_code in (400, 401, 403, 404, 405, 413), reply.text[:300]


CONSOLE_GETS = ["queue", "canned", "tickets/{n}", "practice", "practice/trainee?name={s}",
                "practice/chart.png?name={s}", "reports/{s}.csv", "reports?since={s}&until={s}"]
CONSOLE_POSTS = ["tickets/{n}/join", "tickets/{n}/reply", "tickets/{n}/note",
                 "tickets/{n}/handback", "tickets/{n}/close", "login"]


@settings(FUZZ, max_examples=100)
@given(route=st.sampled_from(CONSOLE_GETS + CONSOLE_POSTS),
       staff=st.sampled_from(["valid", "none", "forged", "malformed"]),
       # Tickets that do not exist: the fuzz must not change the shared queue.
       number=st.one_of(st.integers(900_000, 10**12), TEXT), word=IDS, body=JSON,
       raw=st.one_of(st.none(), st.binary(max_size=80)), content_type=CONTENT_TYPES)
def test_console_api_with_garbage(stack: Stack, memory: Dict[str, float],
                                  staff_headers: Dict[str, str], route: str, staff: str,
                                  number: Any, word: str, body: Any, raw: Optional[bytes],
                                  content_type: Optional[str]) -> None:
    headers = {"valid": staff_headers, "none": {},
               "forged": {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.forged"},
               "malformed": {"Authorization": "Basic \u00e9\u00e9"}}[staff]
    path = route.format(n=part(number), s=part(word))
    is_post = route in CONSOLE_POSTS
    if route == "login":
        # Never the real account: failed logins must not lock it for the other tests.
        body = body if not isinstance(body, dict) else {**body, "username": word}
    try:
        headers = {k: v.encode("utf-8").decode("latin-1") for k, v in headers.items()}
    except UnicodeError:
        headers = {}
    reply = send("POST" if is_post else "GET", f"{stack.url}/webhooks/console/api/{path}",
                 body=body if is_post else None, raw=raw if is_post else None,
                 content_type=content_type, headers=headers)
    check(reply, allow_503=True)
    if staff != "valid" and route != "login":
        assert reply.status_code in (401, 404, 405, 413), reply.text[:300]


@FUZZ
@given(body=st.one_of(JSON, st.fixed_dictionaries(
    {"session_id": STRINGS, "expected": JSON, "perceived": JSON}, optional={"comment": JSON})),
    raw=st.one_of(st.none(), st.binary(max_size=80)), content_type=CONTENT_TYPES,
    static=IDS)
def test_web_chat_routes_with_garbage(stack: Stack, memory: Dict[str, float], body: Any,
                                      raw: Optional[bytes], content_type: Optional[str],
                                      static: str) -> None:
    check(send("POST", f"{stack.url}/webhooks/chat/rating", body=body, raw=raw,
               content_type=content_type), allow_503=True)
    reply = requests.get(f"{stack.url}/webhooks/chat/static/{part(static, safe='/%')}",
                         timeout=30)
    check(reply)
    if reply.status_code == 200:  # only files of the static folder, never outside it
        assert reply.content[:4] != b"root" and b"PRIVATE KEY" not in reply.content


def test_memory_stays_bounded(stack: Stack, memory: Dict[str, float]) -> None:
    """Runs last in the module (pytest keeps file order): the fuzz above is done."""
    growth = rss_mb(stack.rasa.pid) - memory["before"]  # type: ignore[union-attr]
    print(f"Rasa server RSS {memory['before']:.0f} MB, +{growth:.0f} MB after the fuzz")
    assert growth < MAX_RSS_GROWTH_MB
