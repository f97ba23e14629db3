"""Which objection-handling technique a trainee's reply uses.

Character n-grams (1–4) with TF-IDF and a logistic regression (scikit-learn): the
examples are short Chinese sentences, so characters carry the signal ("正因为",
"如果", "您主要担心"), and the model trains in well under a second from
knowledge/practice/technique_examples.yml whenever the process starts.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, List, Tuple

from shop.practice import data


@dataclass(frozen=True)
class Prediction:
    """The predicted technique and the model's confidence in it."""

    technique: str
    confidence: float


@lru_cache(maxsize=1)
def _converter():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """Half-width, Simplified, trimmed: the same canonical form as the NLU uses."""
    return _converter().convert(unicodedata.normalize("NFKC", text or "")).strip()


class TechniqueClassifier:
    """A small text classifier over the labelled example replies."""

    def __init__(self, examples: Iterable[Tuple[str, str]]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        texts, labels = zip(*[(normalize(t), label) for t, label in examples], strict=True)
        self._model = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True),
            LogisticRegression(C=10.0, max_iter=5000, class_weight="balanced"),
        )
        self._model.fit(list(texts), list(labels))

    @property
    def labels(self) -> List[str]:
        return list(self._model.classes_)

    def predict(self, text: str) -> Prediction:
        """The most likely technique of `text` (with its probability)."""
        probabilities = self._model.predict_proba([normalize(text)])[0]
        best = int(probabilities.argmax())
        return Prediction(str(self._model.classes_[best]), float(probabilities[best]))


@lru_cache(maxsize=1)
def default_classifier() -> TechniqueClassifier:
    """The classifier trained on the knowledge base (once per process)."""
    return TechniqueClassifier((e["text"], e["technique"]) for e in data.technique_examples())
