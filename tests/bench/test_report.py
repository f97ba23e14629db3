"""bench/report.py: a second run of the same day and label keeps the first's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import report


def test_a_second_run_of_the_same_label_gets_its_own_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The summary's content is not what is tested here, only where the files go.
    monkeypatch.setattr(report, "markdown", lambda results: f"run {results['run']}\n")
    results = {"date": "2026-12-06", "label": "before", "load": {}}
    first = report.write(dict(results, run=1), {}, tmp_path, "2026-12-06-before")
    second = report.write(dict(results, run=2), {}, tmp_path, "2026-12-06-before")
    assert [p.name for p in first.values()] == ["2026-12-06-before.json",
                                                "2026-12-06-before.md"]
    assert [p.name for p in second.values()] == ["2026-12-06-before-2.json",
                                                 "2026-12-06-before-2.md"]
    assert '"run": 1' in first["json"].read_text(encoding="utf-8")
    assert '"run": 2' in second["json"].read_text(encoding="utf-8")
    assert report.unused_stem(tmp_path, "2026-12-06-before") == "2026-12-06-before-3"
    assert report.unused_stem(tmp_path, "2026-12-06-after") == "2026-12-06-after"
