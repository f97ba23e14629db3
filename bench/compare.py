"""Two dev-set runs (bench/source_out.py) compared message by message.

The dev set's figures move by a few messages between changes that do nothing: in the
twelfth session four variants of the training data scored 0.613–0.615 macro-F1 on the
same 4,596 messages, each with some 20–40 messages better and as many worse. This
says whether a difference is more than that. On the messages both runs parsed, as
served (a clarification counts wrong, at each run's own thresholds):

- the messages one run answers right and the other wrong, with an exact two-sided
  sign test on them (McNemar's test): the chance of a split at least this uneven if
  the two runs were equally good;
- a bootstrap interval of the macro-F1 difference, the messages resampled (the same
  resample for both runs, so the interval is of the paired difference);
- how often each intent is answered, and how often rightly, in each run.

    python -m bench.compare before.json after.json     # make bench-compare A=… B=…
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from bench.clarify import clarified

CLARIFIED = "clarified"
BOOTSTRAP_ROUNDS = 1000
SEED = 20261206

# (source, text) → (the labelled intent, the answer as served)
Readings = Dict[Tuple[str, str], Tuple[str, str]]


def served_readings(document: Dict[str, Any]) -> Readings:
    """The readings of a results/nlu/source_out.json document, as served (with the
    intents' own thresholds, bot/nlu/fallback.py, when the run had any)."""
    threshold, ambiguity = float(document["threshold"]), float(document["ambiguity"])
    floors = {intent: float(floor)
              for intent, floor in (document.get("intent_thresholds") or {}).items()}
    readings: Readings = {}
    for row in document["readings"]:
        parse = (row["intent"], row["top"], float(row["confidence"]),
                 float(row["second_confidence"]), row["second"])
        readings[(row["source"], row["text"])] = (
            row["intent"], CLARIFIED if clarified(parse, threshold, ambiguity, floors)
            else row["top"])
    return readings


def load(path: Path) -> Readings:
    return served_readings(json.loads(path.read_text(encoding="utf-8")))


def sign_test(better: int, worse: int) -> float:
    """Exact two-sided p-value of `better` against `worse` discordant messages."""
    n, k = better + worse, min(better, worse)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def macro_f1(gold: np.ndarray, answers: np.ndarray, classes: int) -> float:
    """Macro-F1 over the labelled intents 0 … classes-1 (an answer outside them, such
    as a clarification, is wrong for every intent), like scikit-learn's with
    labels= and zero_division=0."""
    right = np.bincount(gold[gold == answers], minlength=classes)[:classes]
    said = np.bincount(answers[answers < classes], minlength=classes)[:classes]
    meant = np.bincount(gold, minlength=classes)[:classes]
    denominator = said + meant
    scores = np.divide(2 * right, denominator, out=np.zeros(classes),
                       where=denominator > 0)
    return float(scores.mean())


def compare(before: Readings, after: Readings, rounds: int = BOOTSTRAP_ROUNDS,
            seed: int = SEED) -> Dict[str, Any]:
    """Scores of both runs on their common messages, the discordant messages, the sign
    test and the bootstrap interval (2.5–97.5 %) of after − before in macro-F1."""
    common = sorted(set(before) & set(after))
    labels = sorted({before[key][0] for key in common})
    index = {label: i for i, label in enumerate(labels)}
    outside = len(labels)  # any answer that is not a labelled intent

    def encode(answers: Sequence[str]) -> np.ndarray:
        return np.array([index.get(a, outside) for a in answers], dtype=np.int64)

    gold = encode([before[key][0] for key in common])
    first = encode([before[key][1] for key in common])
    second = encode([after[key][1] for key in common])
    classes = len(labels)
    in_scope = gold != index.get("out_of_scope", -1)
    better = [key for key, a, b, g in zip(common, first, second, gold, strict=True)
              if b == g != a]
    worse = [key for key, a, b, g in zip(common, first, second, gold, strict=True)
             if a == g != b]
    rng = np.random.default_rng(seed)
    differences = []
    for _ in range(rounds):
        sample = rng.integers(0, len(common), len(common)) if common else np.array([], int)
        differences.append(macro_f1(gold[sample], second[sample], classes)
                           - macro_f1(gold[sample], first[sample], classes))
    low, high = (np.percentile(differences, [2.5, 97.5]) if common else (0.0, 0.0))
    return {
        "messages": len(common),
        "only_before": len(set(before) - set(after)),
        "only_after": len(set(after) - set(before)),
        "before": scores(gold, first, classes, in_scope),
        "after": scores(gold, second, classes, in_scope),
        "better": better, "worse": worse,
        "sign_test_p": sign_test(len(better), len(worse)),
        "macro_f1_difference": (macro_f1(gold, second, classes)
                                - macro_f1(gold, first, classes)) if common else 0.0,
        "interval": (float(low), float(high)),
        "intents": intent_counts(before, after, common),
    }


def scores(gold: np.ndarray, answers: np.ndarray, classes: int,
           in_scope: np.ndarray) -> Dict[str, float]:
    """Macro-F1 and accuracy as served, and the share of in-scope messages clarified
    (out_of_scope has its own answer), as bench/source_out.py reports them."""
    return {"macro_f1": macro_f1(gold, answers, classes) if len(gold) else 0.0,
            "accuracy": float(np.sum(gold == answers)) / max(len(gold), 1),
            "clarified": float(np.sum(answers[in_scope] == classes))
            / max(int(np.sum(in_scope)), 1)}


def intent_counts(before: Readings, after: Readings,
                  common: Sequence[Tuple[str, str]]) -> List[Tuple[str, int, int, int, int, int]]:
    """(intent, labelled, answered before, after, rightly before, after) per intent."""
    meant = Counter(before[k][0] for k in common)
    said = [Counter(run[k][1] for k in common) for run in (before, after)]
    right = [Counter(run[k][1] for k in common if run[k][1] == run[k][0])
             for run in (before, after)]
    return [(intent, meant[intent], said[0][intent], said[1][intent], right[0][intent],
             right[1][intent]) for intent in sorted(meant)]


def report(result: Dict[str, Any], examples: int = 0,
           before: Optional[Readings] = None, after: Optional[Readings] = None) -> str:
    b, a = result["before"], result["after"]
    low, high = result["interval"]
    lines = [f"{result['messages']} messages in both runs "
             f"(only before: {result['only_before']}, only after: {result['only_after']})",
             "",
             "| run | macro-F1 | accuracy | clarified, in-scope |", "|---|---|---|---|",
             f"| before | {b['macro_f1']:.3f} | {b['accuracy']:.3f} | {b['clarified']:.1%} |",
             f"| after | {a['macro_f1']:.3f} | {a['accuracy']:.3f} | {a['clarified']:.1%} |",
             "",
             f"better {len(result['better'])}, worse {len(result['worse'])}: sign test "
             f"p = {result['sign_test_p']:.3f}",
             f"macro-F1 after − before {result['macro_f1_difference']:+.4f}, 95 % bootstrap "
             f"interval [{low:+.4f}, {high:+.4f}]",
             "", "| intent | labelled | answered | rightly |", "|---|---|---|---|"]
    lines += [f"| {intent} | {meant} | {s0} → {s1} | {r0} → {r1} |"
              for intent, meant, s0, s1, r0, r1 in result["intents"]]
    if examples and before is not None and after is not None:
        lines.append("")
        for sign, keys in (("+", result["better"]), ("−", result["worse"])):
            for key in keys[:examples]:
                lines.append(f"{sign} {key[1]}  ({before[key][0]}: "
                             f"{before[key][1]} → {after[key][1]})")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="a results/nlu/source_out.json")
    parser.add_argument("after", type=Path, help="another, of the change")
    parser.add_argument("--examples", type=int, default=0,
                        help="print up to this many messages gained and lost")
    args = parser.parse_args(argv)
    before, after = load(args.before), load(args.after)
    print(report(compare(before, after), args.examples, before, after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
