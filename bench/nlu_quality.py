"""Held-out NLU quality of the trained model, side by side with a simple baseline.

The model (models/current.tar.gz) is loaded in-process with Rasa's Agent and every
message of both held-out sets (tests/nlu/in_house, tests/nlu/real) is parsed, which is
faster than `rasa test nlu` (no plots, no entity evaluation) and gives the same intent
figures: targets are the intents of the held-out files (`faq/invoice` counts as `faq`,
as Rasa's ResponseSelector setup predicts it). Figures "as served" count a prediction
of `nlu_fallback` as wrong; the figures with the fallback reverted to the intent under
it (as `rasa test nlu` does) are given too. Macro averages run over the intents of the
test set (as in intent_report.json).

The baseline is char 1–4-gram TF-IDF + logistic regression trained on data/nlu only
(the files the model trains on, the real customers' messages in data/nlu/real too).
The FAQ sub-intent (which answer) is scored separately on the FAQ examples.

Runs in its own process (`python -m bench.nlu_quality --out file.json`) so that
TensorFlow's memory and threads are gone before the load test; `make test-nlu` runs
it with thresholds (--min-f1, --vs-baseline).
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
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from bench.stack import MODEL, PROJECT_ROOT

HELD_OUT_SETS = ("in_house", "real")
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
    result["_fallback_rows"] = {i for i, name in enumerate(served) if name == "nlu_fallback"}
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


def _set_figures(name: str, train: List[Example], model: Path) -> Dict[str, Any]:
    from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT

    from bench.held_out import HELD_OUT, unseen

    held_out, seen = unseen(HELD_OUT[name], TRAIN_DIR)
    test = [(m.get(TEXT), m.get(INTENT), m.get(INTENT_RESPONSE_KEY))
            for m in held_out.intent_examples]
    figures = {
        "test_dir": str(HELD_OUT[name].relative_to(PROJECT_ROOT)),
        "test_examples": len(test),
        "test_examples_also_trained_on": len(seen),
        "intents": len({i for _, i, _ in test}),
        "model": evaluate_model(test, model),
        "baseline": evaluate_baseline(train, test),
    }
    figures["model"]["fallback_share_in_scope"] = fallback_share(
        test, figures["model"].pop("_fallback_rows"))
    return figures


def fallback_share(test: List[Example], fallback_rows: Set[int]) -> float:
    """The share of in-scope messages (not `out_of_scope`) that got the fallback."""
    in_scope = [i for i, (_, intent, _) in enumerate(test) if intent != "out_of_scope"]
    return round(sum(1 for i in in_scope if i in fallback_rows) / max(len(in_scope), 1), 4)


def run(model: Path = MODEL, sets: Sequence[str] = HELD_OUT_SETS) -> Dict[str, Any]:
    """Model and baseline figures on each held-out set, on utterances neither trained on."""
    from bench.held_out import yaml_files

    train = read_examples(yaml_files(TRAIN_DIR))
    return {
        "train_examples": len(train),
        "sets": {name: _set_figures(name, train, model) for name in sets},
    }


def table(result: Dict[str, Any]) -> str:
    """The side-by-side table `make test-nlu` prints (macro-F1 / accuracy)."""
    rows = ["| held-out set | examples | model as served | model, fallback reverted "
            "| baseline | fallback on in-scope |",
            "|---|---|---|---|---|---|"]
    for name, figures in result["sets"].items():
        model, base = figures["model"], figures["baseline"]
        rows.append(
            f"| {name} | {figures['test_examples']} | "
            f"{model['as_served']['macro_f1']:.3f} / {model['as_served']['accuracy']:.3f} | "
            f"{model['macro_f1']:.3f} / {model['accuracy']:.3f} | "
            f"{base['macro_f1']:.3f} / {base['accuracy']:.3f} | "
            f"{model['fallback_share_in_scope']:.1%} |")
    return "\n".join(rows)


def weakest(figures: Dict[str, Any], count: int = 5) -> str:
    ranked = sorted(figures["model"]["per_intent_f1"].items(), key=lambda kv: kv[1])[:count]
    return ", ".join(f"{intent} {f1:.2f}" for intent, f1 in ranked)


def gate(result: Dict[str, Any], minimums: Dict[str, float], margins: Dict[str, float],
         max_fallback: Optional[Dict[str, float]] = None) -> int:
    """1 when a set's macro-F1 as served is under its minimum, or under the baseline's
    plus the set's margin (negative: allowed below the baseline by that much), or when
    more of its in-scope messages than allowed get the fallback (a clarification)."""
    failed = 0
    for name, figures in result["sets"].items():
        served = figures["model"]["as_served"]["macro_f1"]
        base = figures["baseline"]["macro_f1"]
        share = figures["model"]["fallback_share_in_scope"]
        if name in (max_fallback or {}) and share > max_fallback[name]:
            print(f"FAIL: {name}: fallback on {share:.1%} of in-scope messages > "
                  f"{max_fallback[name]:.1%}")
            failed = 1
        if name in minimums and served < minimums[name]:
            print(f"FAIL: {name}: macro-F1 as served {served:.3f} < {minimums[name]:.3f}")
            failed = 1
        if name in margins and served < base + margins[name]:
            print(f"FAIL: {name}: macro-F1 as served {served:.3f} < baseline {base:.3f} "
                  f"{margins[name]:+.3f}")
            failed = 1
    if not failed:
        print("OK: every held-out set at or above its threshold")
    return failed


def _pairs(values: Sequence[str]) -> Dict[str, float]:
    pairs = dict(value.split("=", 1) for value in values)
    return {name: float(number) for name, number in pairs.items()}


def quiet_logs(level: int = logging.WARNING) -> None:
    """Rasa's structlog events at `level` and above only. Left unconfigured, structlog
    prints every debug event, and Rasa logs each parse with its text
    (`processor.message.parse … parse_data_text=`): the gate would show whoever runs
    it the held-out messages it must stay blind to."""
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(level)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--out", type=Path, help="write the figures here (JSON)")
    parser.add_argument("--min-f1", action="append", default=[], metavar="SET=F1",
                        help="fail when the set's macro-F1 as served is below F1")
    parser.add_argument("--vs-baseline", action="append", default=[], metavar="SET=MARGIN",
                        help="fail when the set's macro-F1 as served < baseline + MARGIN")
    parser.add_argument("--max-fallback", action="append", default=[], metavar="SET=SHARE",
                        help="fail when more than SHARE of the set's in-scope messages "
                             "get the fallback")
    args = parser.parse_args(argv)
    quiet_logs()
    result = run(args.model)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    else:
        print(text)
    print(table(result))
    for name, figures in result["sets"].items():
        print(f"  {name}: weakest {weakest(figures)}; FAQ answers "
              f"{_fmt(figures['model']['faq_answer_accuracy'])}")
    return gate(result, _pairs(args.min_f1), _pairs(args.vs_baseline),
                _pairs(args.max_fallback))


def _fmt(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())
