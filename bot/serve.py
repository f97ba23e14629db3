"""`rasa` for our servers, without TensorFlow when the model needs none.

    python -m bot.serve run --model models/current.tar.gz ...   # any `rasa` arguments
    python -m bot.serve api-args    # how the HTTP API is exposed, one argument a line

Rasa 3.6 imports TensorFlow whenever it starts a server, whatever the model: its
dialogue code imports its training utilities, which import five modules that only
TensorFlow components use (DIET, the ResponseSelector, TED and their training
callbacks). Our model has no TensorFlow component (config.yml), yet importing it
cost the Rasa server ~5 s of start-up and ~600 MB of its ~1.1 GB (README,
Performance).

When every component in the model's predict graph is in TENSORFLOW_FREE (read
from the model's metadata before Rasa loads), those five modules are replaced by
placeholders: their classes exist, so Rasa's imports and isinstance checks work,
and anything that would really use one raises an error naming the module and the
way out. Otherwise, or with RASA_TENSORFLOW=1, this is exactly `rasa`.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import logging
import os
import sys
import tarfile
import types
from pathlib import Path
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Set

logger = logging.getLogger(__name__)

# Rasa modules that import TensorFlow and that the server imports with any model.
TENSORFLOW_ONLY_MODULES = (
    "rasa.utils.tensorflow.callback",
    "rasa.utils.tensorflow.data_generator",
    "rasa.nlu.classifiers.diet_classifier",
    "rasa.nlu.selectors.response_selector",
    "rasa.core.policies.ted_policy",
)

# Components (by module) that predict without TensorFlow.
TENSORFLOW_FREE = frozenset({
    "bot.nlu.normalizer", "bot.nlu.entity_ruler", "bot.nlu.intent_classifier",
    "bot.nlu.faq_selector", "bot.nlu.ensemble", "bot.nlu.word_vectors", "bot.nlu.fallback",
    "bot.nlu.places", "bot.nlu.room_area", "bot.nlu.budget", "bot.nlu.intent_guard",
    "rasa.core.policies.ensemble", "rasa.core.policies.rule_policy",
    "rasa.core.policies.memoization",
    "rasa.graph_components.converters.nlu_message_converter",
    "rasa.graph_components.providers.domain_provider",
    "rasa.graph_components.providers.rule_only_provider",
    "rasa.nlu.classifiers.fallback_classifier",
    "rasa.nlu.classifiers.regex_message_handler",
    "rasa.nlu.classifiers.logistic_regression_classifier",
    "rasa.nlu.classifiers.keyword_intent_classifier",
    "rasa.nlu.extractors.entity_synonyms",
    "rasa.nlu.extractors.regex_entity_extractor",
    "rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer",
    "rasa.nlu.featurizers.sparse_featurizer.lexical_syntactic_featurizer",
    "rasa.nlu.featurizers.sparse_featurizer.regex_featurizer",
    "rasa.nlu.tokenizers.jieba_tokenizer",
    "rasa.nlu.tokenizers.whitespace_tokenizer",
})

ENV_SWITCH = "RASA_TENSORFLOW"  # 1: always load TensorFlow, as plain `rasa` does


class TensorFlowSkipped(RuntimeError):
    """Something used a TensorFlow component in a server started without TensorFlow."""


def _placeholder(module: str, name: str) -> type:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise TensorFlowSkipped(
            f"{module}.{name} needs TensorFlow, which this server did not load because "
            f"the model needs none (bot/serve.py). Start it with {ENV_SWITCH}=1."
        )

    return type(name, (), {"__module__": module, "__init__": refuse})


class _Placeholders(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves TENSORFLOW_ONLY_MODULES as modules whose every name is a placeholder."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names: Set[str] = set(names)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None
                  ) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname in self.names:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = types.ModuleType(spec.name, "Placeholder: TensorFlow not loaded (bot/serve.py)")
        classes: dict = {}

        def __getattr__(name: str) -> type:  # noqa: N807 (module-level __getattr__)
            if name.startswith("__"):
                raise AttributeError(name)
            if name not in classes:
                classes[name] = _placeholder(spec.name, name)
            return classes[name]

        module.__getattr__ = __getattr__  # type: ignore[method-assign]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def model_archive(path: Optional[str]) -> Optional[Path]:
    """The archive Rasa will load for --model `path` (a file, or the newest in a folder)."""
    candidate = Path(path or "models")
    if candidate.is_dir():
        archives = sorted(candidate.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
        return archives[-1] if archives else None
    return candidate if candidate.is_file() else None


def predict_components(archive: Path) -> List[str]:
    """Module paths of the components in the model's predict graph."""
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.isfile() and member.name.lstrip("/") == "metadata.json":
                handle = tar.extractfile(member)
                if handle is None:
                    break
                metadata = json.load(handle)
                nodes = metadata["predict_schema"]["nodes"].values()
                return sorted({node["uses"] for node in nodes})
    raise ValueError(f"{archive}: no metadata.json")


def needs_tensorflow(archive: Optional[Path]) -> bool:
    if archive is None:
        return True
    try:
        components = predict_components(archive)
    except (OSError, ValueError, KeyError, tarfile.TarError) as error:
        logger.warning("Cannot read the components of %s (%s): loading TensorFlow",
                       archive, error)
        return True
    unknown = [c for c in components if c.rpartition(".")[0] not in TENSORFLOW_FREE]
    if unknown:
        logger.info("TensorFlow loaded for %s", ", ".join(unknown))
    return bool(unknown)


def _option(args: Sequence[str], *names: str) -> Optional[str]:
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def skip_tensorflow(args: Sequence[str]) -> bool:
    """Whether `rasa <args>` can run without TensorFlow."""
    if os.environ.get(ENV_SWITCH, "").strip().lower() in ("1", "true", "yes"):
        return False
    if not args or args[0] not in ("run", "shell") or (len(args) > 1 and args[1] == "actions"):
        return False
    return not needs_tensorflow(model_archive(_option(args, "--model", "-m")))


def install_placeholders() -> None:
    loaded = [name for name in TENSORFLOW_ONLY_MODULES if name in sys.modules]
    if loaded:
        raise RuntimeError(f"already imported, too late to skip TensorFlow: {loaded}")
    sys.meta_path.insert(0, _Placeholders(TENSORFLOW_ONLY_MODULES))


# Sanic's own limit on what it reads into memory (its default is 100 MB); the 64 KB
# limit of the chat routes is checked with a Chinese answer in bot/channels/errors.py.
# Sanic reads SANIC_* variables into its config when the app is made; an operator's
# own value wins.
SANIC_MAX_BODY_BYTES = 1024 * 1024


def api_args(environ: Mapping[str, str]) -> List[str]:
    """The `rasa run` arguments that expose the HTTP API (scripts/run.sh).

    Development: a token in the query string (RASA_AUTH_TOKEN) and any origin. In
    production (APP_ENV=production) the token travels in a header — a JWT signed with
    RASA_JWT_SECRET (`Authorization: Bearer …`, payload {"user": {"username": …,
    "role": "admin"}}), query tokens are not accepted — and CORS allows only
    CORS_ORIGINS (none when unset); nginx lets only the allowed hosts reach the API
    (deploy/nginx.conf.template).
    """
    if environ.get("APP_ENV") == "production":
        secret = environ.get("RASA_JWT_SECRET", "")
        if len(secret) < 32:
            raise SystemExit("APP_ENV=production needs RASA_JWT_SECRET (32+ characters): "
                             "the HTTP API takes its token in a header, never in the URL")
        origins = environ.get("CORS_ORIGINS", "").replace(",", " ").split()
        return ["--enable-api", "--jwt-secret", secret, "--jwt-method", "HS256",
                *(["--cors", *origins] if origins else [])]
    token = environ.get("RASA_AUTH_TOKEN", "")
    if not token:
        raise SystemExit("RASA_AUTH_TOKEN is empty")
    return ["--enable-api", "--auth-token", token, "--cors", "*"]


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["api-args"]:
        print("\n".join(api_args(os.environ)))
        return
    os.environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(SANIC_MAX_BODY_BYTES))
    if skip_tensorflow(args):
        install_placeholders()
        print("TensorFlow not loaded: no component of the model needs it (bot/serve.py)",
              file=sys.stderr)
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]
    rasa_main()


if __name__ == "__main__":
    main()
