"""The console's report routes through the real Sanic blueprint (ASGI, no socket):
staff token required, JSON, CSV and PNG, the page and its link."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from dataclasses import replace
from typing import Any, Dict, Iterator, Optional, Tuple

import asgi
import pytest
from sanic import Sanic

from bot.console.channel import StaffConsoleInput
from bot.web import STATIC_DIR
from shop import staff_auth
from shop.config import PROJECT_ROOT, settings
from shop.db import repository
from shop.db.engine import session_scope
from shop.insights import conversations
from shop.staff_auth import StaffDirectory, hash_password

Response = Tuple[int, Dict[str, str], bytes]


@pytest.fixture
def staff_directory(tmp_path, monkeypatch) -> StaffDirectory:
    config = replace(settings, staff_accounts=f"boss:{hash_password('pw', iterations=1000)}",
                     staff_managers=("boss",),
                     staff_token_secret="s" * 40, var_dir=tmp_path / "var",
                     staff_accounts_file=tmp_path / "var" / "staff.yml")
    directory = StaffDirectory(config)
    monkeypatch.setattr(staff_auth, "staff_directory", lambda: directory)
    missing = f"sqlite:///{tmp_path / 'no-tracker.db'}"
    monkeypatch.setattr(conversations, "settings", replace(settings, tracker_store_url=missing))
    return directory


@pytest.fixture
def app(staff_directory) -> Iterator[Sanic]:
    async def on_message(_: Any) -> None:
        return None

    Sanic.test_mode = True
    sanic = Sanic(f"reports_{id(staff_directory)}")
    sanic.blueprint(StaffConsoleInput().blueprint(on_message),
                    url_prefix="/webhooks/console")
    asyncio.run(sanic._startup())  # routes only: no background tasks
    yield sanic
    Sanic._app_registry.pop(sanic.name, None)


def call(app: Sanic, path: str, token: Optional[str] = None) -> Response:
    """One GET through the app's ASGI interface."""
    reply = asgi.request(app, path, token=token)
    return reply.status, reply.headers, reply.body


@pytest.fixture
def token(staff_directory) -> str:
    return staff_directory.login("boss", "pw")


@pytest.fixture
def tickets(db) -> None:
    with session_scope() as session:
        for kind in ("complaint", "complaint", "return"):
            repository.tickets.create_ticket(session=session, kind=kind, conversation_id="c",
                                     summary=kind, customer_id="C001")


API = "/webhooks/console/api/reports"
PATHS = [API, f"{API}/tickets_by_kind.csv", f"{API}/chart/commitments.png"]


@pytest.mark.parametrize("path", PATHS)
def test_reports_need_a_staff_token(app, db, path):
    status, _, body = call(app, path)
    assert status == 401 and "error" in json.loads(body)
    assert call(app, path, token="not-a-token")[0] == 401


def test_report_json(app, tickets, token):
    status, headers, body = call(app, f"{API}?since=2026-11-17&until=2026-11-23", token)
    assert status == 200 and headers["content-type"].startswith("application/json")
    data = json.loads(body)
    assert data["period"] == {"since": "2026-11-17", "until": "2026-11-23",
                              "label": "2026-11-17 至 2026-11-23"}
    rows = {r["kind"]: r["total"] for r in data["tables"]["tickets_by_kind"]["rows"]}
    assert rows == {"complaint": 2, "return": 1}
    assert data["tables"]["tickets_by_kind"]["headers"][0] == "类型代码"
    assert set(data["chart_after"].values()) == set(data["charts"])


def test_report_csv(app, tickets, token):
    status, headers, body = call(app, f"{API}/tickets_by_kind.csv?until=2026-11-23", token)
    assert status == 200
    assert headers["content-type"] == "text/csv; charset=utf-8"
    assert headers["content-disposition"] == 'attachment; filename="tickets_by_kind.csv"'
    assert body.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert parsed[0][:3] == ["类型代码", "名称", "合计"]
    assert parsed[1][:3] == ["complaint", "投诉", "2"]


def test_report_chart(app, tickets, token):
    status, headers, body = call(app, f"{API}/chart/ticket_volume.png", token)
    assert status == 200 and headers["content-type"] == "image/png"
    assert body[:8] == b"\x89PNG\r\n\x1a\n" and len(body) > 5000


@pytest.mark.parametrize(
    "path, status",
    [(f"{API}/no_such_table.csv", 404), (f"{API}/chart/no_such_chart.png", 404),
     (f"{API}?since=2026-99-01", 400), (f"{API}?since=2026-11-24&until=2026-11-23", 400),
     (f"{API}/tickets_by_kind.csv?until=yesterday", 400)],
)
def test_bad_report_requests(app, db, token, path, status):
    code, _, body = call(app, path, token)
    assert code == status and json.loads(body)["error"]


def test_report_page_is_public_and_linked_from_the_console(app):
    status, headers, body = call(app, "/webhooks/console/reports")
    assert status == 200 and "text/html" in headers["content-type"]
    page = body.decode("utf-8")
    # The shared staff API helper first, then the page's script.
    assert 0 < page.index("/static/staff_api.js") < page.index("/webhooks/chat/static/reports.js")
    assert 'href="/webhooks/console/reports"' in (STATIC_DIR / "console.html").read_text(
        encoding="utf-8")


def test_report_script_uses_the_console_token_and_text_only():
    code = (PROJECT_ROOT / "bot" / "web" / "static" / "reports.js").read_text(encoding="utf-8")
    assert "csStaffApi" in code and "textContent" in code
    assert "innerHTML" not in code and "fetch(" not in code  # one wrapper: staff_api.js
    helper = (STATIC_DIR / "staff_api.js").read_text(encoding="utf-8")
    assert "cs_staff_token" in helper and "Bearer" in helper
