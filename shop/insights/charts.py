"""Report charts (matplotlib, Agg, PNG) drawn from the report tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict

from shop.fonts import use_chinese_font
from shop.insights import labels
from shop.insights.tables import Table

# Fixed colours per ticket kind keep the charts comparable week to week.
PALETTE = ["#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    use_chinese_font(plt)
    return plt


def _empty(axis: Any) -> None:
    axis.text(0.5, 0.5, "（无数据）", ha="center", va="center", transform=axis.transAxes)
    axis.set_xticks([])
    axis.set_yticks([])


def ticket_volume(tables: Dict[str, Table], axis: Any) -> None:
    """Stacked daily bars, one colour per ticket kind."""
    table = tables["tickets_per_day"]
    days = [row["period"][5:] for row in table.rows]
    bottom = [0] * len(days)
    kinds = [key for key in table.columns if key not in ("period", "total")]
    for number, kind in enumerate(kinds):
        counts = [row[kind] for row in table.rows]
        axis.bar(days, counts, bottom=bottom, label=labels.kind_name(kind),
                 color=PALETTE[number % len(PALETTE)])
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axis.set_ylabel("工单数")
    # A week without tickets would otherwise get an axis from -0.04 to 0.04.
    axis.set_ylim(0, max([*bottom, 1]) * 1.1)
    axis.legend(loc="upper left", fontsize=8)
    axis.tick_params(axis="x", labelrotation=45, labelsize=8)
    axis.yaxis.get_major_locator().set_params(integer=True)


def commitments(tables: Dict[str, Table], axis: Any) -> None:
    """Share met per kind and commitment (only those with judged tickets)."""
    rows = [row for row in tables["commitments"].rows if row["judged"]]
    if not rows:
        return _empty(axis)
    names = [row["name"] for row in rows][::-1]
    shares = [row["share_met"] * 100 for row in rows][::-1]
    good, warn = (float(labels.reports()["share_met"][k]) * 100 for k in ("good", "warn"))
    colours = ["#16a34a" if s >= good else "#f59e0b" if s >= warn else "#dc2626"
               for s in shares]
    axis.barh(names, shares, color=colours)
    for y, (share, row) in enumerate(zip(shares, rows[::-1], strict=True)):
        axis.text(min(share, 80) + 1, y, f"{share:.0f}%（{row['met']}/{row['judged']}）",
                  va="center", fontsize=8)
    axis.set_xlim(0, 100)
    axis.set_xlabel("达成率 %")


def satisfaction(tables: Dict[str, Table], axis: Any) -> None:
    """The distribution of C over its buckets."""
    rows = tables["satisfaction_distribution"].rows
    if not any(row["ratings"] for row in rows):
        return _empty(axis)
    colours = ["#dc2626", "#f97316", "#f59e0b", "#16a34a", "#2563eb", "#9333ea"]
    axis.bar([row["bucket"] for row in rows], [row["ratings"] for row in rows],
             color=[colours[n % len(colours)] for n in range(len(rows))])
    axis.set_ylabel("评价数")
    axis.tick_params(axis="x", labelrotation=20, labelsize=8)
    axis.yaxis.get_major_locator().set_params(integer=True)


def conversations(tables: Dict[str, Table], axis: Any) -> None:
    """Contained vs handed-off conversations, the handoff reasons beside."""
    [summary] = tables["conversations"].rows
    reasons = tables["handoff_reasons"].rows
    if not summary["conversations"]:
        return _empty(axis)
    names = [labels.column("contained")] + [f"转人工：{row['name']}" for row in reasons]
    counts = [summary["contained"]] + [row["conversations"] for row in reasons]
    colours = ["#16a34a"] + ["#f97316"] * len(reasons)
    axis.barh(names[::-1], counts[::-1], color=colours[::-1])
    axis.set_xlabel("会话数")
    share = summary["containment"] * 100
    axis.set_title(f"{labels.column('containment')} {share:.0f}%", fontsize=10)


CHARTS: Dict[str, Callable[[Dict[str, Table], Any], None]] = {
    "ticket_volume": ticket_volume,
    "commitments": commitments,
    "satisfaction": satisfaction,
    "conversations": conversations,
}


def draw(name: str, tables: Dict[str, Table], path: Path) -> Path:
    """Writes chart `name` as a PNG; KeyError for an unknown chart."""
    painter = CHARTS[name]
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(9, 4.5))
    try:
        painter(tables, axis)
        figure.suptitle(labels.chart_title(name))
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=110)
    finally:
        plt.close(figure)
    return path
