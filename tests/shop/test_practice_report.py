"""Practice progress figures, the trainer overview and the chart."""

from __future__ import annotations

from datetime import datetime, timedelta

import matplotlib.pyplot as plt
import pytest

from shop.db import repository
from shop.db.engine import session_scope
from shop.practice import progress as practice_progress

START = datetime(2026, 11, 20, 2, 0)


def practise(trainee: str, objection: str, turns, outcome="agreed", finished=True, day=0):
    """Stores a session with (technique, score, rubric deltas) turns."""
    now = START + timedelta(days=day)
    with session_scope() as session:
        record = repository.practice.start_practice(session=session, trainee=trainee,
                                           scenario_id=f"{objection}_x",
                                           objection_type=objection, now=now)
        for number, (technique, score, deltas) in enumerate(turns, start=1):
            rubric = [{"key": k, "name": k, "delta": d, "phrase": None, "tip": ""}
                      for k, d in deltas.items()]
            repository.practice.add_practice_turn(
                session=session, practice_id=record.id, turn_no=number, customer_text="c",
                reply_text="r", technique=technique, suitable=True, score=score,
                rubric=rubric, now=now)
        if finished:
            total = round(sum(t[1] for t in turns) / len(turns))
            repository.practice.finish_practice(session=session, practice_id=record.id,
                                       outcome=outcome, score=total, now=now)


@pytest.fixture
def history(db):
    practise("小李", "price", [("ask", 80, {"认同": 15, "提问": 15}),
                               ("compensation", 60, {"认同": 15, "提问": 0})], day=0)
    practise("小李", "trust", [("none", 20, {"认同": 0, "争辩": -20})], outcome="left", day=1)
    practise("小李", "price", [("ask", 90, {"认同": 15})], finished=False, day=2)
    practise("小王", "delay", [("turnaround", 70, {"提问": 15})], day=1)


def test_trainee_progress(history) -> None:
    progress = practice_progress.trainee_progress("小李")
    assert [s["score"] for s in progress["sessions"]] == [70, 20, None]
    assert progress["finished"] == 2 and progress["unfinished"] == 1
    assert progress["mean_score"] == 45.0
    assert progress["by_technique"] == {"ask": 80.0, "compensation": 60.0, "none": 20.0}
    assert progress["by_objection_type"] == {"price": 70.0, "trust": 20.0}
    assert progress["by_rubric"] == {"认同": 10.0, "提问": 7.5, "争辩": -20.0}
    assert progress["weakest"] == {"rubric": ["争辩", "提问"], "technique": "none"}
    assert progress["sessions"][0]["started_at"].endswith("+08:00")


def test_trainer_overview(history) -> None:
    overview = practice_progress.trainer_overview()
    rows = {row["trainee"]: row for row in overview["trainees"]}
    assert set(rows) == {"小李", "小王"}
    assert rows["小李"]["sessions"] == 3 and rows["小李"]["mean_score"] == 45.0
    assert rows["小王"]["mean_score"] == 70.0
    assert overview["by_objection_type"] == {"price": 70.0, "trust": 20.0, "delay": 70.0}
    assert overview["by_technique"]["turnaround"] == 70.0


def test_progress_chart_is_a_png(history, tmp_path, watch_charts) -> None:
    path = practice_progress.progress_chart("小李", tmp_path / "chart.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == []
    # Titles, axis labels and the technique names, all drawn with their glyphs.
    assert watch_charts.figures == 1
    assert {"每场得分", "练习场次", "得分"} <= set(watch_charts.chinese)
    assert any(practice_progress.data.technique_name("ask") in t for t in watch_charts.chinese)


def test_no_chart_without_finished_sessions(history, tmp_path) -> None:
    with pytest.raises(ValueError):
        practice_progress.progress_chart("没练过的人", tmp_path / "x.png")


def test_cli(history, tmp_path, capsys, watch_charts) -> None:
    out = tmp_path / "li.png"
    assert practice_progress.main(["--trainee", "小李", "--out", str(out)]) == 0
    assert out.exists() and "平均分 45.0" in capsys.readouterr().out
    nobody = ["--trainee", "没练过的人", "--out", str(tmp_path / "n.png")]
    assert practice_progress.main(nobody) == 1
    assert practice_progress.main(["--all"]) == 0
    assert "小王" in capsys.readouterr().out
