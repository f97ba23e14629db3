"""The held-out NLU set as the model is judged on it: utterances it never trained on.

The held-out file (tests/nlu) was written apart from the training data, yet short
everyday replies collide (你好, 谢谢, 好的 …): 71 of 420 are also training examples.
A collision measures memory, not understanding, so `make test-nlu` and `make bench`
score only the held-out utterances whose normalised text (the assistant's own
normaliser, then lower case and single spaces) is in no training file.

    python -m bench.held_out [--out results/nlu/held_out.yml]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import List, Set, Tuple

from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.normalizer import ChineseTextNormalizer

PROJECT_ROOT = Path(__file__).resolve().parents[1]

TEST_DIR = PROJECT_ROOT / "tests" / "nlu"
TRAIN_DIR = PROJECT_ROOT / "data" / "nlu"
DEFAULT_OUT = PROJECT_ROOT / "results" / "nlu" / "held_out.yml"


def _key(normalizer: ChineseTextNormalizer, text: str) -> str:
    return " ".join(normalizer.normalize(text).lower().split())


def unseen(test: Path = TEST_DIR, train: Path = TRAIN_DIR) -> Tuple[TrainingData, List[str]]:
    """The held-out examples not in the training data, and the texts left out."""
    normalizer = ChineseTextNormalizer(ChineseTextNormalizer.get_default_config())
    seen: Set[str] = {
        _key(normalizer, example.get("text"))
        for example in load_data(str(train)).training_examples if example.get("text")
    }
    kept: List[Message] = []
    dropped: List[str] = []
    for example in load_data(str(test)).training_examples:
        text = example.get("text") or ""
        if _key(normalizer, text) in seen:
            dropped.append(text)
        else:
            kept.append(example)
    return TrainingData(training_examples=kept), dropped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    data, dropped = unseen()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(data.nlu_as_yaml(), encoding="utf-8")
    counts = Counter(e.get("intent") for e in data.training_examples)
    fewest = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: kv[1])[:3])
    print(f"held-out NLU: {len(data.training_examples)} unseen utterances in "
          f"{len(counts)} intents ({len(dropped)} also in the training data left out; "
          f"fewest: {fewest}) → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
