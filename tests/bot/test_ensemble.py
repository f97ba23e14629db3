"""The ensemble candidate of `make bench-pipelines` (bot/nlu/ensemble.py): it averages
the served classifier with a character model, and survives the model storage."""

from __future__ import annotations

import warnings

import pytest
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from bot.nlu.ensemble import EnsembleIntentClassifier, blend
from bot.nlu.intent_classifier import IntentClassifier
from tests.bot.test_classifiers import CONTEXT, featurizer, storage_at, training_data  # noqa: F401


def test_blend_averages_over_both_label_sets_best_first() -> None:
    ranking = blend({"a": 0.6, "b": 0.4}, {"b": 0.9, "c": 0.1}, weight=0.5)
    assert [e["name"] for e in ranking] == ["b", "a", "c"]
    assert ranking[0]["confidence"] == pytest.approx(0.65)
    assert ranking[1]["confidence"] == pytest.approx(0.3)
    assert ranking[2]["confidence"] == pytest.approx(0.05)
    assert sum(e["confidence"] for e in ranking) == pytest.approx(1.0)


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_weight_zero_is_the_word_model_and_one_the_character_model(weight) -> None:
    ranking = blend({"a": 0.7, "b": 0.3}, {"a": 0.2, "b": 0.8}, weight=weight)
    assert ranking[0]["name"] == ("a" if weight == 0.0 else "b")


def _trained(tmp_path, featurize, weight: float) -> EnsembleIntentClassifier:
    config = {**EnsembleIntentClassifier.get_default_config(), "max_iter": 500, "weight": weight}
    storage = storage_at(tmp_path / f"ens{weight}")
    classifier = EnsembleIntentClassifier.create(config, storage, Resource("ens"), CONTEXT)
    classifier.train(featurize(training_data(), train=True))
    return EnsembleIntentClassifier.load(config, storage, Resource("ens"), CONTEXT)


def test_weight_zero_ranks_exactly_as_the_served_classifier(tmp_path, featurizer) -> None:  # noqa: F811
    featurize, message_for = featurizer
    served = IntentClassifier.create(
        {**IntentClassifier.get_default_config(), "max_iter": 500},
        storage_at(tmp_path / "ic"), Resource("ic"), CONTEXT)
    served.train(featurize(training_data(), train=True))
    ensemble = _trained(tmp_path, featurize, weight=0.0)
    first, second = message_for("发票 怎么 开"), message_for("发票 怎么 开")
    served.process([first])
    ensemble.process([second])
    assert second.get("intent")["name"] == first.get("intent")["name"] == "faq"
    for ours, theirs in zip(second.get("intent_ranking"), first.get("intent_ranking"),
                            strict=True):
        assert ours["name"] == theirs["name"]
        assert ours["confidence"] == pytest.approx(theirs["confidence"])


def test_the_character_model_is_stored_and_moves_the_ranking(tmp_path, featurizer) -> None:  # noqa: F811
    featurize, message_for = featurizer
    ensemble = _trained(tmp_path, featurize, weight=0.5)
    assert ensemble.chars is not None and ensemble.vectorizer is not None
    words_only = _trained(tmp_path, featurize, weight=0.0)
    blended, plain = message_for("你好 在 吗"), message_for("你好 在 吗")
    ensemble.process([blended])
    words_only.process([plain])
    assert blended.get("intent")["name"] == plain.get("intent")["name"] == "greet"
    assert blended.get("intent")["confidence"] != pytest.approx(plain.get("intent")["confidence"])
    assert sum(e["confidence"] for e in blended.get("intent_ranking")) == pytest.approx(1.0)


def test_an_empty_message_still_gets_no_intent(tmp_path, featurizer) -> None:  # noqa: F811
    featurize, message_for = featurizer
    ensemble = _trained(tmp_path, featurize, weight=0.3)
    empty, question = Message(data={"text": ""}), message_for("发票 能 开 吗")
    ensemble.process([empty, question])
    assert empty.get("intent") == {"name": None, "confidence": 0.0}
    assert question.get("intent")["name"] == "faq"


@pytest.mark.parametrize("char_dense", [False, True])
def test_the_character_model_reads_the_word_vectors_when_told(
        tmp_path, featurizer, char_dense) -> None:  # noqa: F811
    import numpy as np
    from rasa.shared.nlu.constants import TEXT

    from bot.nlu.word_vectors import WordVectorFeaturizer, WordVectors

    featurize, message_for = featurizer
    vectors = WordVectorFeaturizer(
        {**WordVectorFeaturizer.get_default_config(), "alias": None}, "vectors")
    vectors.table = WordVectors(["发票", "你好"], np.eye(2, 3, dtype=np.float32))

    def with_vectors(data, train=False):
        featurize(data, train)
        return vectors.process_training_data(data)

    config = {**EnsembleIntentClassifier.get_default_config(), "max_iter": 500,
              "weight": 0.5, "char_dense": char_dense}
    storage = storage_at(tmp_path / "dense")
    classifier = EnsembleIntentClassifier.create(config, storage, Resource("e"), CONTEXT)
    classifier.train(with_vectors(training_data(), train=True))
    loaded = EnsembleIntentClassifier.load(config, storage, Resource("e"), CONTEXT)
    assert loaded.dense_width == (3 if char_dense else 0)
    assert loaded.chars.coef_.shape[1] == len(loaded.vectorizer.vocabulary_) + loaded.dense_width
    message = vectors.process([message_for("发票 怎么 开")])[0]
    loaded.process([message])
    assert message.get(TEXT) and message.get("intent")["name"] == "faq"


@pytest.mark.parametrize("min_df", [1, 2])
def test_character_n_grams_seen_once_can_be_left_out(tmp_path, featurizer, min_df) -> None:  # noqa: F811
    featurize, message_for = featurizer
    config = {**EnsembleIntentClassifier.get_default_config(), "max_iter": 500,
              "char_min_df": min_df}
    storage = storage_at(tmp_path / "e")
    classifier = EnsembleIntentClassifier.create(config, storage, Resource("e"), CONTEXT)
    data = training_data()
    classifier.train(featurize(data, train=True))
    loaded = EnsembleIntentClassifier.load(config, storage, Resource("e"), CONTEXT)
    vocabulary = loaded.vectorizer.vocabulary_
    assert loaded.chars.coef_.shape[1] == len(vocabulary)
    texts = [m.get("text") for m in data.training_examples]
    in_one = {term for term in vocabulary if sum(term in text for text in texts) == 1}
    # 2: the training set (27 texts) has such n-grams, and none of them is kept.
    assert bool(in_one) is (min_df == 1)
    message = message_for("发票 怎么 开")
    loaded.process([message])
    assert message.get("intent")["name"] == "faq"


def _stored_with_pinyin(tmp_path, featurize):
    """An ensemble with `char_pinyin` trained and stored: the arguments of `load`."""
    config = {**EnsembleIntentClassifier.get_default_config(), "max_iter": 500,
              "char_pinyin": True}
    storage = storage_at(tmp_path / "pinyin")
    classifier = EnsembleIntentClassifier.create(config, storage, Resource("e"), CONTEXT)
    classifier.train(featurize(training_data(), train=True))
    return config, storage, Resource("e"), CONTEXT


def test_the_character_model_reads_the_pinyin_when_told(tmp_path, featurizer) -> None:  # noqa: F811
    """A homophone typo (发漂 for 发票) shares no character n-gram with 发票 but the
    same syllables: the pinyin columns carry it."""
    featurize, message_for = featurizer
    loaded = EnsembleIntentClassifier.load(*_stored_with_pinyin(tmp_path, featurize))
    assert loaded.pinyin is not None
    chars = len(loaded.vectorizer.vocabulary_)
    assert loaded.chars.coef_.shape[1] == chars + len(loaded.pinyin.vocabulary_)
    row = loaded._char_X([message_for("发漂")])
    assert row[0, chars + loaded.pinyin.vocabulary_["fa piao"]] > 0
    assert row[0, loaded.vectorizer.vocabulary_["发"]] > 0
    assert "漂" not in loaded.vectorizer.vocabulary_
    message = message_for("发票 怎么 开")
    loaded.process([message])
    assert message.get("intent")["name"] == "faq"


def test_without_pinyin_the_character_model_reads_characters_only(tmp_path, featurizer) -> None:  # noqa: F811
    ensemble = _trained(tmp_path, featurizer[0], weight=0.3)
    assert ensemble.pinyin is None
    assert ensemble.chars.coef_.shape[1] == len(ensemble.vectorizer.vocabulary_)


def test_a_model_missing_its_pinyin_serves_the_word_model_alone(tmp_path, featurizer) -> None:  # noqa: F811
    """A half-present character model (its pinyin file gone) is dropped whole, with a
    warning, instead of failing every parse on rows of the wrong width."""
    featurize, message_for = featurizer
    stored = _stored_with_pinyin(tmp_path, featurize)
    with stored[1].read_from(stored[2]) as folder:
        (folder / "pinyin_idf.npy").unlink()
    loaded = EnsembleIntentClassifier.load(*stored)
    assert loaded.chars is None and loaded.vectorizer is None and loaded.pinyin is None
    message = message_for("发票 怎么 开")
    loaded.process([message])
    assert message.get("intent")["name"] == "faq"


def test_a_failed_character_fit_fails_training_and_stores_nothing(
        tmp_path, featurizer, monkeypatch) -> None:  # noqa: F811
    """The character model is fitted on a second thread while the word model is: its
    failure must reach the caller, not leave a model stored without it."""
    featurize, _ = featurizer

    class BrokenFit(LogisticRegression):  # the character model's class only
        def fit(self, X, y, sample_weight=None):
            raise ValueError("character fit failed")

    monkeypatch.setattr("bot.nlu.ensemble.LogisticRegression", BrokenFit)
    storage = storage_at(tmp_path / "broken")
    classifier = EnsembleIntentClassifier.create(
        {**EnsembleIntentClassifier.get_default_config(), "max_iter": 500}, storage,
        Resource("e"), CONTEXT)
    with pytest.raises(ValueError, match="character fit failed"):
        classifier.train(featurize(training_data(), train=True))
    with pytest.raises(ValueError):
        with storage.read_from(Resource("e")):
            pass


def test_the_word_models_stop_at_max_iter_is_logged_not_warned(
        tmp_path, featurizer, caplog, recwarn) -> None:  # noqa: F811
    """config.yml stops the word model's L-BFGS early on purpose: sklearn's
    ConvergenceWarning for that stop becomes one INFO line, and training goes on."""
    featurize, message_for = featurizer
    config = {**EnsembleIntentClassifier.get_default_config(), "max_iter": 1}
    classifier = EnsembleIntentClassifier.create(config, storage_at(tmp_path / "stop"),
                                                 Resource("stop"), CONTEXT)
    with caplog.at_level("INFO", logger="bot.nlu.ensemble"):
        classifier.train(featurize(training_data(), train=True))
    classifier.persist()
    assert "Word model stopped at max_iter=1" in caplog.text
    assert classifier.clf.n_iter_[0] == 1
    assert not [w for w in recwarn if w.category is ConvergenceWarning]
    message = message_for("多少 钱")
    classifier.process([message])
    assert message.get("intent")["name"]


def test_the_character_models_stop_is_logged_too_and_only_its_own(
        tmp_path, featurizer, caplog, recwarn) -> None:  # noqa: F811
    """Its fit runs on the other thread, inside the block train() opens before it
    starts: its ConvergenceWarning is caught there and named after the model that
    stopped."""
    featurize, message_for = featurizer
    config = {**EnsembleIntentClassifier.get_default_config(), "max_iter": 500,
              "char_max_iter": 1}
    classifier = EnsembleIntentClassifier.create(config, storage_at(tmp_path / "chars"),
                                                 Resource("chars"), CONTEXT)
    with caplog.at_level("INFO", logger="bot.nlu.ensemble"):
        classifier.train(featurize(training_data(), train=True))
    assert classifier.chars is not None and classifier.chars.n_iter_[0] == 1
    assert "Character model stopped at max_iter=1" in caplog.text
    assert "Word model stopped" not in caplog.text
    assert not [w for w in recwarn if w.category is ConvergenceWarning]
    message = message_for("多少 钱")
    classifier.process([message])
    assert message.get("intent")["name"]


def test_other_warnings_of_the_word_models_fit_pass_through(
        tmp_path, featurizer, monkeypatch) -> None:  # noqa: F811
    featurize, _ = featurizer

    def warn_and_train(self, training_data):
        warnings.warn("something else", UserWarning, stacklevel=2)
        return Resource("other")

    monkeypatch.setattr(IntentClassifier, "train", warn_and_train)
    classifier = EnsembleIntentClassifier.create(
        EnsembleIntentClassifier.get_default_config(), storage_at(tmp_path / "other"),
        Resource("other"), CONTEXT)
    with pytest.warns(UserWarning, match="something else"):
        classifier.train(featurize(training_data(), train=True))
