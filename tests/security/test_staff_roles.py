"""A logged-in agent tries the manager's pages (reports, exports, the audit log), and
every look at a customer's conversation ends up in the audit log with who, what and
from where — against the real Rasa server of the stack, over HTTP."""

from __future__ import annotations

import uuid
from typing import Any, Dict

import requests

from bench.stack import AGENT_USER, STAFF_PASSWORD, STAFF_USER, Stack

CONSOLE = "/webhooks/console/api"


def login(stack: Stack, name: str, client: str) -> Dict[str, str]:
    response = requests.post(f"{stack.url}{CONSOLE}/login", timeout=30,
                             json={"username": name, "password": STAFF_PASSWORD},
                             headers={"X-Forwarded-For": client})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}", "X-Forwarded-For": client}


def get(stack: Stack, path: str, headers: Dict[str, str]) -> requests.Response:
    return requests.get(f"{stack.url}{CONSOLE}{path}", headers=headers, timeout=60)


def test_an_agent_cannot_read_reports_exports_or_the_audit_log(stack: Stack) -> None:
    agent = login(stack, AGENT_USER, "203.0.113.21")
    for path in ("/reports", "/reports/tickets_by_kind.csv", "/reports/chart/commitments.png",
                 "/audit"):
        refused = get(stack, path, agent)
        assert refused.status_code == 403, path
        assert "主管" in refused.json()["error"]
    export = requests.post(f"{stack.url}{CONSOLE}/review/export", headers=agent, timeout=30)
    assert export.status_code == 403
    # The manager's token opens the same pages.
    assert get(stack, "/reports/tickets_by_kind.csv", login(stack, STAFF_USER,
                                                            "203.0.113.20")).status_code == 200


def test_an_agents_look_at_a_conversation_is_in_the_managers_audit_log(stack: Stack) -> None:
    customer = f"sec-audit-{uuid.uuid4().hex[:8]}"
    assert stack.texts(customer, "转人工")  # a handoff ticket for staff to open
    agent = login(stack, AGENT_USER, "203.0.113.22")
    queue = get(stack, "/queue", agent).json()["tickets"]
    ticket: Dict[str, Any] = next(t for t in queue if t["conversation_id"] == customer)
    opened = get(stack, f"/tickets/{ticket['id']}", agent)
    assert opened.status_code == 200 and opened.json()["transcript"]

    manager = login(stack, STAFF_USER, "203.0.113.20")
    log = get(stack, f"/audit?staff={AGENT_USER}&action=view_conversation", manager).json()
    entry = next(e for e in log["entries"] if e["target"].startswith(f"工单 #{ticket['id']} "))
    assert (entry["staff"], entry["role"], entry["address"]) == (AGENT_USER, "agent",
                                                                 "203.0.113.22")
    # The manager's own look at the log is recorded too.
    assert get(stack, "/audit?action=view_audit", manager).json()["total"] >= 1
