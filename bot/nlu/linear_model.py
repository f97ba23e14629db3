"""Saving and loading a fitted logistic regression as plain arrays and JSON.

Rasa persists its LogisticRegressionClassifier with skops, which is safe but whose
import alone walks every loaded module for each of ~800 sklearn types: 2–5 s of
the Rasa server's start-up (README, Performance). A fitted logistic regression is
three arrays (weights, intercepts, class labels) and its parameters; an .npz read
with allow_pickle=False executes nothing, so loading stays safe.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import numpy as np
from sklearn.linear_model import LogisticRegression

from bot.nlu.features import transposable_weights

ARRAYS = "logistic_regression.npz"
PARAMS = "logistic_regression.json"


def save(classifier: LogisticRegression, folder: Path) -> None:
    """Writes a fitted classifier into `folder`."""
    np.savez(folder / ARRAYS, coef=np.ascontiguousarray(classifier.coef_),
             intercept=classifier.intercept_, classes=np.asarray(classifier.classes_))
    (folder / PARAMS).write_text(json.dumps(_json_params(classifier)), encoding="utf-8")


def load(folder: Path) -> LogisticRegression:
    """The classifier `save` wrote; FileNotFoundError when there is none."""
    params = json.loads((folder / PARAMS).read_text(encoding="utf-8"))
    with np.load(folder / ARRAYS, allow_pickle=False) as arrays:
        coef, intercept, classes = arrays["coef"], arrays["intercept"], arrays["classes"]
    classifier = LogisticRegression(**params)
    classifier.coef_ = coef
    classifier.intercept_ = intercept
    classifier.classes_ = classes
    classifier.n_features_in_ = coef.shape[1]
    classifier.n_iter_ = np.zeros(1, dtype=np.int32)
    transposable_weights(classifier)
    return classifier


def _json_params(classifier: LogisticRegression) -> Dict[str, Any]:
    """The estimator's parameters that JSON can carry (all of them for ours)."""
    params = {}
    for name, value in classifier.get_params().items():
        if value is None or isinstance(value, (bool, int, float, str)):
            params[name] = value
        elif isinstance(value, dict):  # class_weight given as a mapping
            params[name] = {str(k): v for k, v in value.items()}
    return params
