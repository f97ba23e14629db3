"""The pretrained word vectors (bot/nlu/word_vectors.py): the table, its cache, the
refusal of a table that names a class, and the features a message gets."""

from __future__ import annotations

import gzip
import logging
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu import word_vectors
from bot.nlu.word_vectors import WordVectorFeaturizer, WordVectors


def small_table() -> WordVectors:
    vectors = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    return WordVectors(["空调", "口", "红"], vectors)


def test_a_word_gets_its_row_an_unknown_word_its_characters_mean_else_nothing() -> None:
    table = small_table()
    assert table.token("空调").tolist() == [1, 0, 0]
    assert table.token("口红").tolist() == [0, 0.5, 0.5]  # not in the table: 口 and 红
    assert table.token("xyz") is None
    assert table.tokens(["空调", "xyz"]).tolist() == [[1, 0, 0], [0, 0, 0]]


def test_the_packaged_table_places_related_words_near_each_other() -> None:
    table = word_vectors.load()
    assert table.vectors.shape == (55455, 200)
    assert np.allclose(np.linalg.norm(table.vectors[:100], axis=1), 1, atol=1e-3)

    def similarity(a: str, b: str) -> float:
        return float(table.token(a) @ table.token(b))

    # Words no training example needs to contain: the point of pretrained vectors.
    assert similarity("便宜", "贵") > similarity("便宜", "快递")
    assert similarity("退货", "退款") > similarity("退货", "谢谢")


def message_with(texts: list) -> Message:
    message = Message(data={TEXT: "".join(texts)})
    position, tokens = 0, []
    for text in texts:
        tokens.append(Token(text, position))
        position += len(text)
    message.set(TOKENS_NAMES[TEXT], tokens)
    return message


def test_a_message_gets_one_row_per_token_and_their_mean() -> None:
    featurizer = WordVectorFeaturizer(
        {**WordVectorFeaturizer.get_default_config(), "alias": None}, "vectors")
    featurizer.table = small_table()
    message = message_with(["空调", "xyz", "红"])
    featurizer.process([message])
    sequence = next(f for f in message.features if f.type == FEATURE_TYPE_SEQUENCE)
    sentence = next(f for f in message.features if f.type == FEATURE_TYPE_SENTENCE)
    assert sequence.features.shape == (3, 3)
    # The mean over the tokens that have a vector (xyz has none).
    assert sentence.features.tolist() == [[0.5, 0, 0.5]]

    empty = Message(data={TEXT: ""})
    featurizer.process([empty])
    assert empty.features == []  # left to the fallback, like the count featurizers


def test_mean_max_pooling_puts_the_maximum_beside_the_mean() -> None:
    featurizer = WordVectorFeaturizer(
        {**WordVectorFeaturizer.get_default_config(), "alias": None, "scale": 2.0,
         "pooling": "mean_max"}, "vectors")
    featurizer.table = small_table()
    message = message_with(["空调", "xyz", "口红"])
    featurizer.process([message])
    sentence = next(f for f in message.features if f.type == FEATURE_TYPE_SENTENCE)
    # Tokens with a vector, scaled: 空调 [2, 0, 0], 口红 [0, 1, 1].
    assert sentence.features.tolist() == [[1, 0.5, 0.5, 2, 1, 1]]

    unknown = message_with(["xyz"])
    featurizer.process([unknown])
    sentence = next(f for f in unknown.features if f.type == FEATURE_TYPE_SENTENCE)
    assert sentence.features.tolist() == [[0] * 6]  # the width stays that of the others


def write_package_table(path: Path, payload: object) -> Path:
    with gzip.open(path, "wb") as handle:
        pickle.dump(payload, handle)
    return path


class Boom:
    def __reduce__(self):
        return (os.system, ("touch /tmp/word-vectors-pwned",))


def test_a_table_that_names_a_class_is_refused_not_run(tmp_path) -> None:
    path = write_package_table(tmp_path / "test.model", (["的 0.1 0.2"], {}, Boom()))
    with pytest.raises(pickle.UnpicklingError):
        word_vectors._read_package(path)
    assert not Path("/tmp/word-vectors-pwned").exists()


def test_the_table_is_cached_and_a_broken_cache_is_read_again(tmp_path, monkeypatch,
                                                             caplog) -> None:
    package = write_package_table(tmp_path / "test.model",
                                  (["空调 3 4", "口 0 2"], {}, {}))
    monkeypatch.setattr(word_vectors, "_package_table", lambda: package)
    cache_dir = tmp_path / "cache"
    word_vectors.load.cache_clear()
    try:
        table = word_vectors.load(cache_dir)
        assert table.token("空调").tolist() == pytest.approx([0.6, 0.8], abs=1e-3)
        cached = cache_dir / f"{word_vectors.PACKAGE}-{word_vectors.VERSION}.npz"
        assert cached.exists()

        # The next process reads the cache, not the package.
        monkeypatch.setattr(word_vectors, "_package_table",
                            lambda: pytest.fail("the package was read again"))
        word_vectors.load.cache_clear()
        assert word_vectors.load(cache_dir).token("口").tolist() == [0, 1]

        # A damaged cache: a warning, then the package again (and a new cache).
        cached.write_bytes(b"not a numpy file")
        monkeypatch.setattr(word_vectors, "_package_table", lambda: package)
        word_vectors.load.cache_clear()
        caplog.set_level(logging.WARNING)
        assert word_vectors.load(cache_dir).token("空调").tolist() \
            == pytest.approx([0.6, 0.8], abs=1e-3)
        assert "unreadable" in caplog.text
    finally:
        word_vectors.load.cache_clear()


def test_an_unknown_pooling_is_refused_when_the_pipeline_is_built() -> None:
    with pytest.raises(ValueError, match="pooling"):
        WordVectorFeaturizer({**WordVectorFeaturizer.get_default_config(), "alias": None,
                              "pooling": "median"}, "vectors")


def test_sentence_vectors_are_centred_on_the_training_messages(tmp_path, monkeypatch) -> None:
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from tests.bot.test_classifiers import CONTEXT, storage_at

    monkeypatch.setattr(word_vectors, "load", small_table)
    config = {**WordVectorFeaturizer.get_default_config(), "alias": None,
              "pooling": "mean_max"}
    storage = storage_at(tmp_path / "model")
    featurizer = WordVectorFeaturizer.create(config, storage, Resource("wv"), CONTEXT)
    data = TrainingData([message_with(["空调"]), message_with(["口红"]), Message(data={})])
    featurizer.train(data)

    loaded = WordVectorFeaturizer.load(config, storage, Resource("wv"), CONTEXT)
    # 空调 [1, 0, 0] and 口红 [0, .5, .5]: mean and max are each [.5, .25, .25] on average.
    assert loaded.offset.tolist() == [0.5, 0.25, 0.25] * 2
    messages = [message_with(["空调"]), message_with(["口红"])]
    loaded.process(messages)
    rows = [next(f for f in m.features if f.type == FEATURE_TYPE_SENTENCE).features[0]
            for m in messages]
    assert rows[0].tolist() == [0.5, -0.25, -0.25] * 2
    assert np.allclose(np.mean(rows, axis=0), 0)
    # The sequence features (one row per token) are not centred.
    sequence = next(f for f in messages[0].features if f.type == FEATURE_TYPE_SEQUENCE)
    assert sequence.features.tolist() == [[1, 0, 0]]


def test_a_model_without_an_offset_is_served_uncentred(tmp_path, monkeypatch, caplog) -> None:
    from rasa.engine.storage.resource import Resource

    from tests.bot.test_classifiers import CONTEXT, storage_at

    monkeypatch.setattr(word_vectors, "load", small_table)
    config = {**WordVectorFeaturizer.get_default_config(), "alias": None}
    with caplog.at_level(logging.WARNING):
        loaded = WordVectorFeaturizer.load(config, storage_at(tmp_path / "empty"),
                                           Resource("wv"), CONTEXT)
    assert loaded.offset is None and "not centred" in caplog.text
    message = message_with(["空调"])
    loaded.process([message])
    sentence = next(f for f in message.features if f.type == FEATURE_TYPE_SENTENCE)
    assert sentence.features.tolist() == [[1, 0, 0]]


def test_idf_weighting_lets_rare_words_lead_the_mean(tmp_path, monkeypatch) -> None:
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from tests.bot.test_classifiers import CONTEXT, storage_at

    monkeypatch.setattr(word_vectors, "load", small_table)
    config = {**WordVectorFeaturizer.get_default_config(), "alias": None, "weighting": "idf"}
    storage = storage_at(tmp_path / "model")
    featurizer = WordVectorFeaturizer.create(config, storage, Resource("wv"), CONTEXT)
    featurizer.train(TrainingData([message_with(["空调", "口"]), message_with(["空调"])]))

    loaded = WordVectorFeaturizer.load(config, storage, Resource("wv"), CONTEXT)
    # Two messages: 空调 in both (idf 1), 口 in one (1 + ln 1.5), an unseen word 1 + ln 3.
    assert loaded.idf == pytest.approx({"空调": 1.0, "口": 1 + np.log(1.5)})
    assert loaded.unseen_idf == pytest.approx(1 + np.log(3))
    message = message_with(["空调", "红"])
    loaded.process([message])
    sentence = next(f for f in message.features if f.type == FEATURE_TYPE_SENTENCE).features[0]
    weighted = np.array([1, 0, 1 + np.log(3)]) / (2 + np.log(3))  # 空调 [1,0,0], 红 [0,0,1]
    first = np.array([1, 1 + np.log(1.5), 0]) / (2 + np.log(1.5))
    offset = (first + np.array([1, 0, 0])) / 2
    assert sentence == pytest.approx(weighted - offset, abs=1e-6)

    unweighted = WordVectorFeaturizer.load({**config, "weighting": "none"}, storage,
                                           Resource("wv"), CONTEXT)
    assert unweighted.idf is None


def test_an_unknown_weighting_is_refused() -> None:
    with pytest.raises(ValueError, match="weighting"):
        WordVectorFeaturizer({**WordVectorFeaturizer.get_default_config(), "alias": None,
                              "weighting": "tfidf"}, "vectors")
