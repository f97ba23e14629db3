"""Practice in the terminal: `make practice TRAINEE=小李` (or python -m shop.practice.cli)."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from shop.db.engine import create_schema
from shop.practice import progress as practice_progress
from shop.practice.drill import Drill


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="异议处理练习：与模拟客户对话并获得评分")
    parser.add_argument("--trainee", required=True, help="学员姓名")
    parser.add_argument("--scenario", help="场景编号（默认随机）")
    parser.add_argument("--difficulty", type=int, choices=(1, 2, 3), help="难度 1-3")
    parser.add_argument("--type", dest="objection_type",
                        choices=("price", "delay", "no_need", "competitor", "trust", "timing"),
                        help="异议类型")
    parser.add_argument("--seed", type=int, help="固定随机数（复现同一场练习）")
    args = parser.parse_args(argv)

    create_schema()
    try:
        practice = Drill(args.trainee, args.scenario, args.difficulty,
                                   args.objection_type, seed=args.seed)
    except KeyError:
        print("没有符合条件的练习场景。", file=sys.stderr)
        return 2
    for line in practice.opening_lines():
        print(line)
    print("（输入你的回答；输入 /quit 结束练习）")
    while True:
        try:
            reply = input("你 > ").strip()
        except EOFError:
            reply = "/quit"
        if not reply:
            print("请输入你对客户的回答。")
            continue
        if reply in ("/quit", "/exit", "/stop"):
            for line in practice.finish("abandoned"):
                print(line)
            _show_progress(practice.trainee)
            return 0
        result = practice.reply(reply)
        for line in result.feedback_lines:
            print("  " + line)
        print(result.customer_text)
        if result.finished:
            for line in result.summary_lines:
                print(line)
            _show_progress(practice.trainee)
            return 0


def _show_progress(trainee: str) -> None:
    """The trainee's history and the path of their progress chart."""
    progress = practice_progress.trainee_progress(trainee)
    if not progress["finished"]:
        return
    for line in practice_progress.text_summary(progress):
        print(line)
    path = practice_progress.progress_chart(trainee, practice_progress.default_chart_path(trainee))
    print(f"进度图：{path}")


if __name__ == "__main__":
    sys.exit(main())
