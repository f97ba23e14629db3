"""Where a message's time goes on the Rasa server: py-spy under load.

    python -m bench.profile                 # 10 customers, 40 s, closed loop
    PROFILE_SECONDS=20 PROFILE_CUSTOMERS=20 python -m bench.profile

Starts a stack (as bench.run does), warms it up, then samples the Rasa server
and the action server with py-spy (`pip install py-spy==0.4.3` into .venv; it is
not a project dependency) while simulated customers talk to it. Writes
bench/results/<date>-profile-{rasa,actions}.txt (collapsed stacks, for
flamegraph tools or speedscope) and prints the share of samples per stage of a
message (inclusive), which is what the README's profile findings quote.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from bench.load import Customers, summarise
from bench.run import RESULTS, apology_text, first_reply, variant_env
from bench.stack import BIN, Stack, stop

# Stage of a message → a frame that marks it (function name, file fragment).
STAGES: List[Tuple[str, str, str]] = [
    ("NLU pipeline (all components)", "parse_message", "rasa/core/processor.py"),
    ("  normaliser (OpenCC)", "process", "bot/nlu/normalizer.py"),
    ("  jieba tokenizer", "tokenize", "jieba_tokenizer.py"),
    ("  regex featurizer", "process", "regex_featurizer.py"),
    ("  lexical-syntactic featurizer", "process", "lexical_syntactic_featurizer.py"),
    ("  count-vectors featurizers", "process", "count_vectors_featurizer.py"),
    ("  intent classifier (logistic regression)", "process",
     "logistic_regression_classifier.py"),
    ("  regex entity extractor", "process", "regex_entity_extractor.py"),
    ("  catalogue entity extractor (spaCy)", "process", "bot/nlu/entity_ruler.py"),
    ("  FAQ selector", "process", "bot/nlu/faq_selector.py"),
    ("dialogue policies (predict next action)", "predict_next_with_tracker_if_should",
     "rasa/core/processor.py"),
    ("  rule policy", "predict_action_probabilities", "rule_policy.py"),
    ("  featurising the tracker", "featurize_trackers", "rasa/core/featurizers"),
    ("running actions (incl. remote calls)", "_run_action", "rasa/core/processor.py"),
    ("  domain.as_dict() for the request", "as_dict", "rasa/shared/core/domain.py"),
    ("  tracker.current_state()", "current_state", "rasa/shared/core/trackers.py"),
    ("tracker store: retrieve", "retrieve", "tracker_store.py"),
    ("tracker store: save", "save", "tracker_store.py"),
    ("  events rebuilt from JSON", "from_dict", "rasa/shared/core/trackers.py"),
    ("TensorFlow (any)", "", "tensorflow/python/"),
    ("SQLAlchemy (any)", "", "sqlalchemy/"),
    ("logging (any)", "", "logging/__init__.py"),
    ("structlog (any)", "", "structlog/"),
    ("jsonschema (any)", "", "jsonschema/"),
]

# Samples of the event loop waiting for work, left out of the shares.
IDLE_LEAVES = (("serve", "sanic/server/runners.py"), ("select", "selectors.py"))


def py_spy() -> Optional[str]:
    found = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    return found


def record(pid: int, seconds: float, out: Path, native: bool = False) -> subprocess.Popen:
    """py-spy record of one process, collapsed stacks ("raw" format)."""
    args = [str(py_spy()), "record", "--pid", str(pid), "--duration", str(int(seconds)),
            "--rate", "200", "--format", "raw", "--output", str(out), "--nonblocking"]
    if native:
        args.append("--native")
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def _frames(stack: str) -> List[Tuple[str, str]]:
    """(function, file) of each frame of one collapsed stack line."""
    frames = []
    for frame in stack.split(";"):
        # "function (path/to/file.py:123)"
        name, _, rest = frame.partition(" (")
        frames.append((name.strip(), rest.rsplit(":", 1)[0]))
    return frames


def stage_shares(collapsed: Path) -> Tuple[int, Dict[str, float], List[Tuple[str, float]]]:
    """Busy samples of the main thread (the event loop that handles every message),
    the inclusive share per stage of them, and the top self-time frames.

    Other threads (thread pools waiting on their queues) and the loop's own idle
    waits would otherwise dilute every share."""
    total = 0
    per_stage: Counter = Counter()
    self_time: Counter = Counter()
    for line in collapsed.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = _frames(stack)
        if not frames or frames[0][0] == "_bootstrap":  # a thread other than the main one
            continue
        if any(frames[-1][0] == f and p in frames[-1][1] for f, p in IDLE_LEAVES):
            continue
        count = int(count_text)
        total += count
        for stage, function, file_part in STAGES:
            if any((not function or f == function) and file_part in path for f, path in frames):
                per_stage[stage] += count
        if frames:
            function, path = frames[-1]
            self_time[f"{function} ({_short(path)})"] += count
    shares = {stage: round(100 * per_stage[stage] / total, 1) if total else 0.0
              for stage, _, _ in STAGES}
    top = [(name, round(100 * n / total, 1)) for name, n in self_time.most_common(15)]
    return total, shares, top


def _short(path: str) -> str:
    marker = "site-packages/"
    return path.split(marker, 1)[1] if marker in path else path.rsplit("/work/main/", 1)[-1]


def main(argv: Optional[Sequence[str]] = None) -> int:
    if not py_spy():
        print("py-spy is not installed: .venv/bin/pip install py-spy==0.4.3", file=sys.stderr)
        return 2
    seconds = float(os.environ.get("PROFILE_SECONDS") or 40)
    customers = int(os.environ.get("PROFILE_CUSTOMERS") or 10)
    workdir = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    credentials = os.environ.get("BENCH_CREDENTIALS")
    stack = Stack(workdir, extra_env=variant_env(),
                  credentials=Path(credentials).resolve() if credentials else None)
    apology = apology_text()
    label = os.environ.get("BENCH_LABEL")
    stem = f"{dt.date.today().isoformat()}-profile" + (f"-{label}" if label else "")
    RESULTS.mkdir(parents=True, exist_ok=True)
    try:
        stack.seed()
        stack.start_actions()
        stack.spawn_rasa()
        first_reply(stack, apology)
        simulated = Customers(stack.url, apology)
        asyncio.run(simulated.warm_up())
        assert stack.rasa is not None and stack.actions is not None
        outputs = {"rasa": RESULTS / f"{stem}-rasa.txt",
                   "actions": RESULTS / f"{stem}-actions.txt"}
        recorders = [record(stack.rasa.pid, seconds, outputs["rasa"]),
                     record(stack.actions.pid, seconds, outputs["actions"])]
        time.sleep(1)
        level = asyncio.run(simulated.run(customers, seconds - 2))
        for recorder in recorders:
            recorder.wait(timeout=120)
        summary = summarise(level)
        print(f"{customers} customers, {summary['throughput_msg_s']} msg/s, "
              f"latency {summary['latency_ms']}, errors {summary['errors_by_kind']}")
        for name, path in outputs.items():
            if not path.exists():
                print(f"no profile for the {name} server (py-spy could not attach?)")
                continue
            total, shares, top = stage_shares(path)
            print(f"\n{name} server: {total} busy samples of the main thread; "
                  "inclusive share per stage:")
            for stage, share in shares.items():
                if share:
                    print(f"  {share:5.1f}%  {stage}")
            print("  top self time:")
            for frame, share in top:
                print(f"  {share:5.1f}%  {frame}")
            print(f"  collapsed stacks: {path}")
    finally:
        stop(stack.rasa)
        stop(stack.actions)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
