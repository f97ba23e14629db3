"""Practice progress: a trainee's history and weakest areas, a team overview for
trainers, and a progress chart (matplotlib PNG).

`python -m shop.practice.progress --trainee 小李 [--out path.png]` or `--all`.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections import defaultdict
from pathlib import Path
from statistics import mean
from typing import Any, Dict, List, Optional

from shop import deadlines, knowledge
from shop.config import PROJECT_ROOT
from shop.db import repository
from shop.db.engine import create_schema, session_scope
from shop.fonts import use_chinese_font
from shop.practice import data


def _type_name(key: str) -> str:
    names = {t["key"]: t["name"] for t in knowledge.objections()["types"]}
    return str(names.get(key, key))


def _means(values: Dict[str, List[float]]) -> Dict[str, float]:
    return {key: round(float(mean(v)), 1) for key, v in values.items() if v}


def _summarise(sessions: List[Any]) -> Dict[str, Any]:
    finished = [s for s in sessions if s.ended_at is not None and s.score is not None]
    by_technique: Dict[str, List[float]] = defaultdict(list)
    by_type: Dict[str, List[float]] = defaultdict(list)
    by_rubric: Dict[str, List[float]] = defaultdict(list)
    for record in finished:
        by_type[record.objection_type].append(record.score)
        for turn in record.turns:
            by_technique[turn.technique].append(turn.score)
            for point in turn.rubric or []:
                by_rubric[point["name"]].append(point["delta"])
    technique_means = _means(by_technique)
    rubric_means = _means(by_rubric)
    return {
        "finished": len(finished),
        "unfinished": len(sessions) - len(finished),
        "mean_score": round(float(mean(s.score for s in finished)), 1) if finished else None,
        "by_technique": technique_means,
        "by_objection_type": _means(by_type),
        "by_rubric": rubric_means,
        "weakest": {
            "rubric": sorted(rubric_means, key=rubric_means.get)[:2],
            "technique": min(technique_means, key=technique_means.get) if technique_means
            else None,
        },
    }


def trainee_progress(trainee: str) -> Dict[str, Any]:
    """A trainee's sessions in time order with averages and weakest areas."""
    with session_scope() as session:
        records = list(reversed(repository.practice.practice_history(
            session=session, trainee=trainee)))
        history = [
            {
                "id": r.id,
                "started_at": deadlines.to_local(r.started_at).isoformat(timespec="minutes"),
                "scenario_id": r.scenario_id,
                "objection_type": r.objection_type,
                "outcome": r.outcome,
                "score": r.score,
            }
            for r in records
        ]
        return {"trainee": trainee, "sessions": history, **_summarise(records)}


def trainer_overview() -> Dict[str, Any]:
    """Every trainee at a glance, plus team averages by technique and objection type."""
    with session_scope() as session:
        records = repository.practice.practice_history(session=session)
        per_trainee: Dict[str, List[Any]] = defaultdict(list)
        for record in records:
            per_trainee[record.trainee].append(record)
        trainees = []
        for name, own in sorted(per_trainee.items()):
            summary = _summarise(own)
            trainees.append({
                "trainee": name,
                "sessions": len(own),
                "mean_score": summary["mean_score"],
                "last_session": deadlines.to_local(max(r.started_at for r in own))
                .isoformat(timespec="minutes"),
                "weakest": summary["weakest"],
            })
        team = _summarise(records)
        return {
            "trainees": trainees,
            "by_technique": team["by_technique"],
            "by_objection_type": team["by_objection_type"],
            "technique_names": dict(data.feedback()["technique_names"]),
        }


def progress_chart(trainee: str, path: Path) -> Path:
    """Writes the trainee's progress chart (scores over time, score by technique)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(progress_png(trainee))
    return path


def progress_png(trainee: str) -> bytes:
    """The trainee's progress chart as PNG bytes; ValueError without a finished session."""
    progress = trainee_progress(trainee)
    scored = [s for s in progress["sessions"] if s["score"] is not None]
    if not scored:
        raise ValueError(f"{trainee} has no finished practice session")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    use_chinese_font(plt)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    try:
        left.plot(range(1, len(scored) + 1), [s["score"] for s in scored], marker="o")
        left.set_ylim(0, 100)
        left.set_xlim(0.5, len(scored) + 0.5)
        left.xaxis.set_major_locator(MaxNLocator(integer=True))
        left.set_xlabel("练习场次")
        left.set_ylabel("得分")
        left.set_title("每场得分")
        left.grid(alpha=0.3)
        techniques = progress["by_technique"]
        names = [data.technique_name(k) for k in techniques]
        right.barh(names, list(techniques.values()), color="#2563eb")
        right.set_xlim(0, 100)
        right.set_title("各技巧平均得分")
        figure.suptitle(f"{trainee} 的练习进度")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, dpi=110, format="png")
    finally:
        plt.close(figure)
    return buffer.getvalue()


def default_chart_path(trainee: str) -> Path:
    """Where `make practice-report` and the terminal practice put a trainee's chart."""
    return PROJECT_ROOT / "results" / "practice" / f"{trainee}.png"


def text_summary(progress: Dict[str, Any]) -> List[str]:
    weakest = progress["weakest"]
    technique = data.technique_name(weakest["technique"]) if weakest["technique"] else "-"
    return [
        f"学员：{progress['trainee']}｜完成 {progress['finished']} 场"
        f"（未完成 {progress['unfinished']} 场）｜平均分 {progress['mean_score']}",
        "按异议类型：" + ("、".join(f"{_type_name(k)} {v}" for k, v in
                              progress["by_objection_type"].items()) or "-"),
        f"最需加强：{'、'.join(weakest['rubric']) or '-'}；得分最低的技巧：{technique}",
    ]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="练习进度报告")
    parser.add_argument("--trainee", help="学员姓名")
    parser.add_argument("--out", type=Path, help="图表文件（PNG）")
    parser.add_argument("--all", action="store_true", help="所有学员概览（培训师）")
    args = parser.parse_args(argv)
    create_schema()
    if args.all:
        overview = trainer_overview()
        if not overview["trainees"]:
            print("还没有任何练习记录。", file=sys.stderr)
            return 1
        for row in overview["trainees"]:
            print(f"{row['trainee']}：{row['sessions']} 场，平均分 {row['mean_score']}，"
                  f"最近 {row['last_session']}，需加强 {'、'.join(row['weakest']['rubric'])}")
        return 0
    if not args.trainee:
        parser.error("--trainee 或 --all 必须给出一个")
    out = args.out or default_chart_path(args.trainee)
    try:
        progress_chart(args.trainee, out)
    except ValueError:
        print(f"学员“{args.trainee}”还没有完成的练习。", file=sys.stderr)
        return 1
    for line in text_summary(trainee_progress(args.trainee)):
        print(line)
    print(f"进度图：{out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
