"""Bad requests get a clear 400, unexpected errors a polite JSON answer: never a trace.

Installed on the Rasa server's Sanic app by our channels (`install`, idempotent):

* a request middleware that checks the shape of JSON bodies before Rasa reads them —
  the REST webhook (Rasa's own channel answers 500 to a body that is not an object,
  and stays silent on a message that is not text) and the HTTP API routes whose
  handlers fail with 500 on wrong types (`/model/parse`, `/conversations/<id>/
  messages`, `…/execute`, `…/trigger_intent`, `…/tracker/events`). It runs before
  Rasa's token check, so it looks only at the body's shape (and whether an action
  name exists in the domain) and never at conversation data. Text is cleaned in
  place: lone UTF-16 surrogates become U+FFFD, control characters other than tab
  and newline are dropped (they break the text normalizer and PostgreSQL).
* a size check: a body over 64 KB is refused with 413 and a short Chinese reason on
  every route (Sanic itself refuses over 1 MB, see bot/serve.py);
* a catch-all exception handler: an exception that no route handled is logged and
  answered with a short Chinese JSON error (500) instead of Sanic's page. Sanic's
  own 4xx errors (not found, bad method) keep their usual answer; Rasa's API
  errors keep Rasa's handler.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Callable, Dict, Optional, Tuple

from sanic import response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

# The tracker store's column is VARCHAR(255) (PostgreSQL refuses longer ids).
MAX_CONVERSATION_ID = 255
# A chat message is at most a few KB (the normaliser keeps 1,000 characters); larger
# bodies are refused before anything parses them.
MAX_BODY_BYTES = 64 * 1024
UNEXPECTED = "服务暂时出了点问题，请稍后再试"
TOO_LARGE = "请求内容过大，请缩短后再发送"
NOT_JSON_OBJECT = "请求格式不正确：需要一个 JSON 对象"

_UNPAIRED = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: Any) -> Any:
    """A string without lone surrogates and control characters (others unchanged)."""
    if not isinstance(text, str):
        return text
    return _CONTROL.sub("", _UNPAIRED.sub("\ufffd", text))


# Conversation ids other channels own (bot/channels/wechat: SENDER_PREFIX).
OTHER_CHANNEL_PREFIXES = ("wechat:", "wecom:")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def rest_problem(body: Any) -> Optional[str]:
    """Why a REST webhook body is refused (None: fine). Cleans it in place.

    A number as message is taken as its text (8001 → "8001"): JSON clients send
    digits either way.
    """
    if not isinstance(body, dict):
        return NOT_JSON_OBJECT
    sender = body.get("sender")
    # Without a sender Rasa files every caller under "default": one shared conversation.
    if not isinstance(sender, str) or not sender.strip():
        return "缺少会话编号（sender）"
    if len(sender) > MAX_CONVERSATION_ID or clean_text(sender) != sender:
        return "会话编号格式不正确"
    if sender.lower().startswith(OTHER_CHANNEL_PREFIXES):
        # REST must not write into (or read the replies of) a WeChat/WeCom conversation.
        return "会话编号不可用：该编号属于其他渠道"
    message = body.get("message")
    if _is_number(message):
        body["message"] = str(message)
    elif message is not None and not isinstance(message, str):
        return "消息内容需为文字"
    else:
        body["message"] = clean_text(message)
    if body.get("metadata") is not None and not isinstance(body["metadata"], dict):
        return "metadata 需为 JSON 对象"
    if body.get("input_channel") is not None and not isinstance(body["input_channel"], str):
        return "input_channel 需为文字"
    return None


# Rasa HTTP API routes (POST) → required and optional fields with their types.
_STR, _DICT, _NUM = "str", "dict", "number"
_API_FIELDS: Dict[str, Dict[str, Tuple[str, bool]]] = {
    "model/parse": {"text": (_STR, True), "message_id": (_STR, False)},
    "conversations/<conversation_id:path>/messages": {
        "text": (_STR, True), "sender": (_STR, True), "parse_data": (_DICT, False),
    },
    "conversations/<conversation_id:path>/execute": {
        "name": (_STR, True), "policy": (_STR, False), "confidence": (_NUM, False),
    },
    "conversations/<conversation_id:path>/trigger_intent": {
        "name": (_STR, True), "entities": (_DICT, False), "output_channel": (_STR, False),
    },
}
_CHECKS: Dict[str, Callable[[Any], bool]] = {
    _STR: lambda v: isinstance(v, str),
    _DICT: lambda v: isinstance(v, dict),
    _NUM: _is_number,
}
_EVENTS = "conversations/<conversation_id:path>/tracker/events"


def _is_parse_data(parse: Any) -> bool:
    """A parse Rasa can use instead of its NLU: an intent with a name, a list of
    entities if any (found by tests/e2e/test_fuzz.py as a 500)."""
    intent = parse.get("intent") if isinstance(parse, dict) else None
    entities = parse.get("entities", []) if isinstance(parse, dict) else None
    return (isinstance(intent, dict) and isinstance(intent.get("name"), str)
            and isinstance(entities, list) and all(isinstance(e, dict) for e in entities))


def api_problem(route: str, body: Any, actions: Optional[Any] = None) -> Optional[str]:
    """Why a body for the Rasa API route `route` is refused (None: fine or not ours).

    `actions` are the domain's action names, for `…/execute` (None: not checked).
    Cleans text in place.
    """
    if route == _EVENTS:
        if isinstance(body, list) and not body:
            return "Expected at least one event."
        return None  # Rasa validates events against its schema itself
    fields = _API_FIELDS.get(route)
    if fields is None:
        return None
    if not isinstance(body, dict):
        return "Expected a JSON object."
    for name, (kind, required) in fields.items():
        value = body.get(name)
        if value is None and not required:
            continue
        if not _CHECKS[kind](value):
            return f"Parameter '{name}' must be of type {kind}."
    parse = body.get("parse_data")
    if parse is not None and not _is_parse_data(parse):
        # Rasa skips its NLU for a given parse and then reads parse_data["intent"].
        return "Parameter 'parse_data' needs an 'intent' object with a 'name'."
    if "text" in fields:
        body["text"] = clean_text(body["text"])
    if route.endswith("/execute") and actions is not None and body["name"] not in actions:
        return f"Action '{body['name'][:100]}' does not exist in the domain."
    return None


def _route_path(request: Request) -> str:
    route = getattr(request, "route", None)
    return str(getattr(route, "path", "") or "").strip("/")


def _body(request: Request) -> Tuple[bool, Any]:
    """(parsed?, JSON body)."""
    try:
        return True, request.json
    except Exception:  # not JSON, or not UTF-8
        return False, None


def _api_error(message: str) -> HTTPResponse:
    """A 400 in the shape of Rasa's own API errors."""
    return response.json({"status": "failure", "reason": "BadRequest", "message": message,
                          "details": {}, "help": None, "code": 400}, status=400)


def _too_large(request: Request) -> bool:
    declared = request.headers.get("content-length", "")
    size = int(declared) if declared.isdigit() else len(request.body or b"")
    return size > MAX_BODY_BYTES


async def check_request(request: Request) -> Optional[HTTPResponse]:
    """Request middleware: refuses oversized bodies (413) on every route and malformed
    bodies of the routes listed above (400)."""
    try:
        if _too_large(request):
            logger.info("Refused a request body over %d bytes on %s", MAX_BODY_BYTES,
                        request.path)
            return response.json({"error": TOO_LARGE}, status=413)
        route = _route_path(request)
        conversation_id = (request.match_info or {}).get("conversation_id")
        if conversation_id is not None and len(conversation_id) > MAX_CONVERSATION_ID:
            return _api_error(f"Conversation ids are at most {MAX_CONVERSATION_ID} characters.")
        if request.method != "POST":
            return None
        if route == "webhooks/rest/webhook":
            parsed, body = _body(request)
            problem = rest_problem(body) if parsed else NOT_JSON_OBJECT
            if problem:
                logger.info("Refused a REST webhook request: %s", problem)
                return response.json({"error": problem}, status=400)
        elif route in _API_FIELDS or route == _EVENTS:
            parsed, body = _body(request)
            agent = getattr(request.app.ctx, "agent", None)
            domain = getattr(agent, "domain", None)
            actions = domain.action_names_or_texts if domain is not None else None
            problem = api_problem(route, body, actions) if parsed else "Body is not valid JSON."
            if problem:
                logger.info("Refused an API request to %s: %s", route, problem)
                return _api_error(problem)
    except Exception:  # the check itself must never break a request
        logger.exception("Request check failed for %s", request.path)
    return None


def on_error(request: Request, exception: Exception) -> HTTPResponse:
    """Exception handler of last resort: a polite JSON error, the trace in the log."""
    status = getattr(exception, "status_code", 500) if isinstance(exception, SanicException) \
        else 500
    if status == 413:  # over Sanic's own REQUEST_MAX_SIZE (bot/serve.py)
        logger.info("Refused a request body over the size limit on %s", request.path)
        return response.json({"error": TOO_LARGE}, status=413)
    if isinstance(exception, SanicException) and status < 500:
        return request.app.error_handler.default(request, exception)
    logger.error("Unhandled error on %s %s", request.method, request.path,
                 exc_info=(type(exception), exception, exception.__traceback__))
    return response.json({"error": UNEXPECTED}, status=status)


def install(app: Any) -> None:
    """Adds the middleware and the handler to the Sanic app once."""
    if getattr(app.ctx, "errors_installed", False):
        return
    app.ctx.errors_installed = True
    app.register_middleware(check_request, "request")
    app.error_handler.add(Exception, on_error)


def installer(app: Any, _loop: Any) -> None:
    """A `before_server_start` listener for a channel's blueprint."""
    install(app)
