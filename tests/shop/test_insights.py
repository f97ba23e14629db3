"""Manager reports on hand-built records with known answers: ticket volume, service
commitments and the overdue list, satisfaction C = perceived / expected, the files."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, datetime
from typing import Any, Dict, List, Optional

import matplotlib.pyplot as plt
import pytest
from conftest import NOW

from shop import knowledge
from shop.config import settings
from shop.db import repository
from shop.db.engine import session_scope
from shop.db.models import Rating
from shop.insights import labels, manager_report, satisfaction, tables, tickets
from shop.insights.period import Period, iso_week, make_period
from shop.insights.tables import Table

# NOW is Monday 2026-11-23 12:00 in Shanghai; the period is the week up to it.
PERIOD = Period(date(2026, 11, 17), date(2026, 11, 23))
GL30 = next(p["name"] for p in knowledge.catalogue()["products"] if p["sku"] == "AC-GL-30")


@pytest.fixture(autouse=True)
def _no_tracker_store(monkeypatch, tmp_path) -> None:
    """Conversation figures never read the developer's var/tracker.db here."""
    missing = f"sqlite:///{tmp_path / 'no-tracker.db'}"
    monkeypatch.setattr(manager_report.conversations, "settings",
                        replace(settings, tracker_store_url=missing))


def utc(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A naive-UTC moment in November 2026."""
    return datetime(2026, month, day, hour, minute)


def ticket(kind: str, created: datetime, customer: Optional[str] = None,
           order_no: Optional[str] = None, summary: str = "") -> int:
    with session_scope() as session:
        return repository.tickets.create_ticket(
            session=session, kind=kind, conversation_id=f"conv-{created:%d%H%M}-{kind}",
            summary=summary or kind, customer_id=customer, order_no=order_no, now=created,
        ).id


def move(ticket_id: int, status: str, at: datetime, staff: str = "王客服") -> None:
    with session_scope() as session:
        record = repository.tickets.get_ticket(session=session, ticket_id=ticket_id)
        repository.tickets.set_ticket_status(session=session, ticket=record, status=status,
                                     staff=staff, now=at)


def note(ticket_id: int, text: str, at: datetime) -> None:
    with session_scope() as session:
        record = repository.tickets.get_ticket(session=session, ticket_id=ticket_id)
        repository.tickets.add_note(
            session=session, ticket=record, author="王客服", text=text, now=at)


@pytest.fixture
def records(db) -> Dict[str, int]:
    """Six tickets with known deadlines (Shanghai = UTC+8, sunset 21:00 = 13:00 UTC)."""
    ids = {}
    # Complaint of a tier-A customer, answered, resolved and called back in time.
    ids["kept"] = ticket("complaint", utc(20, 2), "C001", "DD202611200001")
    move(ids["kept"], "in_progress", utc(20, 3))
    move(ids["kept"], "closed", utc(22, 2))
    note(ids["kept"], "回访：客户对处理结果满意", utc(22, 6))
    # Complaint after sunset (22:00 local): due the next evening; nobody touched it.
    ids["ignored"] = ticket("complaint", utc(19, 14), "C002", summary="投诉：风尊空调不制冷")
    # Handoff of an anonymous visitor this morning: still within the sunset rule.
    ids["fresh"] = ticket("handoff", utc(23, 3, 30))
    # Return taken up at once; its 48 h resolution is due in 2 hours.
    ids["due_soon"] = ticket("return", utc(21, 6), "C007", "DD202611212907")
    move(ids["due_soon"], "in_progress", utc(21, 7))
    # Repair: late response, late resolution, no return call.
    ids["late"] = ticket("repair", utc(17, 1), "C003", "DD202610191943")
    move(ids["late"], "in_progress", utc(18, 1))
    move(ids["late"], "closed", utc(21, 0))
    note(ids["late"], "已上门维修", utc(21, 1))
    # Before the period: not counted in volume, but still overdue.
    ids["old"] = ticket("handoff", utc(10, 2))
    return ids


def build() -> manager_report.Report:
    return manager_report.build(PERIOD, now=NOW, tracker_url="sqlite:////nonexistent/tracker.db")


def rows(table: Table, key: str) -> Dict[Any, Dict[str, Any]]:
    return {row[key]: row for row in table.rows}


# ======================================================================== period


def test_default_period_is_the_last_seven_days():
    period = make_period(now=NOW)
    assert (period.since, period.until) == (date(2026, 11, 17), date(2026, 11, 23))
    # Midnight in Shanghai, as naive UTC.
    assert period.start == datetime(2026, 11, 16, 16, 0)
    assert period.end == datetime(2026, 11, 23, 16, 0)
    assert period.weeks() == ["2026-W47", "2026-W48"]


@pytest.mark.parametrize("since, until", [("2026-11-24", "2026-11-23"), ("11/17/2026", None),
                                          ("2025-01-01", "2026-11-23")])
def test_bad_periods_are_refused_in_chinese(since, until):
    with pytest.raises(ValueError, match="日期|一年"):
        make_period(since, until, now=NOW)


def test_iso_week_is_local():
    # Sunday 23:30 in Shanghai is still week 47, although it is Sunday 15:30 UTC.
    assert iso_week(datetime(2026, 11, 22, 15, 30)) == "2026-W47"
    assert iso_week(datetime(2026, 11, 22, 16, 30)) == "2026-W48"


# ======================================================================= tickets


def test_volume_by_kind_with_open_and_closed(records):
    by_kind = build().tables["tickets_by_kind"]
    assert [(r["kind"], r["name"], r["total"], r["open"], r["closed"]) for r in by_kind.rows] == [
        ("complaint", "投诉", 2, 1, 1),
        ("handoff", "人工服务", 1, 1, 0),
        ("return", "退换货", 1, 1, 0),
        ("repair", "维修", 1, 0, 1),
    ]


def test_volume_by_product_from_the_order_or_the_summary(records):
    by_product = build().tables["tickets_by_product"]
    counts = {r["product"]: (r["total"], r["open"], r["closed"]) for r in by_product.rows}
    assert counts == {
        GL30: (2, 1, 1),
        "索尼WH-1000XM5耳机": (1, 0, 1),
        "美的风尊空调": (1, 1, 0),  # named in the summary (alias 风尊空调)
        labels.reports()["unknown_product"]: (1, 1, 0),
    }
    assert by_product.rows[0]["product"] == GL30  # most tickets first


def test_volume_by_tier(records):
    by_tier = build().tables["tickets_by_tier"]
    assert [(r["tier"], r["total"], r["open"]) for r in by_tier.rows] == [
        ("A", 1, 0), ("B", 1, 1), ("C", 1, 1), ("D", 1, 0), ("none", 1, 1),
    ]
    assert by_tier.rows[-1]["name"] == labels.tier_name("none")


def test_volume_per_day_and_week(records):
    built = build()
    per_day = rows(built.tables["tickets_per_day"], "period")
    assert list(per_day) == [f"2026-11-{d}" for d in range(17, 24)]
    assert per_day["2026-11-17"]["repair"] == 1
    assert per_day["2026-11-19"]["complaint"] == 1  # 22:00 local, not the 20th (UTC)
    assert per_day["2026-11-20"]["complaint"] == 1
    assert per_day["2026-11-21"]["return"] == 1
    assert per_day["2026-11-23"]["handoff"] == 1
    assert [per_day[d]["total"] for d in per_day] == [1, 0, 1, 1, 1, 0, 1]
    per_week = rows(built.tables["tickets_per_week"], "period")
    assert per_week["2026-W47"] == {"period": "2026-W47", "complaint": 2, "handoff": 0,
                                    "return": 1, "price_diff": 0, "repair": 1, "total": 4}
    assert per_week["2026-W48"]["total"] == 1
    assert built.tables["tickets_per_day"].headers()[1:3] == ["投诉", "人工服务"]


def test_commitments_met_missed_and_pending(records):
    table = build().tables["commitments"]
    got = {(r["commitment"], r["kind"]): (r["judged"], r["met"], r["missed"], r["pending"],
                                          r["share_met"]) for r in table.rows}
    assert got == {
        ("respond", "complaint"): (2, 1, 1, 0, 0.5),
        ("respond", "handoff"): (0, 0, 0, 1, None),
        ("respond", "return"): (1, 1, 0, 0, 1.0),
        ("respond", "repair"): (1, 0, 1, 0, 0.0),
        ("resolve", "complaint"): (2, 1, 1, 0, 0.5),
        ("resolve", "return"): (0, 0, 0, 1, None),
        ("resolve", "repair"): (1, 0, 1, 0, 0.0),
        ("callback", "complaint"): (1, 1, 0, 1, 1.0),
        ("callback", "repair"): (1, 0, 1, 0, 0.0),
    }
    assert table.rows[0]["name"] == "投诉 · " + labels.commitment_name("respond")


def test_overdue_list_most_overdue_first_then_about_to_pass(records):
    table = build().tables["overdue"]
    names = {c: labels.commitment_name(c) for c in labels.COMMITMENTS}
    got = [(r["number"][-5:], r["commitment_name"], r["due_at"], r["minutes_left"], r["state"])
           for r in table.rows]
    number = {k: f"{v:05d}" for k, v in records.items()}
    assert got == [
        (number["old"], names["respond"], "2026-11-10 21:00", -12 * 24 * 60 - 15 * 60, "已超时"),
        (number["ignored"], names["respond"], "2026-11-20 21:00", -(2 * 24 + 15) * 60, "已超时"),
        (number["late"], names["callback"], "2026-11-22 09:00", -27 * 60, "已超时"),
        (number["ignored"], names["resolve"], "2026-11-22 22:00", -14 * 60, "已超时"),
        (number["due_soon"], names["resolve"], "2026-11-23 14:00", 120, "即将超时"),
    ]
    assert table.rows[-1]["status"] == "处理中" and table.rows[-1]["assigned_to"] == "王客服"


def test_a_callback_note_before_handling_does_not_count(db):
    ticket_id = ticket("complaint", utc(17, 2), "C002")
    note(ticket_id, "回访：先问一下情况", utc(17, 3))
    move(ticket_id, "closed", utc(18, 2))
    with session_scope() as session:
        [facts] = tickets.facts_of(session, [repository.tickets.get_ticket(session=session,
                                                                   ticket_id=ticket_id)])
    assert facts.done["respond"] == utc(17, 3)  # the note is the first response
    assert facts.done["callback"] is None
    assert tickets.commitment_state(facts, "callback", NOW) == "missed"  # due 11-22


def test_responded_at_is_set_once_when_staff_first_take_a_ticket(db):
    ticket_id = ticket("handoff", utc(23, 1))
    move(ticket_id, "in_progress", utc(23, 2))
    move(ticket_id, "handed_back", utc(23, 3))
    with session_scope() as session:
        record = repository.tickets.get_ticket(session=session, ticket_id=ticket_id)
        assert (record.responded_at, record.closed_at) == (utc(23, 2), utc(23, 3))


def test_no_tickets_gives_empty_tables_not_errors(db):
    built = build()
    assert built.tables["tickets_by_kind"].rows == []
    assert built.tables["commitments"].rows == []
    assert [r["total"] for r in built.tables["tickets_per_day"].rows] == [0] * 7
    assert built.conversations_read  # no tracker file: simply no conversations
    assert built.tables["conversations"].rows[0]["conversations"] == 0


# ================================================================== satisfaction

RATINGS = [
    # (expected, perceived, channel, human, created)
    (4, 4, "web", 0, utc(18, 2)),      # C = 1
    (5, 3, "web", 0, utc(19, 2)),      # C = 0.6
    (2, 4, "web", 1, utc(20, 2)),      # C = 2
    (4, 5, "wechat", 1, utc(23, 1)),   # C = 1.25
    (5, 2, "wechat", 0, utc(23, 2)),   # C = 0.4
    (1, 5, "web", 0, utc(10, 2)),      # before the period
]


@pytest.fixture
def ratings(db) -> None:
    with session_scope() as session:
        for number, (expected, perceived, channel, human, created) in enumerate(RATINGS):
            session.add(Rating(conversation_id=f"rated-{number}", channel=channel,
                               expected=expected, perceived=perceived,
                               human_involved=human, created_at=created))


def summary_of(table: Table) -> Dict[str, tuple]:
    return {r["group"]: (r["ratings"], r["mean_c"], r["median_c"], r["satisfied_share"],
                         r["mean_gap"]) for r in table.rows}


def test_satisfaction_by_channel(ratings):
    names = labels.reports()["satisfaction"]["channels"]
    assert summary_of(build().tables["satisfaction_by_channel"]) == {
        names["web"]: (3, 1.2, 1.0, 0.667, 0.0),
        names["wechat"]: (2, 0.825, 0.825, 0.5, -1.0),
    }


def test_satisfaction_by_week(ratings):
    assert summary_of(build().tables["satisfaction_by_week"]) == {
        "2026-W47": (3, 1.2, 1.0, 0.667, 0.0),
        "2026-W48": (2, 0.825, 0.825, 0.5, -1.0),
    }


def test_satisfaction_by_human_involvement(ratings):
    names = labels.reports()["satisfaction"]["human"]
    assert summary_of(build().tables["satisfaction_by_human"]) == {
        names["0"]: (3, 0.667, 0.6, 0.333, -1.667),
        names["1"]: (2, 1.625, 1.625, 1.0, 1.5),
    }


def test_satisfaction_distribution_lists_every_bucket(ratings):
    table = build().tables["satisfaction_distribution"]
    buckets = [b["label"] for b in labels.reports()["satisfaction"]["buckets"]]
    assert [r["bucket"] for r in table.rows] == buckets
    assert [r["ratings"] for r in table.rows] == [1, 1, 0, 1, 1, 1]
    assert [r["share"] for r in table.rows] == [0.2, 0.2, 0.0, 0.2, 0.2, 0.2]


@pytest.mark.parametrize(
    "expected, perceived, bucket",
    [(5, 2, 0), (5, 3, 1), (5, 4, 2), (4, 3, 1), (7, 6, 2), (3, 3, 3), (4, 5, 4), (2, 3, 4),
     (3, 5, 5), (1, 5, 5)],
)
def test_satisfaction_bucket_edges_are_exact(expected, perceived, bucket):
    rating = satisfaction.RatingFacts(expected, perceived, "web", False, NOW)
    assert satisfaction.bucket_of(rating.index) == \
        labels.reports()["satisfaction"]["buckets"][bucket]["label"]


def test_satisfaction_without_ratings(db):
    built = build()
    assert built.tables["satisfaction_by_channel"].rows == []
    assert [r["ratings"] for r in built.tables["satisfaction_distribution"].rows] == [0] * 6


# ========================================================================= files


def read_csv(data: bytes) -> List[List[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_has_chinese_headers_and_every_row(records):
    table = build().tables["tickets_by_kind"]
    parsed = read_csv(tables.csv_bytes(table))
    assert parsed[0] == ["类型代码", "名称", "合计", "未结", "已结"]
    assert parsed[1:] == [
        ["complaint", "投诉", "2", "1", "1"], ["handoff", "人工服务", "1", "1", "0"],
        ["return", "退换货", "1", "1", "0"], ["repair", "维修", "1", "0", "1"],
    ]


def test_csv_quotes_commas_quotes_and_newlines():
    table = Table("overdue", ["number", "summary"], [
        {"number": "TK1", "summary": '原因：a,b；"引号"\n第二行'},
        {"number": "TK2", "summary": None},
    ])
    parsed = read_csv(tables.csv_bytes(table))
    assert parsed[1] == ["TK1", '原因：a,b；"引号"\n第二行']
    assert parsed[2] == ["TK2", ""]


def test_csv_cells_that_excel_would_run_are_written_as_text():
    table = Table("overdue", ["number", "summary", "gap"], [
        {"number": "TK1", "summary": '=HYPERLINK("http://x.test","点我")', "gap": -0.5},
        {"number": "TK2", "summary": "+cmd|' /C calc'!A0", "gap": -2},
        {"number": "TK3", "summary": "@SUM(1+1)", "gap": None},
        {"number": "TK4", "summary": "-1+1", "gap": 0.25},
        {"number": "TK5", "summary": "客户说 =1+1 不对", "gap": 1},
    ])
    parsed = read_csv(tables.csv_bytes(table))
    assert [row[1] for row in parsed[1:]] == [
        '\'=HYPERLINK("http://x.test","点我")', "'+cmd|' /C calc'!A0", "'@SUM(1+1)", "'-1+1",
        "客户说 =1+1 不对"]
    # Numbers stay numbers, negative ones included.
    assert [row[2] for row in parsed[1:]] == ["-0.5", "-2", "", "0.25", "1"]


def test_write_report_files(records, ratings, tmp_path, watch_charts):
    files = manager_report.write(build(), tmp_path)
    names = {path.name for path in files}
    assert "report.md" in names
    assert {f"{name}.csv" for name in build().tables} <= names
    assert {f"{name}.png" for name in manager_report.charts.CHARTS} <= names
    for path in files:
        assert path.stat().st_size > 0
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if path.suffix == ".csv":
            assert len(read_csv(path.read_bytes())) >= 1
    assert plt.get_fignums() == []
    # Every chart was drawn, with Chinese in it, every glyph in the font that drew it.
    assert watch_charts.figures == len(manager_report.charts.CHARTS)
    assert "工单数" in watch_charts.chinese and "达成率 %" in watch_charts.chinese
    assert any(labels.kind_name("complaint") in t for t in watch_charts.chinese)
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert text.startswith("# " + labels.reports()["title"])
    assert "统计区间：2026-11-17 至 2026-11-23" in text
    # The overdue list comes first, headings are Chinese, charts are linked.
    assert text.index(labels.table_title("overdue")) < text.index(labels.table_title("commitments"))
    assert "## 客户满意度" in text and "![" in text and "(ticket_volume.png)" in text
    assert "| 投诉 | 2 | 1 | 1 |" in text.replace("complaint | ", "")


def test_charts_with_no_data_are_still_pngs(db, tmp_path, watch_charts):
    for name in manager_report.charts.CHARTS:
        path = manager_report.charts.draw(name, build().tables, tmp_path / f"{name}.png")
        assert path.read_bytes()[:4] == b"\x89PNG"
    assert watch_charts.figures == len(manager_report.charts.CHARTS)
    assert "（无数据）" in watch_charts.chinese


def test_cli_writes_the_report(records, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["--since", "2026-11-17", "--until", "2026-11-23", "--out", str(out)]
    assert manager_report.main(args) == 0
    assert (out / "report.md").exists() and (out / "overdue.csv").exists()
    printed = capsys.readouterr().out
    assert "2026-11-17 至 2026-11-23" in printed and "5 项" in printed


def test_cli_refuses_a_bad_date(tmp_path):
    with pytest.raises(SystemExit):
        manager_report.main(["--since", "yesterday", "--out", str(tmp_path)])


def test_export_for_the_console(records, watch_charts):
    data = manager_report.export("json", since="2026-11-17", until="2026-11-23")
    assert data["period"]["label"] == "2026-11-17 至 2026-11-23"
    assert data["tables"]["tickets_by_kind"]["rows"][0]["total"] == 2
    assert [s["title"] for s in data["sections"]] == ["工单与服务承诺", "客户满意度", "会话分析"]
    assert read_csv(manager_report.export("csv", "tickets_by_tier"))[0][0] == "客户等级"
    assert manager_report.export("png", "commitments")[:4] == b"\x89PNG"
    with pytest.raises(KeyError):
        manager_report.export("csv", "no_such_table")
    with pytest.raises(KeyError):
        manager_report.export("png", "no_such_chart")
    with pytest.raises(ValueError):
        manager_report.export("json", since="2026-13-01")


def test_sections_come_from_the_knowledge_and_cover_every_table(records):
    """Headings and order are data (knowledge/reports.yml): every table computed is
    under exactly one heading, and every heading's table exists."""
    listed = [name for _, names in manager_report.sections() for name in names]
    assert sorted(listed) == sorted(build().tables)
    assert len(listed) == len(set(listed))
    titles = [title for title, _ in manager_report.sections()]
    assert titles == [s["title"] for s in labels.reports()["sections"]]
