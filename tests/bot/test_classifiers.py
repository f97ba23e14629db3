"""The linear classifiers of the NLU pipeline: the intent classifier's feature rows
equal Rasa's, and the FAQ selector trains, persists, loads and answers in the
format Rasa's own utter_faq action reads."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest
import scipy.sparse
from rasa.core.actions.action import ActionRetrieveResponse
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.faq_selector import FaqSelector
from bot.nlu.features import append_dense, sentence_matrix

CONTEXT = ExecutionContext(GraphSchema({}), "test")


def storage_at(path: Path) -> LocalModelStorage:
    path.mkdir(parents=True, exist_ok=True)
    return LocalModelStorage(path)


# ================================================================ feature rows


def featured(text: str, parts: List[Any]) -> Message:
    """A message with (type, origin, matrix) features on TEXT."""
    message = Message(data={TEXT: text})
    for kind, origin, matrix in parts:
        message.add_features(Features(matrix, kind, TEXT, origin))
    return message


def random_sparse(rows: int, cols: int, seed: int) -> scipy.sparse.coo_matrix:
    return scipy.sparse.random(rows, cols, density=0.3, format="coo", random_state=seed)


@pytest.mark.parametrize("with_dense", [False, True])
def test_sentence_rows_equal_rasas(with_dense: bool) -> None:
    messages = []
    for seed in range(4):
        parts = [
            ("sequence", "words", random_sparse(3, 7, seed)),
            ("sentence", "words", random_sparse(1, 7, seed + 10)),
            ("sequence", "chars", random_sparse(3, 11, seed + 20)),
            ("sentence", "chars", random_sparse(1, 11, seed + 30)),
        ]
        if with_dense:
            parts.append(("sentence", "dense", np.arange(5, dtype=float).reshape(1, 5) * seed))
        messages.append(featured(f"m{seed}", parts))

    ours = sentence_matrix(messages)
    rasas = LogisticRegressionClassifier._create_X(None, messages)  # type: ignore[arg-type]
    assert ours.shape == rasas.shape == (4, 18 + (5 if with_dense else 0))
    assert np.array_equal(ours.toarray(), rasas.toarray())


def test_sentence_rows_refuse_mismatched_widths() -> None:
    a = featured("a", [("sentence", "words", random_sparse(1, 7, 1))])
    b = featured("b", [("sentence", "words", random_sparse(1, 9, 2))])
    with pytest.raises(ValueError):
        sentence_matrix([a, b])


@pytest.mark.parametrize("rows", [0, 1, 5])
def test_dense_columns_are_appended_as_scipy_would(rows: int) -> None:
    grams = scipy.sparse.random(rows, 30, density=0.2, format="lil", random_state=rows)
    if rows:
        grams[0, :] = 0  # a message without any known n-gram
    grams = grams.tocsr()
    dense = np.random.default_rng(rows).random((rows, 4), dtype=np.float32)
    ours = append_dense(grams, dense)
    theirs = scipy.sparse.hstack([grams, scipy.sparse.csr_matrix(dense)]).tocsr()
    assert ours.shape == theirs.shape == (rows, 34)
    assert np.array_equal(ours.toarray(), theirs.toarray())


def test_dense_columns_refuse_a_different_row_count() -> None:
    with pytest.raises(ValueError):
        append_dense(scipy.sparse.csr_matrix((2, 3)), np.zeros((3, 4)))


# ================================================================ FAQ selector

QUESTIONS: Dict[str, List[str]] = {
    "faq/invoice": ["可以 开 发票 吗", "发票 怎么 开", "能 开 专票 不", "要 发票",
                    "电子 发票 在 哪 下载"],
    "faq/payment_methods": ["支持 花呗 吗", "能 用 信用卡 付款 吗", "怎么 付款",
                            "可以 微信 支付 不", "付款 方式 有 哪些"],
    "faq/delivery_time": ["多久 发货", "几天 能 到", "什么 时候 发货 啊", "今天 下单 明天 到 吗",
                          "发货 要 多久"],
}
ANSWERS = {
    f"utter_{key}": [{"text": f"答案:{key}"}] for key in QUESTIONS
}


def training_data() -> TrainingData:
    examples = [
        Message(data={TEXT: text, INTENT: "faq", INTENT_RESPONSE_KEY: key})
        for key, texts in QUESTIONS.items() for text in texts
    ]
    examples += [Message(data={TEXT: "你好 在 吗", INTENT: "greet"})]
    return TrainingData(training_examples=examples, responses=ANSWERS)


@pytest.fixture
def featurizer(tmp_path: Path):
    storage = storage_at(tmp_path / "cvf")
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    config = {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb",
              "min_ngram": 1, "max_ngram": 2}
    cvf = CountVectorsFeaturizer.create(config, storage, Resource("cvf"), CONTEXT)

    def featurize(data: TrainingData, train: bool = False) -> TrainingData:
        tokenizer.process_training_data(data)
        if train:
            cvf.train(data)
        cvf.process_training_data(data)
        return data

    def featurize_message(text: str) -> Message:
        message = Message(data={TEXT: text})
        tokenizer.process([message])
        cvf.process([message])
        return message

    return featurize, featurize_message


def trained(tmp_path: Path, featurize) -> FaqSelector:
    storage = storage_at(tmp_path / "faq")
    selector = FaqSelector.create(FaqSelector.get_default_config(), storage,
                                  Resource("faq_selector"), CONTEXT)
    selector.train(featurize(training_data(), train=True))
    return FaqSelector.load(FaqSelector.get_default_config(), storage,
                            Resource("faq_selector"), CONTEXT)


def test_loaded_selector_picks_the_answer_in_rasas_format(tmp_path, featurizer) -> None:
    featurize, message_for = featurizer
    selector = trained(tmp_path, featurize)
    assert selector.labels == sorted(QUESTIONS)

    message = message_for("发票 能 开 吗")
    selector.process([message])
    output = message.as_dict_nlu()["response_selector"]
    assert output["all_retrieval_intents"] == ["faq"]
    response = output["faq"]["response"]
    assert response["intent_response_key"] == "faq/invoice"
    assert response["utter_action"] == "utter_faq/invoice"
    assert response["responses"] == [{"text": "答案:faq/invoice"}]
    ranking = output["faq"]["ranking"]
    assert [r["intent_response_key"] for r in ranking][0] == "faq/invoice"
    assert sorted(r["intent_response_key"] for r in ranking) == sorted(QUESTIONS)
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6
    assert response["confidence"] == ranking[0]["confidence"] > 1 / len(QUESTIONS)


@pytest.mark.parametrize("text, key", [
    ("花呗 可以 用 吗", "faq/payment_methods"),
    ("大概 几天 发货", "faq/delivery_time"),
])
def test_selector_tells_questions_apart(tmp_path, featurizer, text, key) -> None:
    featurize, message_for = featurizer
    selector = trained(tmp_path, featurize)
    message = message_for(text)
    selector.process([message])
    assert message.get("response_selector")["faq"]["response"]["intent_response_key"] == key


def test_rasas_utter_faq_action_answers_from_it(tmp_path, featurizer) -> None:
    featurize, message_for = featurizer
    selector = trained(tmp_path, featurize)
    message = message_for("可以 开 发票 吗")
    selector.process([message])
    parse = {"text": message.get(TEXT), "intent": {"name": "faq", "confidence": 0.9},
             "entities": [], "response_selector": message.get("response_selector")}
    domain = Domain.from_dict({"intents": ["faq"], "responses": ANSWERS,
                               "actions": ["utter_faq"]})
    tracker = DialogueStateTracker.from_events(
        "u", [UserUttered(message.get(TEXT), parse["intent"], parse_data=parse)]
    )
    events = asyncio.run(ActionRetrieveResponse("utter_faq").run(
        CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses),
        tracker, domain))
    assert [e.text for e in events if isinstance(e, BotUttered)] == ["答案:faq/invoice"]


def test_untrained_or_missing_selector_adds_nothing(tmp_path) -> None:
    storage = LocalModelStorage(tmp_path)
    missing = FaqSelector.load(FaqSelector.get_default_config(), storage,
                               Resource("nothing"), CONTEXT)
    message = Message(data={TEXT: "发票"})
    missing.process([message])
    assert message.get("response_selector") is None


def test_a_single_answer_needs_no_classifier(tmp_path, featurizer) -> None:
    featurize, message_for = featurizer
    data = TrainingData(
        training_examples=[
            Message(data={TEXT: t, INTENT: "faq", INTENT_RESPONSE_KEY: "faq/invoice"})
            for t in QUESTIONS["faq/invoice"]
        ],
        responses={"utter_faq/invoice": ANSWERS["utter_faq/invoice"]},
    )
    storage = storage_at(tmp_path / "one")
    selector = FaqSelector.create(FaqSelector.get_default_config(), storage, Resource("one"),
                                  CONTEXT)
    selector.train(featurize(data, train=True))
    loaded = FaqSelector.load(FaqSelector.get_default_config(), storage, Resource("one"),
                              CONTEXT)
    message = message_for("随便 问 问")
    loaded.process([message])
    response = message.get("response_selector")["faq"]["response"]
    assert response["intent_response_key"] == "faq/invoice" and response["confidence"] == 1.0


def test_column_major_weights_score_the_same() -> None:
    from sklearn.linear_model import LogisticRegression

    from bot.nlu.features import transposable_weights

    X = scipy.sparse.random(60, 400, density=0.05, format="csr", random_state=3)
    y = np.arange(60) % 5
    classifier = LogisticRegression(max_iter=300).fit(X, y)
    before = classifier.predict_proba(X[:7])
    assert not classifier.coef_.flags.f_contiguous
    transposable_weights(classifier)
    assert classifier.coef_.T.flags.c_contiguous
    assert np.array_equal(classifier.predict_proba(X[:7]), before)


@pytest.mark.parametrize("classes", [2, 6])
def test_saved_logistic_regression_scores_the_same_after_loading(tmp_path, classes) -> None:
    from sklearn.linear_model import LogisticRegression

    from bot.nlu import linear_model

    X = scipy.sparse.random(80, 300, density=0.05, format="csr", random_state=5)
    y = np.array([f"intent_{i % classes}" for i in range(80)])
    original = LogisticRegression(max_iter=500, class_weight="balanced", C=0.7).fit(X, y)
    linear_model.save(original, tmp_path)
    loaded = linear_model.load(tmp_path)
    assert list(loaded.classes_) == list(original.classes_)
    assert np.allclose(loaded.predict_proba(X), original.predict_proba(X), rtol=0, atol=1e-12)
    assert loaded.get_params() == original.get_params()
    with pytest.raises(FileNotFoundError):
        linear_model.load(tmp_path / "missing")


def test_intent_classifier_round_trips_through_the_model_storage(tmp_path, featurizer) -> None:
    from bot.nlu.intent_classifier import IntentClassifier

    featurize, message_for = featurizer
    data = featurize(training_data(), train=True)
    storage = storage_at(tmp_path / "ic")
    config = {**IntentClassifier.get_default_config(), "max_iter": 500}
    trained = IntentClassifier.create(config, storage, Resource("ic"), CONTEXT)
    trained.train(data)
    loaded = IntentClassifier.load(config, storage, Resource("ic"), CONTEXT)
    first, second = message_for("发票 能 开 吗"), message_for("发票 能 开 吗")
    trained.process([first])
    loaded.process([second])
    assert first.get("intent") == second.get("intent")
    assert first.get("intent_ranking") == second.get("intent_ranking")


def test_class_weights_are_rasas_balanced_weights_to_a_power() -> None:
    from sklearn.utils.class_weight import compute_class_weight

    from bot.nlu.intent_classifier import class_weights

    labels = ["faq"] * 15 + ["greet"] + ["thank"] * 4
    balanced = compute_class_weight("balanced", classes=np.array(["faq", "greet", "thank"]),
                                    y=np.array(labels))
    assert list(class_weights(labels, 1.0).values()) == pytest.approx(list(balanced))
    assert class_weights(labels, 0.0) == {"faq": 1.0, "greet": 1.0, "thank": 1.0}
    assert class_weights(labels, 0.5)["greet"] == pytest.approx(balanced[1] ** 0.5)


@pytest.mark.parametrize("power", [1.0, 0.0])
def test_the_classifier_is_fitted_with_those_weights(tmp_path, featurizer, power) -> None:
    from bot.nlu.intent_classifier import IntentClassifier

    featurize, message_for = featurizer
    config = {**IntentClassifier.get_default_config(), "max_iter": 500,
              "class_weight_power": power}
    classifier = IntentClassifier.create(config, storage_at(tmp_path / "ic"), Resource("ic"),
                                         CONTEXT)
    classifier.train(featurize(training_data(), train=True))
    weights = classifier.clf.get_params()["class_weight"]
    # 15 faq examples and one greet: balanced weighs the greet 15 times the faq.
    assert weights["greet"] / weights["faq"] == pytest.approx(15.0 ** power)
    message = message_for("你好 在 吗")
    classifier.process([message])
    assert message.get("intent")["name"] in ("greet", "faq")


def test_an_empty_message_gets_no_intent_and_no_answer_instead_of_an_error(
        tmp_path, featurizer) -> None:
    """Rasa's HTTP API parses an empty text (tests/e2e/test_fuzz.py found a 500): it has
    no features, so both classifiers skip it — confidence 0, for the fallback — while the
    other messages of the batch are classified as usual."""
    from bot.nlu.intent_classifier import IntentClassifier

    featurize, message_for = featurizer
    data = featurize(training_data(), train=True)
    config = {**IntentClassifier.get_default_config(), "max_iter": 500}
    classifier = IntentClassifier.create(config, storage_at(tmp_path / "ic"), Resource("ic"),
                                         CONTEXT)
    classifier.train(data)
    selector = trained(tmp_path, featurize)
    empty, question = Message(data={TEXT: ""}), message_for("发票 能 开 吗")
    classifier.process([empty, question])
    selector.process([empty, question])
    assert empty.get("intent") == {"name": None, "confidence": 0.0}
    assert empty.get("intent_ranking") == [] and empty.get("response_selector") is None
    assert question.get("intent")["name"] == "faq" and question.get("response_selector")
