"""The manager report: every table of a period, as report.md + CSV + PNG, or as JSON
for the staff console.

`python -m shop.insights.manager_report [--since YYYY-MM-DD] [--until YYYY-MM-DD]
[--out results/report]` — the default period is the last 7 days up to today.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from shop import deadlines
from shop.config import PROJECT_ROOT
from shop.db.engine import create_schema
from shop.insights import charts, conversations, labels, satisfaction, tickets
from shop.insights.period import Period, make_period
from shop.insights.tables import Table, markdown, write_csv
from shop.insights.tables import csv_bytes as _csv_bytes

logger = logging.getLogger(__name__)

# Where each table goes in report.md (the overdue list on top).


def sections() -> List[Tuple[str, List[str]]]:
    """The report's sections in order: heading, table names (knowledge/reports.yml)."""
    return [(str(section["title"]), [str(name) for name in section["tables"]])
            for section in labels.reports()["sections"]]


CHART_AFTER = {"commitments": "commitments", "tickets_per_day": "ticket_volume",
               "satisfaction_distribution": "satisfaction", "handoff_reasons": "conversations"}


@dataclass
class Report:
    period: Period
    generated_at: datetime
    tables: Dict[str, Table]
    conversations_read: bool

    def as_json(self) -> Dict[str, Any]:
        return {
            "period": {"since": self.period.since.isoformat(),
                       "until": self.period.until.isoformat(), "label": self.period.label()},
            "generated_at": deadlines.to_local(self.generated_at).isoformat(timespec="seconds"),
            "title": labels.reports()["title"],
            "conversations_read": self.conversations_read,
            "sections": [{"title": title, "tables": names} for title, names in sections()],
            "tables": {name: table.as_json() for name, table in self.tables.items()},
            "charts": {name: labels.chart_title(name) for name in charts.CHARTS},
            "chart_after": CHART_AFTER,
        }


def build(period: Period, now: Optional[datetime] = None,
          tracker_url: Optional[str] = None) -> Report:
    """Computes every table of the period (the overdue list as of `now`)."""
    now = now or deadlines.utcnow()
    tables: List[Table] = tickets.ticket_tables(period, now)
    tables += satisfaction.satisfaction_tables(satisfaction.load_ratings(period), period)
    stats, read = conversations.load_stats(period, tracker_url)
    tables += conversations.conversation_tables(stats)
    return Report(period, now, {table.name: table for table in tables}, read)


def render_markdown(report: Report, chart_files: Dict[str, str]) -> str:
    """report.md: Chinese headings, the overdue list first, charts next to their tables."""
    lines = [f"# {labels.reports()['title']}",
             "",
             f"统计区间：{report.period.label()}（生成于 "
             f"{deadlines.format_local(report.generated_at)}）",
             ""]
    if not report.conversations_read:
        lines += ["> 注意：未能读取会话记录（tracker store），会话分析为空。", ""]
    for title, names in sections():
        lines += [f"## {title}", ""]
        for name in names:
            table = report.tables[name]
            lines += [f"### {table.title}", "", markdown(table), "",
                      f"[CSV]({name}.csv)", ""]
            chart = CHART_AFTER.get(name)
            if chart and chart in chart_files:
                lines += [f"![{labels.chart_title(chart)}]({chart_files[chart]})", ""]
    return "\n".join(lines)


def write(report: Report, out: Path) -> List[Path]:
    """Writes report.md, one CSV per table and the PNG charts into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written = [write_csv(table, out) for table in report.tables.values()]
    chart_files = {}
    for name in charts.CHARTS:
        written.append(charts.draw(name, report.tables, out / f"{name}.png"))
        chart_files[name] = f"{name}.png"
    path = out / "report.md"
    path.write_text(render_markdown(report, chart_files), encoding="utf-8")
    return [path, *written]


# ------------------------------------------------------------- console helpers


CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "png": "image/png"}


def export(
    form: str, name: str = "", since: Optional[str] = None, until: Optional[str] = None
) -> Any:
    """The report of a period as JSON (`form` json), one table as CSV bytes or one chart
    as PNG bytes. KeyError for an unknown table or chart, ValueError for a bad period."""
    period = make_period(since, until)
    if form == "png" and name not in charts.CHARTS:
        raise KeyError(name)
    report = build(period)
    if form == "json":
        return report.as_json()
    if form == "csv":
        return _csv_bytes(report.tables[name])
    if form == "png":
        with tempfile.TemporaryDirectory() as folder:
            return charts.draw(name, report.tables, Path(folder) / "chart.png").read_bytes()
    raise KeyError(form)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="客服经营报告（工单、满意度、会话）")
    parser.add_argument("--since", help="开始日期 YYYY-MM-DD（默认：最近 7 天）")
    parser.add_argument("--until", help="结束日期 YYYY-MM-DD（含当天，默认今天）")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "results" / "report",
                        help="输出文件夹")
    args = parser.parse_args(argv)
    try:
        period = make_period(args.since, args.until)
    except ValueError as error:
        parser.error(str(error))
    create_schema()
    report = build(period)
    files = write(report, args.out)
    overdue = len(report.tables["overdue"].rows)
    print(f"{labels.reports()['title']}：{period.label()}，{len(files)} 个文件 → {args.out}")
    print(f"报告：{files[0]}；已超时/即将超时：{overdue} 项")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
