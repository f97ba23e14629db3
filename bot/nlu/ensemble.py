"""The served intent classifier: the word model averaged with a character n-gram
model (chosen by `make bench-pipelines`, README, NLU pipeline).

Issue 13 asks for an ensemble among the pipelines compared. This one is the served
IntentClassifier (logistic regression over the featurizers' word and character
counts) whose probabilities are averaged with those of the baseline `make test-nlu`
prints beside it: char 1–4-gram TF-IDF + logistic regression over the (normalised)
text. The two make different mistakes (one sees jieba's words, the other only
characters), which is what an average can use. `weight` is the character model's
share. Both models are stored as arrays and JSON, loaded without running code.
"""

from __future__ import annotations

import json
import logging
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.nlu import linear_model
from bot.nlu.features import (
    append_dense,
    dense_sentence_matrix,
    dense_width,
    has_sentence_features,
)
from bot.nlu.intent_classifier import IntentClassifier
from bot.nlu.pinyin import syllables

logger = logging.getLogger(__name__)

VOCABULARY = "char_vocabulary.json"
IDF = "char_idf.npz"
CHARS = "char_model"
PINYIN_VOCABULARY = "pinyin_vocabulary.json"
PINYIN_IDF = "pinyin_idf.npy"


def char_vectorizer(max_ngram: int, min_df: int = 1) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char", ngram_range=(1, max_ngram), sublinear_tf=True,
                           lowercase=True, min_df=min_df)


def pinyin_vectorizer(min_df: int = 1) -> TfidfVectorizer:
    """Syllable 1–2-grams of the text's pinyin (bot/nlu/pinyin.py)."""
    return TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=(1, 2),
                           sublinear_tf=True, lowercase=True, min_df=min_df)


def blend(first: Dict[str, float], second: Dict[str, float], weight: float) -> List[Dict[str, Any]]:
    """`(1 - weight) * first + weight * second` over both label sets, best first; a
    label one model does not know counts 0 there."""
    labels = set(first) | set(second)
    mixed = {label: (1 - weight) * first.get(label, 0.0) + weight * second.get(label, 0.0)
             for label in labels}
    return [{"name": name, "confidence": float(value)}
            for name, value in sorted(mixed.items(), key=lambda item: -item[1])]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class EnsembleIntentClassifier(IntentClassifier):
    """IntentClassifier averaged with char 1–4-gram TF-IDF + logistic regression."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # char_dense: the character model also reads the dense sentence features
        # (pretrained word vectors, bot/nlu/word_vectors.py), beside its n-grams.
        # char_pinyin: and the pinyin syllables of the text, beside its characters.
        return {**IntentClassifier.get_default_config(), "weight": 0.3, "char_C": 10.0,
                "char_max_ngram": 4, "char_min_df": 1, "char_dense": False,
                "char_pinyin": False, "char_max_iter": 2000}

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage,
                 resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.vectorizer: Optional[TfidfVectorizer] = None
        self.chars: Optional[LogisticRegression] = None
        self.pinyin: Optional[TfidfVectorizer] = None
        # How many dense features the character model reads (0: n-grams only).
        self.dense_width = 0
        # The character model's fit while the word model's runs (train()).
        self._chars_fit: Optional[Future] = None

    def train(self, training_data: TrainingData) -> Resource:
        """Both models. config.yml stops their L-BFGS early on purpose (`max_iter`,
        `char_max_iter`: as good on the dev set in less time), so sklearn's
        ConvergenceWarning for such a stop becomes one log line per model; any other
        warning passes through. The block opens before the character model's fit starts
        on the other thread and closes after it ends (persist() waits for it), so its
        warnings are caught too."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            resource = self._train_both(training_data)
        for warning in caught:
            if not issubclass(warning.category, ConvergenceWarning):
                warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                       warning.lineno)
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            for name, model, cap in (("Word", self.clf, self.config["max_iter"]),
                                     ("Character", self.chars, self.config["char_max_iter"])):
                if model is not None and int(np.max(model.n_iter_)) >= cap:
                    logger.info("%s model stopped at max_iter=%s, as configured", name, cap)
        return resource

    def _train_both(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            return super().train(training_data)
        self.vectorizer = char_vectorizer(self.config["char_max_ngram"],
                                          self.config["char_min_df"])
        self.vectorizer.fit([e.get(TEXT) for e in examples])
        if self.config["char_pinyin"]:
            self.pinyin = pinyin_vectorizer(self.config["char_min_df"])
            self.pinyin.fit([syllables(e.get(TEXT)) for e in examples])
        self.dense_width = dense_width(examples) if self.config["char_dense"] else 0
        self.chars = LogisticRegression(C=self.config["char_C"],
                                        max_iter=self.config["char_max_iter"])
        # The two fits overlap on a second core (numpy, BLAS and scipy's sparse
        # products release the GIL): with the Meituan chats the ensemble's fit took
        # 66 s one after the other, 43 s overlapped (README, Performance).
        with ThreadPoolExecutor(max_workers=1) as pool:
            self._chars_fit = pool.submit(self.chars.fit, self._char_X(examples),
                                          [e.get(INTENT) for e in examples])
            return super().train(training_data)  # persist() waits for the other

    def process(self, messages: List[Message]) -> List[Message]:
        featured = [m for m in messages if has_sentence_features(m)]
        if self.vectorizer is None or self.chars is None or not featured:
            return super().process(messages)  # the word model alone
        super().process([m for m in messages if not has_sentence_features(m)])
        words = self.clf.predict_proba(self._create_X(featured))
        chars = self.chars.predict_proba(self._char_X(featured))
        for message, word_row, char_row in zip(featured, words, chars, strict=True):
            ranking = blend(dict(zip(self.clf.classes_, word_row, strict=True)),
                            dict(zip(self.chars.classes_, char_row, strict=True)),
                            self.config["weight"])
            message.set("intent", ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking[: self.config["ranking_length"]],
                        add_to_output=True)
        return messages

    def _char_X(self, messages: List[Message]) -> Any:
        assert self.vectorizer is not None
        grams = self.vectorizer.transform([m.get(TEXT) for m in messages])
        if self.pinyin is not None:
            grams = scipy.sparse.hstack(
                [grams, self.pinyin.transform([syllables(m.get(TEXT)) for m in messages])],
                format="csr")
        if not self.dense_width:
            return grams
        return append_dense(grams, dense_sentence_matrix(messages, self.dense_width))

    def persist(self) -> None:
        if self._chars_fit is not None:
            self._chars_fit.result()  # the character model's fit, or its exception
            self._chars_fit = None
        super().persist()
        if self.vectorizer is None or self.chars is None:
            return
        with self._model_storage.write_to(self._resource) as model_dir:
            vocabulary = {term: int(index) for term, index in self.vectorizer.vocabulary_.items()}
            (model_dir / VOCABULARY).write_text(json.dumps(vocabulary, ensure_ascii=False),
                                                encoding="utf-8")
            np.savez(model_dir / IDF, idf=self.vectorizer.idf_,
                     dense_width=np.array(self.dense_width))
            if self.pinyin is not None:
                (model_dir / PINYIN_VOCABULARY).write_text(json.dumps(
                    {term: int(index) for term, index in self.pinyin.vocabulary_.items()},
                    ensure_ascii=False), encoding="utf-8")
                np.save(model_dir / PINYIN_IDF, self.pinyin.idf_, allow_pickle=False)
            (model_dir / CHARS).mkdir(exist_ok=True)
            linear_model.save(self.chars, model_dir / CHARS)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "EnsembleIntentClassifier":
        component = super().load(config, model_storage, resource, execution_context, **kwargs)
        try:
            with model_storage.read_from(resource) as model_dir:
                component.vectorizer, component.dense_width = _load_vectorizer(
                    model_dir, component.config)
                component.chars = linear_model.load(model_dir / CHARS)
                if component.config["char_pinyin"]:
                    component.pinyin = _load_pinyin(model_dir)
        except (ValueError, FileNotFoundError):
            # All or nothing: a character model without its pinyin reads rows of the
            # wrong width.
            component.vectorizer, component.chars, component.pinyin = None, None, None
            logger.warning("Character model of the ensemble not found: word model alone")
        return component


def _load_vectorizer(folder: Path, config: Dict[Text, Any]) -> Tuple[TfidfVectorizer, int]:
    """The character model's vectorizer and how many dense features it reads (0 in
    models stored before `char_dense`)."""
    vectorizer = char_vectorizer(config["char_max_ngram"])
    vectorizer.vocabulary_ = json.loads((folder / VOCABULARY).read_text(encoding="utf-8"))
    with np.load(folder / IDF, allow_pickle=False) as arrays:
        vectorizer.idf_ = arrays["idf"]
        width = int(arrays["dense_width"]) if "dense_width" in arrays else 0
    return vectorizer, width


def _load_pinyin(folder: Path) -> TfidfVectorizer:
    vectorizer = pinyin_vectorizer()
    vectorizer.vocabulary_ = json.loads((folder / PINYIN_VOCABULARY).read_text(
        encoding="utf-8"))
    vectorizer.idf_ = np.load(folder / PINYIN_IDF, allow_pickle=False)
    return vectorizer
