"""Evaluates the practice-mode technique classifier on its held-out test set.

The classifier is trained on knowledge/practice/technique_examples.yml only; the
test set (tests/practice/technique_test.yml) is never trained on. Exits 1 when the
macro-F1 is below the threshold.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml
from gate import gate
from sklearn.metrics import accuracy_score, classification_report, f1_score

from shop.practice.classifier import default_classifier


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("test_set", type=Path)
    parser.add_argument("--min-f1", type=float, required=True)
    args = parser.parse_args()

    examples = yaml.safe_load(args.test_set.read_text(encoding="utf-8"))["examples"]
    gold = [e["technique"] for e in examples]
    classifier = default_classifier()
    predicted = [classifier.predict(e["text"]).technique for e in examples]
    macro = f1_score(gold, predicted, average="macro")
    print(f"technique classifier, held-out: {len(gold)} replies, {len(set(gold))} labels")
    print(f"  accuracy {accuracy_score(gold, predicted):.3f}  macro-F1 {macro:.3f}")
    print(classification_report(gold, predicted, digits=3, zero_division=0))
    return gate(macro, args.min_f1)


if __name__ == "__main__":
    sys.exit(main())
