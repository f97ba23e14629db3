"""Personal data and secrets out of logs and exports.

`mask_phone` hides the middle of mainland mobile numbers (13800138001 →
138****8001), the form customers know from receipts. `redact` additionally hides
secrets: the values of this process's secret environment variables, `token=` /
`password=` query parameters, `Bearer` tokens, `"password": "…"` fields and
passwords inside database URLs, and shortens conversation ids (web chat session ids,
WeChat openids) to a prefix.

Both servers load shop/logging.yml (`--logging-config-file`). Rasa and rasa-sdk
replace the root handlers after reading that file (coloredlogs, --log-file), so a
filter attached to a handler would be dropped; `install()` — called when the file
is read — therefore masks every log record where it is created, through the
record factory, whichever handler ends up writing it.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any, Callable, Iterable, List, Mapping, Optional

# Half-width and full-width digits (Chinese input methods produce both).
_D = "[0-9０-９]"
_PHONE = re.compile(
    rf"(?<![0-9０-９])(?:(?:\+|00)?86[-\s]?)?"
    rf"([1１][3-9３-９]{_D})[-\s]?({_D}{{4}})[-\s]?({_D}{{4}})(?![0-9０-９])"
)
_PATTERNS = [
    # ?token=…, &access_token=…, password=… (URLs, form bodies, reprs)
    (re.compile(r"(?i)\b((?:\w*token|password|passwd|\w*secret)=)[^&\s'\"]+"), r"\1***"),
    # "password": "…", 'token': '…' (JSON and dict reprs)
    (re.compile(r"(?i)((?:\w*token|password|passwd|\w*secret)[\"']?\s*[:=]\s*[\"'])[^\"']*([\"'])"),
     r"\1***\2"),
    (re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]+"), r"\1***"),
    # scheme://user:password@host
    (re.compile(r"(://[^/:@\s]+:)[^@\s/]+@"), r"\1***@"),
    # Conversation ids: web chat sessions (32 hex, or a UUID) and WeChat/WeCom users
    # (the openid is personal data) keep a prefix to match log lines by, no more.
    (re.compile(r"(?<![0-9a-fA-F])([0-9a-f]{8})[0-9a-f]{24}(?![0-9a-fA-F])"), r"\1…"),
    (re.compile(r"(?<![0-9a-fA-F-])([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                r"[0-9a-f]{12}(?![0-9a-fA-F])"), r"\1-…"),
    (re.compile(r"\b((?:wechat|wecom):[\w-]{4})[\w-]{4,}"), r"\1…"),
]
# Environment variables whose values are secrets (by the end of their name).
_SECRET_NAMES = re.compile(r"(?i)(SECRET|TOKEN|PASSWORD|AES_KEY|API_KEY)$")
# Shorter values would mask ordinary words.
MIN_SECRET_LENGTH = 8
_REDACTED = "***"


def mask_phone(text: str) -> str:
    """`text` with every mainland mobile number shown as 138****8001."""
    if not isinstance(text, str):
        return text
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def env_secrets(environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """Secret values of the environment (e.g. STAFF_TOKEN_SECRET, RASA_AUTH_TOKEN)."""
    environ = os.environ if environ is None else environ
    values = {
        value for name, value in environ.items()
        if _SECRET_NAMES.search(name) and len(value) >= MIN_SECRET_LENGTH
    }
    return sorted(values, key=len, reverse=True)  # a longer secret first


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with phone numbers masked and secrets replaced by ***."""
    if not isinstance(text, str):
        return text
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, _REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return mask_phone(text)


_formatter = logging.Formatter()


def scrub(record: logging.LogRecord, secrets: Iterable[str] = ()) -> logging.LogRecord:
    """Masks a log record in place: its message (with arguments), traceback, stack."""
    secrets = list(secrets)
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: logging reports it, untouched
        message = None
    if message is not None:
        clean = redact(message, secrets)
        if clean != message:
            record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = _formatter.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text, secrets)
    if record.stack_info:
        record.stack_info = redact(record.stack_info, secrets)
    return record


class PrivacyFilter(logging.Filter):
    """A logging filter that masks phone numbers and secrets; never drops a record."""

    def __init__(self, name: str = "", secrets: Optional[Iterable[str]] = None) -> None:
        super().__init__(name)
        self.secrets = env_secrets() if secrets is None else list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        scrub(record, self.secrets)
        return True


def install(secrets: Optional[Iterable[str]] = None) -> PrivacyFilter:
    """Masks every log record of this process from now on (idempotent).

    Referenced from shop/logging.yml as a filter factory, so reading the file is
    enough; returns the filter for handlers that want it as well.
    """
    privacy = PrivacyFilter(secrets=secrets)
    current: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
    inner = getattr(current, "_privacy_inner", current)

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = inner(*args, **kwargs)
        try:
            return scrub(record, privacy.secrets)
        except Exception:  # masking must never break the code that logs
            return record

    factory._privacy_inner = inner  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
    return privacy
