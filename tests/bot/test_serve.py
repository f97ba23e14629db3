"""The server launcher (bot/serve.py): TensorFlow is skipped only for a model that
needs none, and a placeholder that is really used says so."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import List

import pytest
import yaml

from bot import serve

PROJECT = Path(__file__).resolve().parents[2]

OUR_MODEL = [
    "bot.nlu.normalizer.ChineseTextNormalizer",
    "rasa.nlu.tokenizers.jieba_tokenizer.JiebaTokenizer",
    "rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer.CountVectorsFeaturizer",
    "bot.nlu.word_vectors.WordVectorFeaturizer",
    "bot.nlu.ensemble.EnsembleIntentClassifier",
    "bot.nlu.faq_selector.FaqSelector",
    "bot.nlu.fallback.IntentFloorFallbackClassifier",
    "rasa.core.policies.rule_policy.RulePolicy",
    "rasa.core.policies.ensemble.DefaultPolicyPredictionEnsemble",
]


def archive(path: Path, components: List[str], name: str = "metadata.json") -> Path:
    """A model archive whose metadata lists `components` in the predict graph."""
    nodes = {f"node{i}": {"uses": c} for i, c in enumerate(components)}
    metadata = json.dumps({"predict_schema": {"nodes": nodes}, "train_schema": {"nodes": {}}})
    with tarfile.open(path, "w:gz") as tar:
        for member, data in ((name, metadata.encode()), ("components/x/y.json", b"{}")):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_our_model_needs_no_tensorflow(tmp_path) -> None:
    model = archive(tmp_path / "m.tar.gz", OUR_MODEL)
    assert serve.predict_components(model) == sorted(OUR_MODEL)
    assert serve.needs_tensorflow(model) is False
    assert serve.skip_tensorflow(["run", "--model", str(model), "--port", "5005"]) is True
    assert serve.skip_tensorflow(["shell", f"--model={model}"]) is True


@pytest.mark.parametrize("component", [
    "rasa.nlu.classifiers.diet_classifier.DIETClassifier",
    "rasa.nlu.selectors.response_selector.ResponseSelector",
    "rasa.core.policies.ted_policy.TEDPolicy",
    "somebody.elses.Component",  # unknown: it might import TensorFlow
])
def test_any_other_component_loads_tensorflow(tmp_path, component) -> None:
    model = archive(tmp_path / "m.tar.gz", [*OUR_MODEL, component])
    assert serve.needs_tensorflow(model) is True
    assert serve.skip_tensorflow(["run", "--model", str(model)]) is False


def test_newest_archive_of_a_folder_is_the_one_checked(tmp_path) -> None:
    import os

    old = archive(tmp_path / "old.tar.gz", OUR_MODEL)
    new = archive(tmp_path / "new.tar.gz", [*OUR_MODEL, "rasa.core.policies.ted_policy.TEDPolicy"])
    os.utime(old, (1, 1))
    assert serve.model_archive(str(tmp_path)) == new
    assert serve.skip_tensorflow(["run", "--model", str(tmp_path)]) is False


def test_when_in_doubt_tensorflow_is_loaded(tmp_path, monkeypatch) -> None:
    assert serve.needs_tensorflow(None) is True  # no model found
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a tar file")
    assert serve.needs_tensorflow(broken) is True
    no_metadata = archive(tmp_path / "nm.tar.gz", OUR_MODEL, name="other.json")
    assert serve.needs_tensorflow(no_metadata) is True
    model = archive(tmp_path / "m.tar.gz", OUR_MODEL)
    assert serve.skip_tensorflow(["run", "actions", "--model", str(model)]) is False
    assert serve.skip_tensorflow(["train", "--model", str(model)]) is False
    monkeypatch.setenv(serve.ENV_SWITCH, "1")
    assert serve.skip_tensorflow(["run", "--model", str(model)]) is False


PROBE = """
import sys
from bot import serve
serve.install_placeholders()
import rasa.core.agent, rasa.server  # what `rasa run` imports
from rasa.graph_components.validators.default_recipe_validator import DefaultV1RecipeValidator
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
assert not isinstance(object(), DIETClassifier)
loaded = sorted(m for m in sys.modules if m == "tensorflow" or m.startswith("tensorflow."))
try:
    DIETClassifier({}, None, None, None)
except serve.TensorFlowSkipped as error:
    print("refused:", error)
print("tensorflow modules:", len(loaded))
"""


def test_placeholders_keep_tensorflow_out_and_refuse_use() -> None:
    """In a fresh interpreter: this one has imported TensorFlow already."""
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=PROJECT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "tensorflow modules: 0" in result.stdout
    assert "refused: rasa.nlu.classifiers.diet_classifier.DIETClassifier needs TensorFlow" \
        in result.stdout
    assert "RASA_TENSORFLOW=1" in result.stdout


def test_the_api_takes_a_header_token_and_configured_origins_in_production():
    secret = "s" * 40
    production = {"APP_ENV": "production", "RASA_JWT_SECRET": secret,
                  "RASA_AUTH_TOKEN": "query-token", "CORS_ORIGINS": "https://shop.example.com,"
                  " https://m.shop.example.com"}
    args = serve.api_args(production)
    assert args == ["--enable-api", "--jwt-secret", secret, "--jwt-method", "HS256",
                    "--cors", "https://shop.example.com", "https://m.shop.example.com"]
    assert "--auth-token" not in args and "*" not in args  # no token in URLs, no any-origin
    assert "--cors" not in serve.api_args({**production, "CORS_ORIGINS": ""})
    for weak in ({**production, "RASA_JWT_SECRET": ""}, {**production, "RASA_JWT_SECRET": "x"}):
        with pytest.raises(SystemExit, match="RASA_JWT_SECRET"):
            serve.api_args(weak)


def test_development_keeps_the_query_token(capsys, monkeypatch):
    assert serve.api_args({"RASA_AUTH_TOKEN": "t0k"}) == [
        "--enable-api", "--auth-token", "t0k", "--cors", "*"]
    with pytest.raises(SystemExit):
        serve.api_args({})
    monkeypatch.setenv("RASA_AUTH_TOKEN", "t0k")
    monkeypatch.delenv("APP_ENV", raising=False)
    serve.main(["api-args"])
    assert capsys.readouterr().out.split() == ["--enable-api", "--auth-token", "t0k",
                                               "--cors", "*"]


def test_every_component_of_ours_in_the_pipeline_is_known_tensorflow_free():
    """A component module missing from the list makes the server load TensorFlow
    (~600 MB) for every model; the end-to-end test finds it only after training."""
    pipeline = yaml.safe_load((PROJECT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    ours = {step["name"].rpartition(".")[0] for step in pipeline if "." in step["name"]}
    assert ours and ours <= serve.TENSORFLOW_FREE, ours - serve.TENSORFLOW_FREE
