"""Report labels and thresholds from `knowledge/reports.yml` (and the commitments)."""

from __future__ import annotations

from typing import Any, Dict, List

from shop import knowledge

COMMITMENTS = ("respond", "resolve", "callback")


def reports() -> Dict[str, Any]:
    """The parsed `knowledge/reports.yml`."""
    return knowledge.load("reports")


def table_title(name: str) -> str:
    """The Chinese heading of a table."""
    return str(reports()["tables"].get(name, name))


def chart_title(name: str) -> str:
    """The Chinese title of a chart."""
    return str(reports()["charts"].get(name, name))


def column(key: str) -> str:
    """The Chinese header of a column key."""
    return str(reports()["columns"].get(key, key))


def kinds() -> List[str]:
    """Ticket kinds in the commitments' order."""
    return list(knowledge.commitments()["tickets"])


def kind_name(kind: str) -> str:
    """投诉 for `complaint`."""
    return str(knowledge.commitments()["tickets"].get(kind, {}).get("name", kind))


def commitment_name(commitment: str) -> str:
    """首次响应（日落原则） for `respond`."""
    return str(reports()["commitments"][commitment]["name"])


def tier_name(tier: str) -> str:
    """A 类（重点客户） for `A`; `none` for an unknown customer."""
    return str(reports()["tiers"].get(tier, tier))


def status_name(status: str) -> str:
    """待处理 for `open`."""
    return str(reports()["status_names"].get(status, status))


def open_statuses() -> List[str]:
    """Statuses of tickets still to do."""
    return list(reports()["open_statuses"])


def objection_type_name(key: str) -> str:
    """价格异议 for `price`."""
    names = {t["key"]: t["name"] for t in knowledge.objections()["types"]}
    return str(names.get(key, key))


def technique_name(key: str) -> str:
    """补偿法 for `compensation`."""
    names = {t["key"]: t["name"] for t in knowledge.objections()["techniques"]}
    return str(names.get(key, key))


def handoff_reason_name(key: str) -> str:
    """The handoff reason's wording with counts left open (连续N次未能理解客户)."""
    reasons = knowledge.commitments()["tickets"]["handoff"]["reasons"]
    if key not in reasons:
        return str(reports()["conversations"]["unknown_reason"])
    return str(reasons[key]).replace("{count}", "N")
