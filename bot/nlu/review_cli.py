"""`python -m bot.nlu.review_cli scan|export|recheck` (make review-scan|export|recheck)

- scan: queue the messages the bot did not understand since the last scan.
- export [--data-dir data] [--topics results/review/new_topics.md]: labelled messages
  into the NLU training data (then `make validate` and `make train`).
- recheck [--model models/current.tar.gz] [--out results/review/recheck.json]:
  which labelled misses the model now gets right.

The review queue itself (shop/review) needs no Rasa; only the re-check loads a
trained model, which is why the command line lives on the Rasa side.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import List, Optional

from rasa.core.agent import Agent

from shop.config import PROJECT_ROOT
from shop.db.engine import create_schema
from shop.insights.tables import markdown
from shop.review import export as exporting
from shop.review import recheck as rechecking
from shop.review import scan as scanning
from shop.review.rules import label_name, reason_name

DEFAULT_MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
SKIP_REASONS = {"test_set": "在保留测试集中（绝不用于训练）", "in_training": "训练数据中已有",
                "too_long": "太长", "markup": "含 []{} 等标注符号"}


def _scan(_: argparse.Namespace) -> int:
    result = scanning.scan()
    print(f"扫描到事件 #{result.last_event_id}，新加入复核队列 {len(result.queued)} 条：")
    for miss in result.queued:
        guess = f"{miss.predicted_intent} {miss.confidence:.2f}" if miss.confidence is not None \
            else str(miss.predicted_intent)
        print(f"  [{reason_name(miss.reason)}] {miss.conversation_id}: {miss.text}（{guess}）")
    return 0


def _export(args: argparse.Namespace) -> int:
    result = exporting.export(args.data_dir, topics_file=args.topics)
    for path, entries in result.written.items():
        print(f"{args.data_dir / path}: +{len(entries)}")
        for intent, text in entries:
            print(f"  {intent}（{label_name(intent)}）: {text}")
    if result.new_topics:
        print(f"{args.topics}: +{len(result.new_topics)} 个新话题")
    for skipped in result.skipped:
        print(f"跳过（{SKIP_REASONS.get(skipped.reason, skipped.reason)}）: "
              f"{skipped.text} → {skipped.label}")
    if not result.exported and not result.skipped:
        print("没有已标注、待导出的消息。")
    elif result.written:
        print("下一步：make validate && make train，然后 recheck。")
    return 0


async def recheck_model(model_path: Path) -> rechecking.Recheck:
    """Loads a trained model in-process and re-checks the labelled misses with it."""
    agent = Agent.load(str(model_path))
    return await rechecking.recheck(agent, str(model_path))


def _recheck(args: argparse.Namespace) -> int:
    result = asyncio.run(recheck_model(args.model))
    rechecking.save(result, args.out)
    print(markdown(result.table(), empty="（没有已标注的消息）"))
    print(f"\n{args.model}: {result.fixed}/{len(result.rows)} 条以前未能理解的消息现在识别正确"
          f"（已保存 {args.out}）")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.nlu.review_cli",
                                     description="复核队列（四个不漏）")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("scan", help="queue the messages not understood since the last scan")
    export = commands.add_parser("export", help="labelled messages into NLU training data")
    export.add_argument("--data-dir", type=Path, default=exporting.DATA_DIR)
    export.add_argument("--topics", type=Path, default=exporting.TOPICS_FILE)
    recheck = commands.add_parser("recheck", help="which labelled misses a model gets now")
    recheck.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    recheck.add_argument("--out", type=Path, default=rechecking.RECHECK_FILE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    create_schema()
    handler = {"scan": _scan, "export": _export, "recheck": _recheck}[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
