"""How the NLU reads real customers of a source it has never seen, without a test set.

The in-house held-out set is in the team's voice and flatters the model; the real one
(tests/nlu/real) must not be tuned on. Cross-validation (bench/thresholds.py) mixes
every source into every fold, so a fold has seen other messages of the same shop,
platform and phrasing. Here each real training source (data/nlu/real/sources.tsv:
Taobao chats, shopping-assistant queries, delivery reviews) is left out in turn: the
model is trained by Rasa on everything else in data/nlu and parses that source's
messages — the situation of the held-out set and of a new shop's customers. The
pooled parses give macro-F1 and accuracy before the fallback and as served (a
clarification counted wrong, at config.yml's thresholds), and the clarified share.

    python -m bench.source_out                      # make bench-source-out (~4 min)
    python -m bench.source_out --config bench/pipelines/word_char_lr.yml
    python -m bench.compare before.json results/nlu/source_out.json   # message by message

Results: results/nlu/source_out.json and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bench.held_out import TRAIN_DIR, load_folder
from bench.stack import PROJECT_ROOT
from bench.thresholds import (
    Parse,
    clarified,
    configured,
    configured_floors,
    fold_scores,
    parse_fold,
    sweep,
    train_fold,
)

SOURCES = TRAIN_DIR / "real" / "sources.tsv"
OUT = PROJECT_ROOT / "results" / "nlu" / "source_out.json"


# Repositories holding copies of one corpus are one source: left out together, or the
# model would have seen the same chats' customers (two copies of Taobao's ECD).
SAME_CORPUS = {"LinzheLai/ecommerce-customer-service-posttrain":
               "cooelf/DeepUtteranceAggregation"}


def source_of_text(path: Path = SOURCES) -> Dict[str, str]:
    """Each real training message's text → the corpus it came from, named by the
    repository of its first copy."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["text"]: SAME_CORPUS.get(row["source_repo"], row["source_repo"])
                for row in csv.DictReader(handle, delimiter="\t")}


def splits(data: Any, sources: Dict[str, str]) -> List[Tuple[str, Any, Any]]:
    """(source, everything else, that source's messages) for each real source."""
    from rasa.shared.nlu.training_data.training_data import TrainingData

    by_source: Dict[str, List[Any]] = defaultdict(list)
    for example in data.intent_examples:
        by_source[sources.get(example.get("text"), "")].append(example)
    shared = dict(entity_synonyms=data.entity_synonyms, regex_features=data.regex_features,
                  lookup_tables=data.lookup_tables, responses=data.responses)
    return [(source, TrainingData([e for s, group in by_source.items() if s != source
                                   for e in group], **shared),
             TrainingData(by_source[source], **shared))
            for source in sorted(s for s in by_source if s)]


def served_scores(parses: Sequence[Parse], threshold: float, ambiguity: float,
                  floors: Optional[Dict[str, float]] = None) -> Dict[str, float]:
    """Macro-F1 and accuracy as served (a clarification is wrong) and the share of
    in-scope messages clarified; `floors`: the intents' own thresholds."""
    from sklearn.metrics import accuracy_score, f1_score

    targets = [p[0] for p in parses]
    answers = ["clarified" if clarified(p, threshold, ambiguity, floors) else p[1]
               for p in parses]
    in_scope = [p for p in parses if p[0] != "out_of_scope"]
    asked = sum(1 for p in in_scope if clarified(p, threshold, ambiguity, floors))
    return {"macro_f1": round(float(f1_score(targets, answers, average="macro",
                                             labels=sorted(set(targets)))), 4),
            "accuracy": round(float(accuracy_score(targets, answers)), 4),
            "clarified": round(asked / max(len(in_scope), 1), 4)}


def served_sweep(parses: Sequence[Parse],
                 floors: Optional[Dict[str, float]] = None) -> List[Dict[str, Any]]:
    """Every (threshold, ambiguity) pair of the cross-validation's sweep, with its
    cost there and the scores as served here: what moving the thresholds would do to
    customers of an unseen source."""
    return [{"threshold": row["threshold"], "ambiguity": row["ambiguity"],
             "cost": row["cost"],
             **served_scores(parses, row["threshold"], row["ambiguity"], floors)}
            for row in sweep(parses)]


def sweep_table(rows: Sequence[Dict[str, Any]]) -> str:
    lines = ["| threshold | ambiguity | as served | clarified, in-scope | cost |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['threshold']} | {r['ambiguity']} | {r['macro_f1']:.3f} / "
              f"{r['accuracy']:.3f} | {r['clarified']:.1%} | {r['cost']:.3f} |" for r in rows]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=PROJECT_ROOT / "config.yml",
                        help="pipeline to train (default: config.yml)")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="where the readings go, for python -m bench.compare "
                             "(default: results/nlu/source_out.json)")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    threshold, ambiguity = configured()
    floors = configured_floors()
    rows: List[Dict[str, Any]] = []
    pooled: List[Parse] = []
    # Every dev message's reading, to study the errors (training data, not a test set).
    readings: List[Dict[str, Any]] = []
    for source, train, test in splits(load_folder(TRAIN_DIR), source_of_text()):
        with tempfile.TemporaryDirectory(prefix="source-out-") as folder:
            parses = parse_fold(train_fold(train, Path(folder), args.config), test)
        pooled += parses
        readings += [{"source": source, "text": example.get("text"), "intent": target,
                      "top": top, "confidence": round(confidence, 3), "second": second,
                      "second_confidence": round(runner_up, 3)}
                     for example, (target, top, confidence, runner_up, second)
                     in zip(test.intent_examples, parses, strict=True)]
        rows.append({"source": source, "messages": len(parses), "raw": fold_scores(parses),
                     "served": served_scores(parses, threshold, ambiguity, floors)})
        print(f"{source}: {len(parses)} messages parsed", file=sys.stderr)
    rows.append({"source": "all real sources", "messages": len(pooled),
                 "raw": fold_scores(pooled),
                 "served": served_scores(pooled, threshold, ambiguity, floors)})
    swept = served_sweep(pooled, floors)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"config": str(args.config), "threshold": threshold,
                                    "ambiguity": ambiguity, "intent_thresholds": floors,
                                    "rows": rows, "sweep": swept, "readings": readings},
                                   ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{args.config.name}, each real source left out of training:")
    print("| source left out | messages | macro-F1 / acc. (before fallback) | "
          "as served | clarified, in-scope |\n|---|---|---|---|---|")
    for row in rows:
        raw, served = row["raw"], row["served"]
        print(f"| {row['source']} | {row['messages']} | {raw['macro_f1']:.3f} / "
              f"{raw['accuracy']:.3f} | {served['macro_f1']:.3f} / {served['accuracy']:.3f}"
              f" | {served['clarified']:.1%} |")
    print(f"\nAll real sources at other fallback thresholds (configured: {threshold} / "
          f"{ambiguity}):\n{sweep_table(swept)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
