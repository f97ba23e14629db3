"""The held-out NLU sets as the model is judged on them: utterances it never trained on.

Two sets, never trained on:
- `in_house` (tests/nlu/in_house): written by the team apart from the training data,
  in the team's own voice;
- `real` (tests/nlu/real): real customers' messages from public corpora that no
  training file draws on, labelled blind under data/LABELLING.md (SOURCES.md there).

Short everyday replies collide with training examples (你好, 谢谢, 好的 …). A collision
measures memory, not understanding, so `make test-nlu` and `make bench` score only the
held-out utterances whose normalised text (the assistant's own normaliser, then lower
case and single spaces) is in no training file.

    python -m bench.held_out [--set in_house|real] [--out results/nlu/held_out.yml]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Set, Tuple

from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.normalizer import ChineseTextNormalizer

PROJECT_ROOT = Path(__file__).resolve().parents[1]

HELD_OUT: Dict[str, Path] = {
    "in_house": PROJECT_ROOT / "tests" / "nlu" / "in_house",
    "real": PROJECT_ROOT / "tests" / "nlu" / "real",
}
TEST_DIR = HELD_OUT["in_house"]
TRAIN_DIR = PROJECT_ROOT / "data" / "nlu"
DEFAULT_OUT = PROJECT_ROOT / "results" / "nlu" / "held_out.yml"


def yaml_files(folder: Path) -> List[Path]:
    """The training-data files of a folder and its sub-folders; the manifests
    (SOURCES.md, sources.tsv) beside them are not training data."""
    return sorted(folder.rglob("*.yml"))


def load_folder(folder: Path) -> TrainingData:
    return TrainingData().merge(*(load_data(str(path)) for path in yaml_files(folder)))


def _key(normalizer: ChineseTextNormalizer, text: str) -> str:
    return " ".join(normalizer.normalize(text).lower().split())


def key_normalizer() -> ChineseTextNormalizer:
    """Without the colloquial table: which texts count as one must not move when the
    table changes (only width, script, case and spaces are folded)."""
    return ChineseTextNormalizer({**ChineseTextNormalizer.get_default_config(), "lexicon": ""})


def unseen(test: Path = TEST_DIR, train: Path = TRAIN_DIR) -> Tuple[TrainingData, List[str]]:
    """The held-out examples not in the training data, and the texts left out."""
    normalizer = key_normalizer()
    seen: Set[str] = {
        _key(normalizer, example.get("text"))
        for example in load_folder(train).training_examples if example.get("text")
    }
    kept: List[Message] = []
    dropped: List[str] = []
    for example in load_folder(test).training_examples:
        text = example.get("text") or ""
        if _key(normalizer, text) in seen:
            dropped.append(text)
        else:
            kept.append(example)
    return TrainingData(training_examples=kept), dropped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(HELD_OUT), default="in_house")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    data, dropped = unseen(HELD_OUT[args.set])
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
