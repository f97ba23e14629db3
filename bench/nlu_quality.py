"""Held-out NLU quality of the trained model, side by side with a simple baseline.

The model (models/current.tar.gz) is loaded in-process with Rasa's Agent and every
message of tests/nlu is parsed, which is faster than `rasa test nlu` (no plots, no
entity evaluation) and gives the same intent figures: targets are the intents of
the held-out file (`faq/invoice` counts as `faq`, as Rasa's ResponseSelector setup
predicts it), a prediction of `nlu_fallback` is reverted to the intent under it (as `rasa test nlu`
does; the figures "as served", where it counts as wrong, are given too), and the
macro average runs over the intents of the test set (as in intent_report.json).

The baseline is char 1–4-gram TF-IDF + logistic regression trained on data/nlu only.
The FAQ sub-intent (which answer) is scored separately on the FAQ examples.

Runs in its own process (`python -m bench.nlu_quality --out file.json`) so that
TensorFlow's memory and threads are gone before the load test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bench.stack import MODEL, PROJECT_ROOT

TEST_FILE = PROJECT_ROOT / "tests" / "nlu" / "test_nlu.yml"
TRAIN_DIR = PROJECT_ROOT / "data" / "nlu"

Example = Tuple[str, str, Optional[str]]  # text, intent, retrieval key (faq/invoice)


def read_examples(paths: Sequence[Path]) -> List[Example]:
    """Intent examples of Rasa YAML training-data files."""
    from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    examples: List[Example] = []
    for path in paths:
        data = RasaYAMLReader().read(str(path))
        for message in data.intent_examples:
            examples.append(
                (message.get(TEXT), message.get(INTENT), message.get(INTENT_RESPONSE_KEY))
            )
    return examples


def scores(targets: List[str], predictions: List[str]) -> Dict[str, Any]:
    """Accuracy, macro/weighted F1 over the test intents, and F1 per intent."""
    from sklearn.metrics import accuracy_score, classification_report

    labels = sorted(set(targets))
    report = classification_report(
        targets, predictions, labels=labels, output_dict=True, zero_division=0
    )
    return {
        "examples": len(targets),
        "accuracy": round(float(accuracy_score(targets, predictions)), 4),
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
        "weighted_f1": round(report["weighted avg"]["f1-score"], 4),
        "per_intent_f1": {label: round(report[label]["f1-score"], 4) for label in labels},
        "confusions": _confusions(targets, predictions),
    }


def _confusions(targets: List[str], predictions: List[str], top: int = 8) -> List[List[Any]]:
    counts: Dict[Tuple[str, str], int] = {}
    for target, predicted in zip(targets, predictions, strict=True):
        if target != predicted:
            counts[(target, predicted)] = counts.get((target, predicted), 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])[:top]
    return [[t, p, n] for (t, p), n in ranked]


def evaluate_model(test: List[Example], model: Path = MODEL) -> Dict[str, Any]:
    """Parses every held-out message with the trained model (in-process)."""
    from rasa.core.agent import Agent
    from rasa.nlu.classifiers.fallback_classifier import (
        is_fallback_classifier_prediction,
        undo_fallback_prediction,
    )

    started = time.perf_counter()
    agent = Agent.load(str(model))
    load_s = time.perf_counter() - started

    async def parse_all() -> Tuple[List[Dict[str, Any]], List[float]]:
        await agent.parse_message("你好")  # the first call builds TensorFlow's graphs
        parsed, times = [], []
        for text, _, _ in test:
            tick = time.perf_counter()
            parsed.append(await agent.parse_message(text))
            times.append(time.perf_counter() - tick)
        return parsed, times

    parsed, times = asyncio.run(parse_all())
    targets = [intent for _, intent, _ in test]
    served = [_intent(p) for p in parsed]
    # As `rasa test nlu` does: a fallback prediction is reverted to the intent
    # under it, so the classifier is judged (and compared with the baseline).
    result = scores(targets, [
        _intent(undo_fallback_prediction(p)) if is_fallback_classifier_prediction(p)
        else _intent(p) for p in parsed
    ])
    as_served = scores(targets, served)
    result["as_served"] = {
        "accuracy": as_served["accuracy"], "macro_f1": as_served["macro_f1"],
        "nlu_fallback": served.count("nlu_fallback"),
    }
    faq_targets, faq_predictions = [], []
    for (_, _, key), p in zip(test, parsed, strict=True):
        if key:
            selected = ((p.get("response_selector") or {}).get("faq") or {}).get("response", {})
            faq_targets.append(key)
            faq_predictions.append(selected.get("intent_response_key") or "None")
    result["faq_answer_accuracy"] = _accuracy(faq_targets, faq_predictions)
    result["model_load_s"] = round(load_s, 2)
    result["parse_ms_median"] = round(statistics.median(times) * 1000, 2)
    result["parse_ms_p95"] = round(sorted(times)[int(0.95 * (len(times) - 1))] * 1000, 2)
    return result


def _intent(parsed: Dict[str, Any]) -> str:
    return str((parsed.get("intent") or {}).get("name") or "None")


def _accuracy(targets: List[str], predictions: List[str]) -> Optional[float]:
    if not targets:
        return None
    return round(sum(t == p for t, p in zip(targets, predictions, strict=True)) / len(targets), 4)


def _baseline_classifier() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True, lowercase=True),
        LogisticRegression(C=10.0, max_iter=2000),
    )


def evaluate_baseline(train: List[Example], test: List[Example]) -> Dict[str, Any]:
    """char n-gram TF-IDF + logistic regression on the same training examples."""
    started = time.perf_counter()
    intents = _baseline_classifier().fit([t for t, _, _ in train], [i for _, i, _ in train])
    faq_train = [(t, k) for t, _, k in train if k]
    answers = _baseline_classifier().fit([t for t, _ in faq_train], [k for _, k in faq_train])
    train_s = time.perf_counter() - started
    predictions = list(intents.predict([t for t, _, _ in test]))
    result = scores([i for _, i, _ in test], predictions)
    faq_test = [(t, k) for t, _, k in test if k]
    result["faq_answer_accuracy"] = _accuracy(
        [k for _, k in faq_test], list(answers.predict([t for t, _ in faq_test]))
    )
    result["train_s"] = round(train_s, 2)
    return result


def run(model: Path = MODEL) -> Dict[str, Any]:
    """Model and baseline figures on the held-out utterances neither trained on."""
    from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT

    from bench.held_out import unseen

    train = read_examples(sorted(TRAIN_DIR.glob("*.yml")))
    held_out, seen = unseen(TEST_FILE.parent, TRAIN_DIR)
    test = [(m.get(TEXT), m.get(INTENT), m.get(INTENT_RESPONSE_KEY))
            for m in held_out.intent_examples]
    return {
        "test_file": str(TEST_FILE.relative_to(PROJECT_ROOT)),
        "train_examples": len(train),
        "test_examples": len(test),
        "test_examples_also_trained_on": len(seen),
        "intents": len({i for _, i, _ in test}),
        "model": evaluate_model(test, model),
        "baseline": evaluate_baseline(train, test),
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--out", type=Path, help="write the figures here (JSON)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    result = run(args.model)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
