"""Fails (exit 1) when the held-out NLU macro-F1 is below the threshold.

Reads the intent report written by `rasa test nlu` and prints the figures the
README quotes: accuracy, macro-F1, weighted F1 and the weakest intents.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gate import gate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("report", type=Path)
    parser.add_argument("--min-f1", type=float, required=True)
    args = parser.parse_args()

    report = json.loads(args.report.read_text(encoding="utf-8"))
    macro = report["macro avg"]["f1-score"]
    weighted = report["weighted avg"]["f1-score"]
    accuracy = report.get("accuracy", 0.0)
    intents = {
        name: scores
        for name, scores in report.items()
        if isinstance(scores, dict) and "support" in scores and "avg" not in name
    }
    weakest = sorted(intents.items(), key=lambda item: item[1]["f1-score"])[:5]
    print(f"held-out NLU: {sum(s['support'] for s in intents.values())} examples, "
          f"{len(intents)} intents")
    print(f"  accuracy {accuracy:.3f}  macro-F1 {macro:.3f}  weighted-F1 {weighted:.3f}")
    print("  weakest: " + ", ".join(f"{n} {s['f1-score']:.2f}" for n, s in weakest))
    return gate(macro, args.min_f1)


if __name__ == "__main__":
    sys.exit(main())
