"""Report tables: one shape for report.md, CSV (Excel-friendly) and the JSON API."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List

from shop.insights import labels

# Excel only recognises UTF-8 (and so Chinese) with a byte-order mark.
CSV_ENCODING = "utf-8-sig"


@dataclass
class Table:
    """Rows of plain values under column keys; headers are Chinese labels."""

    name: str
    columns: List[str]
    rows: List[Dict[str, Any]] = field(default_factory=list)
    # Headers of columns that are not in the label file (e.g. one per ticket kind).
    extra_headers: Dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return labels.table_title(self.name)

    def headers(self) -> List[str]:
        return [self.extra_headers.get(key) or labels.column(key) for key in self.columns]

    def values(self) -> List[List[Any]]:
        return [[row.get(key) for key in self.columns] for row in self.rows]

    def as_json(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": self.columns,
            "headers": self.headers(),
            "rows": self.rows,
        }


# A text cell starting with one of these is a formula to Excel and LibreOffice
# (=HYPERLINK(…), +cmd|…, @SUM(…)): customers' words reach ticket summaries, so such
# a cell is written with a leading apostrophe and shown as the text it is.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return str(value)


def csv_text(table: Table) -> str:
    """The table as CSV text (header row first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.headers())
    for row in table.values():
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue()


def csv_bytes(table: Table) -> bytes:
    """The CSV as Excel opens it: UTF-8 with a byte-order mark."""
    return csv_text(table).encode(CSV_ENCODING)


def write_csv(table: Table, folder: Path) -> Path:
    """Writes `<folder>/<name>.csv`."""
    path = folder / f"{table.name}.csv"
    path.write_bytes(csv_bytes(table))
    return path


def markdown(table: Table, empty: str = "（无数据）") -> str:
    """A Markdown table (pipes in cells escaped)."""
    if not table.rows:
        return empty

    def clean(value: Any) -> str:
        return _cell(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(clean(h) for h in table.headers()) + " |",
             "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(clean(v) for v in row) + " |" for row in table.values()]
    return "\n".join(lines)
