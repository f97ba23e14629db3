"""Phone numbers masked and secrets redacted: the functions, the log filter, the
logging file both servers load, and the ticket summaries reports and alerts export."""

from __future__ import annotations

import logging
import logging.config
from typing import Iterator

import pytest
import yaml
from conftest import NOW

from shop import privacy
from shop.config import PROJECT_ROOT
from shop.db import repository
from shop.db.engine import session_scope
from shop.insights import alerts, tickets


@pytest.mark.parametrize(
    "text, masked",
    [
        ("13800138001", "138****8001"),
        ("我的电话是13800138001，谢谢", "我的电话是138****8001，谢谢"),
        ("+86 138-0013-8001", "138****8001"),
        ("8613800138001", "138****8001"),
        ("0086 139 1234 5678", "139****5678"),
        ("１３９１２３４５６７８", "１３９****５６７８"),  # full-width digits
        ("13800138001/15912345678", "138****8001/159****5678"),
        ("phone=19912345678&x=1", "phone=199****5678&x=1"),
        # Not mobile numbers: order numbers, longer digit runs, 12x, short ones.
        ("DD202611200001", "DD202611200001"),
        ("1380013800123", "1380013800123"),
        ("12345678901", "12345678901"),
        ("尾号8001", "尾号8001"),
        ("", ""),
    ],
)
def test_mask_phone(text: str, masked: str) -> None:
    assert privacy.mask_phone(text) == masked


def test_mask_phone_leaves_other_types_alone() -> None:
    assert privacy.mask_phone(None) is None  # type: ignore[arg-type]
    assert privacy.mask_phone(13800138001) == 13800138001  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, clean",
    [
        ("GET /conversations/a/tracker?token=s3cr3t-value&x=1",
         "GET /conversations/a/tracker?token=***&x=1"),
        ("https://api.weixin.qq.com/cgi-bin/x?access_token=ACCESS", "https://api.weixin.qq.com/cgi-bin/x?access_token=***"),  # noqa: E501
        ("Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig", "Authorization: Bearer ***"),
        ('{"username": "小王", "password": "hunter22"}', '{"username": "小王", "password": "***"}'),
        ("{'password': 'hunter22'}", "{'password': '***'}"),
        ("postgresql://shop:pa55word@db:5432/shop", "postgresql://shop:***@db:5432/shop"),
        ("客户13800138001说 token=abc", "客户138****8001说 token=***"),
        ("nothing to hide", "nothing to hide"),
        # Conversation ids: a prefix to match lines by, not the id.
        ("sender_id=5f1c2a9be0d34c7fa1b2c3d4e5f60718 said hi",
         "sender_id=5f1c2a9b… said hi"),
        ("session 5f1c2a9b-e0d3-4c7f-a1b2-c3d4e5f60718 joined", "session 5f1c2a9b-… joined"),
        ("Received message from wechat:oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
         "Received message from wechat:oUpF…"),
        ("wecom:wmAbCdEf1234 ok", "wecom:wmAb… ok"),
        ("order DD202611200001 sha 0123456789abcdef", "order DD202611200001 sha 0123456789abcdef"),
    ],
)
def test_redact(text: str, clean: str) -> None:
    assert privacy.redact(text) == clean


def test_secrets_of_the_environment() -> None:
    environ = {"STAFF_TOKEN_SECRET": "a-long-signing-secret", "RASA_AUTH_TOKEN": "tok-123456",
               "WECHAT_ENCODING_AES_KEY": "k" * 43, "DB_PASSWORD": "short",
               "STAFF_TOKEN_HOURS": "8", "PATH": "/usr/bin:/bin"}
    secrets = privacy.env_secrets(environ)
    assert set(secrets) == {"a-long-signing-secret", "tok-123456", "k" * 43}
    assert privacy.redact("signed with a-long-signing-secret", secrets) == "signed with ***"


def record(msg: object, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("customer 13800138001 not found")
        except ValueError:
            import sys

            exc_info = sys.exc_info()
    return logging.LogRecord("t", logging.INFO, __file__, 1, msg, args or None, exc_info)


def test_filter_masks_message_arguments_and_traceback() -> None:
    secrets = ["the-signing-secret"]
    log_filter = privacy.PrivacyFilter(secrets=secrets)
    plain = record("Received %s from %d", "我的手机13800138001", 7)
    assert log_filter.filter(plain) is True  # never drops a record
    assert plain.getMessage() == "Received 我的手机138****8001 from 7"
    failed = record("Lookup failed with the-signing-secret", exc=True)
    log_filter.filter(failed)
    assert failed.getMessage() == "Lookup failed with ***"
    assert "138****8001" in failed.exc_text and "13800138001" not in failed.exc_text
    # Nothing to mask: the record keeps its arguments (lazy formatting intact).
    untouched = record("%s tickets", 3)
    log_filter.filter(untouched)
    assert untouched.args == (3,)


@pytest.fixture
def record_factory() -> Iterator[None]:
    """Puts the process's log record factory back after the test."""
    previous = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(previous)


def test_install_masks_records_whatever_the_handler(record_factory, caplog) -> None:
    privacy.install(secrets=["e2e-staff-password"])
    privacy.install(secrets=["e2e-staff-password"])  # idempotent: one layer, not two
    with caplog.at_level(logging.INFO, logger="privacy.test"):
        logging.getLogger("privacy.test").info(
            "staff 小王 logged in with %s, customer %s", "e2e-staff-password", "13800138001"
        )
    [line] = caplog.messages
    assert line == "staff 小王 logged in with ***, customer 138****8001"


def test_logging_file_installs_the_filter(record_factory, caplog) -> None:
    config = yaml.safe_load((PROJECT_ROOT / "shop" / "logging.yml").read_text(encoding="utf-8"))
    assert config["disable_existing_loggers"] is False  # Rasa's loggers keep working
    before = logging.getLogRecordFactory()
    logging.config.dictConfig(config)
    assert logging.getLogRecordFactory() is not before
    with caplog.at_level(logging.INFO, logger="privacy.test"):
        logging.getLogger("privacy.test").info("callback to 15912345678")
    assert caplog.messages == ["callback to 159****5678"]


def test_ticket_summaries_leaving_the_console_are_masked(db) -> None:
    with session_scope() as session:
        ticket = repository.tickets.create_ticket(
            session=session, kind="complaint", conversation_id="conv-privacy",
            summary="投诉：快递员态度差，请回电13800138001", customer_id="C001", now=NOW,
        )
        [facts] = tickets.facts_of(session, [ticket])
    assert facts.summary == "投诉：快递员态度差，请回电138****8001"
    # The same facts feed the overdue table (report exports) and the alert webhook.
    late = NOW + (facts.due["respond"] - NOW) * 2
    rows = tickets.overdue_rows([facts], late)
    assert rows and all("13800138001" not in str(row) for row in rows)
    raised = alerts.due_alerts(facts.due["respond"])
    assert raised and "13800138001" not in str(raised[0].payload())
