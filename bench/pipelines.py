"""Which NLU pipeline serves real customers best: train each candidate on data/nlu
and score it on both held-out sets, as served (a fallback counts wrong).

Candidates: today's config.yml and the configs in bench/pipelines/ (character
n-grams only; DIET; an ensemble of today's classifier with a char TF-IDF model).
Each is trained with Rasa itself into a temporary folder, then parsed in-process
like `make test-nlu` does (bench/nlu_quality.py). Results go to
results/nlu/pipelines.json and a Markdown table on stdout.

    python -m bench.pipelines [--only current,char_ngrams]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from bench.held_out import HELD_OUT, TRAIN_DIR, unseen, yaml_files
from bench.nlu_quality import evaluate_model, fallback_share, quiet_logs, read_examples
from bench.stack import BIN, PROJECT_ROOT

CANDIDATES: Dict[str, Path] = {
    "current": PROJECT_ROOT / "config.yml",
    **{path.stem: path for path in sorted((PROJECT_ROOT / "bench" / "pipelines").glob("*.yml"))},
}
OUT = PROJECT_ROOT / "results" / "nlu" / "pipelines.json"


def train(config: Path, folder: Path) -> Path:
    subprocess.run(
        [str(BIN / "rasa"), "train", "--config", str(config), "--data", "data",
         "knowledge/faq.yml", "--out", str(folder), "--fixed-model-name", config.stem],
        cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return folder / f"{config.stem}.tar.gz"


def score(model: Path) -> Dict[str, Any]:
    from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT

    figures = {}
    for name, folder in HELD_OUT.items():
        held_out, _ = unseen(folder, TRAIN_DIR)
        test = [(m.get(TEXT), m.get(INTENT), m.get(INTENT_RESPONSE_KEY))
                for m in held_out.intent_examples]
        result = evaluate_model(test, model)
        share = fallback_share(test, result.pop("_fallback_rows"))
        figures[name] = {
            "as_served": result["as_served"],
            "fallback_reverted": {"accuracy": result["accuracy"], "macro_f1": result["macro_f1"]},
            "parse_ms_median": result["parse_ms_median"],
            "fallback_share_in_scope": share,
        }
    return figures


def table(results: Dict[str, Dict[str, Any]]) -> str:
    rows = ["| pipeline | in-house macro-F1 / acc. (as served) | real macro-F1 / acc. "
            "(as served) | fallback on in-scope (in-house / real) | parse ms |",
            "|---|---|---|---|---|"]
    for name, sets in results.items():
        cells = [f"{sets[s]['as_served']['macro_f1']:.3f} / {sets[s]['as_served']['accuracy']:.3f}"
                 for s in HELD_OUT]
        fallback = " / ".join(f"{sets[s]['fallback_share_in_scope']:.1%}" for s in HELD_OUT)
        rows.append(f"| {name} | {' | '.join(cells)} | {fallback} | "
                    f"{sets['real']['parse_ms_median']} |")
    return "\n".join(rows)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated candidate names")
    args = parser.parse_args(argv)
    quiet_logs()  # the held-out sets are parsed: their texts stay off the terminal
    names: List[str] = [n for n in args.only.split(",") if n] or list(CANDIDATES)
    train_examples = len(read_examples(yaml_files(TRAIN_DIR)))
    results: Dict[str, Dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="pipelines-") as folder:
        for name in names:
            print(f"==> {name}: training on {train_examples} examples", flush=True)
            results[name] = score(train(CANDIDATES[name], Path(folder)))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
