"""The review queue in the staff console, through the real Sanic blueprint (ASGI, no
socket): token required, list with filters, label, scan, export, re-check, the page."""

from __future__ import annotations

import shutil
from dataclasses import replace
from typing import Any, Dict, Optional, Tuple

import asgi
import pytest
from conftest import NOW
from sanic import Sanic
from test_insights_console import app, staff_directory, token  # noqa: F401

from bot.web import STATIC_DIR
from shop.config import PROJECT_ROOT, settings
from shop.db import repository
from shop.db.engine import session_scope
from shop.review import export as exporting
from shop.review import recheck as rechecking
from shop.review import scan as scanning

API = "/webhooks/console/api/review"


def call(app: Sanic, path: str, token: Optional[str] = None, method: str = "GET",  # noqa: F811
         body: Optional[Dict[str, Any]] = None) -> Tuple[int, Dict[str, Any]]:
    """One request through the app's ASGI interface; the JSON answer."""
    reply = asgi.request(app, path, method=method, token=token, body=body)
    if "application/json" not in reply.headers.get("content-type", ""):
        return reply.status, {"_raw": reply.body.decode("utf-8")}
    return reply.status, reply.json()


def queue_item(text: str, reason: str = "nlu_fallback", event_id: int = 1,
               status: str = "new") -> int:
    with session_scope() as session:
        item = repository.review.add_review_item(
            session=session, conversation_id="c1", event_id=event_id, text=text,
            reason=reason, created_at=NOW, predicted_intent="complain", confidence=0.19,
            context={"bot_before": "您好", "bot_reply": "没太理解", "customer_next": None})
        if status != "new":
            repository.review.label_review_item(session=session, item=item, label="after_sales",
                                         staff="王客服")
        if status == "exported":
            repository.review.mark_review_exported(session=session, notes={item.id: "x"})
        return item.id


ROUTES = [("GET", API), ("POST", f"{API}/1/label"), ("POST", f"{API}/scan"),
          ("POST", f"{API}/export"), ("GET", f"{API}/recheck"), ("POST", f"{API}/recheck")]


@pytest.mark.parametrize("method, path", ROUTES)
def test_review_routes_need_a_staff_token(app, db, method, path):  # noqa: F811
    status, body = call(app, path, method=method, body={"label": "greet"})
    assert status == 401 and body["error"]
    assert call(app, path, token="forged", method=method)[0] == 401


def test_list_with_filters_and_label_choices(app, db, token):  # noqa: F811
    first = queue_item("热水器打不着火")
    queue_item("买完第二天就降价了 退差价", "low_confidence", 2)
    queue_item("以前的", "asked_human", 3, status="exported")
    status, body = call(app, API, token)
    assert status == 200
    assert [i["text"] for i in body["items"]] == [
        "热水器打不着火", "买完第二天就降价了 退差价", "以前的"]
    assert body["counts"] == {"new": 2, "labelled": 0, "exported": 1}
    item = body["items"][0]
    assert item["id"] == first and item["reason_name"] == "未能理解（兜底回复）"
    assert item["context"] == {"bot_before": "您好", "bot_reply": "没太理解",
                               "customer_next": None}
    assert item["predicted_name"] == "投诉" and item["confidence"] == 0.19
    keys = [choice["key"] for choice in body["labels"]]
    assert "after_sales" in keys and "faq/invoice" in keys and keys[-1] == "new_topic"
    assert {c["key"]: c["name"] for c in body["labels"]}["new_topic"] == "新话题"
    status, body = call(app, f"{API}?status=new&reason=low_confidence", token)
    assert [i["text"] for i in body["items"]] == ["买完第二天就降价了 退差价"]
    status, body = call(app, f"{API}?status=new,exported&limit=1&offset=1", token)
    assert [i["text"] for i in body["items"]] == ["买完第二天就降价了 退差价"]
    for bad in ("status=done", "reason=x", "limit=0", "limit=abc"):
        status, body = call(app, f"{API}?{bad}", token)
        assert status == 400 and body["error"], bad


def test_label_an_item(app, db, token, clock):  # noqa: F811
    item_id = queue_item("热水器打不着火")
    status, body = call(app, f"{API}/{item_id}/label", token, "POST", {"label": "after_sales"})
    assert status == 200
    assert body["item"]["status"] == "labelled" and body["item"]["label"] == "after_sales"
    assert body["item"]["label_name"] == "维修/安装/售后"
    assert body["item"]["labelled_by"] == "boss"
    with session_scope() as session:
        stored = repository.review.get_review_item(session=session, item_id=item_id)
        assert (stored.status, stored.label, stored.labelled_by, stored.labelled_at) == (
            "labelled", "after_sales", "boss", NOW)
    # It may be changed until exported; new_topic is a label too.
    status, body = call(app, f"{API}/{item_id}/label", token, "POST", {"label": "new_topic"})
    assert status == 200 and body["item"]["label_name"] == "新话题"


@pytest.mark.parametrize("label, item, expected", [
    ("not_an_intent", "new", 400), ("practice", "new", 400), ("", "new", 400),
    ("greet", "missing", 404), ("greet", "exported", 409)])
def test_bad_labels(app, db, token, label, item, expected):  # noqa: F811
    item_id = 999 if item == "missing" else queue_item("某句话", status=item)
    status, body = call(app, f"{API}/{item_id}/label", token, "POST", {"label": label})
    assert status == expected and body["error"]


def test_scan_from_the_console(app, store, token, monkeypatch):  # noqa: F811
    monkeypatch.setattr(scanning, "settings", replace(settings, tracker_store_url=store["url"]))
    status, body = call(app, f"{API}/scan", token, "POST")
    assert status == 200 and body["queued"] == 3
    assert call(app, f"{API}/scan", token, "POST")[1]["queued"] == 0
    assert len(call(app, API, token)[1]["items"]) == 3


def test_export_from_the_console(app, db, token, tmp_path, monkeypatch):  # noqa: F811
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    monkeypatch.setattr(exporting, "DATA_DIR", data)
    monkeypatch.setattr(exporting, "TOPICS_FILE", tmp_path / "topics.md")
    item_id = queue_item("热水器打不着火")
    call(app, f"{API}/{item_id}/label", token, "POST", {"label": "after_sales"})
    status, body = call(app, f"{API}/export", token, "POST")
    assert status == 200 and body["exported"] == 1
    assert body["written"] == {"nlu/after_sales.yml": [
        {"label": "after_sales", "text": "热水器打不着火"}]}
    assert (data / "nlu" / "after_sales.yml").read_text(encoding="utf-8").endswith(
        "- intent: after_sales\n  examples: |\n    - 热水器打不着火\n")
    assert call(app, f"{API}?status=exported", token)[1]["items"][0]["export_note"] == (
        "nlu/after_sales.yml")


class FakeAgent:
    model_name = "fake.tar.gz"

    async def parse_message(self, text: str) -> Dict[str, Any]:
        if text == "发票开错了要重开":
            return {"intent": {"name": "faq", "confidence": 0.9,
                               "full_retrieval_intent_name": "faq/invoice"}}
        return {"intent": {"name": "nlu_fallback", "confidence": 0.45}}


def test_recheck_with_the_running_model(app, db, token, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(rechecking, "RECHECK_FILE", tmp_path / "recheck.json")
    assert call(app, f"{API}/recheck", token)[0] == 404
    for number, (text, label) in enumerate([("发票开错了要重开", "faq/invoice"),
                                            ("热水器打不着火", "after_sales")]):
        item_id = queue_item(text, event_id=number + 1)
        call(app, f"{API}/{item_id}/label", token, "POST", {"label": label})
    app.ctx.agent = FakeAgent()
    status, body = call(app, f"{API}/recheck", token, "POST")
    assert status == 200 and body["total"] == 2 and body["fixed"] == 1
    assert body["model"] == "fake.tar.gz"
    assert [(r["text"], r["now"], r["fixed"]) for r in body["rows"]] == [
        ("发票开错了要重开", "faq/invoice", True), ("热水器打不着火", "nlu_fallback", False)]
    assert body["table"]["headers"][:3] == ["编号", "客户原话", "标注意图"]
    assert call(app, f"{API}/recheck", token) == (200, body)


def test_review_page_is_public_and_linked_from_the_console(app):  # noqa: F811
    status, body = call(app, "/webhooks/console/review")
    assert status == 200 and "/webhooks/chat/static/review.js" in body["_raw"]
    assert body["_raw"].index("/static/staff_api.js") < body["_raw"].index("/static/review.js")
    assert 'href="/webhooks/console/review"' in (STATIC_DIR / "console.html").read_text(
        encoding="utf-8")


def test_review_script_uses_the_console_token_and_text_only():
    code = (STATIC_DIR / "review.js").read_text(encoding="utf-8")
    assert "csStaffApi" in code and "textContent" in code
    assert "innerHTML" not in code and "fetch(" not in code  # one wrapper: staff_api.js
