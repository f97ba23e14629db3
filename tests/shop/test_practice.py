"""Practice mode: scenario bank, classifier, scorer, simulated customer, storage, CLI."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any, Dict, List

import pytest
import yaml

from shop import knowledge
from shop.config import PROJECT_ROOT
from shop.db import repository
from shop.db.engine import session_scope
from shop.practice import cli, data, progress
from shop.practice.classifier import Prediction, default_classifier
from shop.practice.drill import Drill, objection_view
from shop.practice.engine import (
    CustomerState,
    customer_reply,
    evaluate_rubric,
    model_answer,
    score_reply,
)

SCENARIOS = data.scenarios()
TYPES = ("price", "delay", "no_need", "competitor", "trust", "timing")
TEMPERAMENTS = ("理智型", "犹豫型", "冲动型", "挑剔型")
LABELS = (*data.TECHNIQUES, data.NONE)
CATALOGUE = {p["name"] for p in knowledge.catalogue()["products"]}


# ================================================================= scenario bank


def test_bank_size_and_coverage() -> None:
    assert len(SCENARIOS) >= 40
    assert len({s["id"] for s in SCENARIOS}) == len(SCENARIOS)
    types = Counter(s["objection_type"] for s in SCENARIOS)
    assert set(types) == set(TYPES) and min(types.values()) >= 5
    assert {s["persona"]["temperament"] for s in SCENARIOS} == set(TEMPERAMENTS)
    assert {s["persona"]["tier"] for s in SCENARIOS} == {"A", "B", "C", "D"}
    assert {s["difficulty"] for s in SCENARIOS} == {1, 2, 3}
    assert len({s["product"] for s in SCENARIOS}) >= 8


def test_every_technique_is_suitable_somewhere() -> None:
    suitable = {t for s in SCENARIOS for t in s["suitable_techniques"]}
    assert suitable >= {"compensation", "turnaround", "ask", "yes_if", "rebuttal"}


@pytest.mark.parametrize("needle", ["收入少", "身材"])
def test_the_seeds_own_examples_are_scenarios(needle: str) -> None:
    assert any(needle in s["opening"] for s in SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s["id"])
def test_scenario_schema(scenario: Dict[str, Any]) -> None:
    assert scenario["objection_type"] in TYPES
    assert scenario["persona"]["temperament"] in TEMPERAMENTS
    assert scenario["opening"].strip() and scenario["real_concern"].strip()
    assert scenario["suitable_techniques"]
    assert set(scenario["suitable_techniques"]) <= set(data.TECHNIQUES)
    assert not set(scenario["suitable_techniques"]) & set(scenario.get("unsuitable_techniques", []))
    follow = scenario["follow_ups"]
    assert follow["softened"] and follow["pushback"]
    assert follow["agree"].strip() and follow["leave"].strip()
    if follow.get("second_objection"):
        assert follow["second_objection"]["type"] in TYPES
        assert follow["second_objection"]["text"].strip()


def test_catalogue_products_are_spelled_as_in_the_catalogue() -> None:
    appliance_like = [s for s in SCENARIOS if s["product"] in CATALOGUE]
    assert len(appliance_like) >= 15


def test_training_examples_cover_every_label() -> None:
    counts = Counter(e["technique"] for e in data.technique_examples())
    assert set(counts) == set(LABELS)
    assert min(counts.values()) >= 30


def test_test_set_is_never_trained_on() -> None:
    test_path = PROJECT_ROOT / "tests" / "practice" / "technique_test.yml"
    test_texts = {e["text"] for e in yaml.safe_load(test_path.read_text("utf-8"))["examples"]}
    train_texts = {e["text"] for e in data.technique_examples()}
    assert not test_texts & train_texts


def test_rubric_earns_seventy_points_at_most() -> None:
    earn = [p for p in data.rubric() if p["kind"] == "earn"]
    assert sum(p["points"] for p in earn) + data.feedback()["settings"]["technique_points"] == 100
    assert all((p.get("phrases") or p.get("check")) and p["tip"] for p in data.rubric())


# ==================================================================== classifier


@pytest.mark.parametrize(
    "reply, technique",
    [
        ("就是收入少，才更需要购买保险，以获得保障。", "turnaround"),
        ("就是身材不好，才需稍加设计，以修饰掉不完美的地方。", "turnaround"),
        (
            "平心而论，在一般的状况下，您说的都非常正确，"
            "如果状况变成这样，您看我们是不是应该换个角度？",
            "yes_if",
        ),
        ("您主要是担心哪一方面呢？是价格还是售后？", "ask"),
    ],
)
def test_classifier_knows_the_course_examples(reply: str, technique: str) -> None:
    assert default_classifier().predict(reply).technique == technique


EARN_ALL = {"acknowledge", "ask_question", "value_evidence", "next_step", "polite"}


@pytest.mark.parametrize(
    "reply, technique, earned",
    [
        ("哈哈，您真会开玩笑～说正事，这款空调保修6年，我帮您预约周六安装好吗？",
         "ignore", EARN_ALL - {"acknowledge"}),
        ("您说得对，价格确实比普通款高一些，不过它整机保修6年，每天算下来才一块多，"
         "您看要不要我帮您下单？", "compensation", EARN_ALL),
        ("正因为您预算有限，才更要选一台耐用的，保修6年省下后面的维修钱，您说是不是这个道理？"
         "我帮您登记一下？", "turnaround", EARN_ALL - {"acknowledge"}),
        ("理解您的顾虑，请问您主要是担心价格还是售后呢？我帮您针对性地看看。", "ask", EARN_ALL),
        ("是的，您说得很有道理，如果我们能保证7天无理由退换，您是不是就放心了？我帮您安排试用好吗？",
         "yes_if", EARN_ALL),
        ("您这个说法不对，我们是官方授权店，每台都有正规发票，享受全国联保，您可以扫码验证，"
         "要不要我教您查？", "rebuttal", {"ask_question", "value_evidence", "polite"}),
    ],
)
def test_good_replies_per_technique(reply: str, technique: str, earned: set) -> None:
    assert default_classifier().predict(reply).technique == technique
    results = evaluate_rubric(reply)
    assert keys(results, +1) == earned
    assert not keys(results, -1)


@pytest.mark.parametrize(
    "reply, lost",
    [
        ("你根本不懂空调，这价格已经很便宜了", {"argue"}),
        ("爱买不买，不买拉倒", {"argue", "pressure"}),
        ("您必须今天下单", {"pressure"}),
        ("你错了，我们的东西不可能有问题", {"argue"}),
        ("你懂什么，别人都买了", {"argue"}),
        ("你傻啊，这么便宜还不买", {"pressure"}),
    ],
)
def test_bad_replies_lose_points_and_use_no_technique(reply: str, lost: set) -> None:
    feedback = score_reply(reply, scenario_of("price"))
    assert keys(feedback.rubric, -1) == lost
    assert feedback.technique == data.NONE
    assert feedback.score < 30


def test_classifier_labels() -> None:
    assert set(default_classifier().labels) == set(LABELS)


# ======================================================================== scorer


def scenario_of(kind: str) -> Dict[str, Any]:
    return next(s for s in SCENARIOS if s["objection_type"] == kind)


def keys(results: List[Any], sign: int) -> set:
    return {r.key for r in results if (r.delta > 0 if sign > 0 else r.delta < 0)}


def test_rubric_explains_each_point_with_its_phrase() -> None:
    results = evaluate_rubric(
        "我理解您的顾虑，您主要担心的是哪方面呢？这款保修6年，我帮您登记一下可以吗？"
    )
    earned = {r.key: r.phrase for r in results if r.delta > 0}
    assert {"acknowledge", "ask_question", "value_evidence", "next_step", "polite"} <= set(earned)
    assert all(phrase for phrase in earned.values())


@pytest.mark.parametrize(
    "reply",
    [
        "您根本没了解我的意见，因为状况是这样的……",
        "你懂什么，爱买不买",
        "你错了，这个价格不可能再低了",
    ],
)
def test_arguing_loses_points(reply: str) -> None:
    feedback = score_reply(reply, scenario_of("price"))
    lost = [r for r in feedback.rubric if r.delta < 0]
    assert lost and all(r.phrase and r.phrase in reply for r in lost)
    assert feedback.score < 45


@pytest.mark.parametrize(
    "reply, key",
    [
        ("这款是傻瓜式操作，老人也会用，您放心。", "pressure"),
        ("我们必须保证每一台都是正品，您放心。", "pressure"),
        ("我们不可能让您吃亏的，价格保护30天。", "argue"),
        ("这件设计得很完美的，您试穿看看？", "off_topic"),
        ("您留个手机号，我帮您登记一下？", "off_topic"),
    ],
)
def test_innocent_words_containing_a_phrase_lose_nothing(reply: str, key: str) -> None:
    lost = keys(evaluate_rubric(reply, scenario_of("price")), -1)
    assert key not in lost


@pytest.mark.parametrize(
    "reply, phrase",
    [
        ("你傻啊，这都不买", "傻"),
        ("您必须今天下单，不然就没了", "必须"),
    ],
)
def test_pressure_still_loses_points(reply: str, phrase: str) -> None:
    lost = {r.key: r.phrase for r in evaluate_rubric(reply) if r.delta < 0}
    assert lost.get("pressure") == phrase


def test_a_reply_about_another_product_is_off_topic() -> None:
    scenario = data.scenario("price_ac_fengzun")
    reply = "您说得对，价格确实不低，不过华为Mate60手机保修一年，我帮您下单好吗？"
    feedback = score_reply(reply, scenario)
    lost = {r.key: r.phrase for r in feedback.rubric if r.delta < 0}
    assert set(lost) == {"off_topic"} and lost["off_topic"].startswith("华为")
    on_topic = score_reply(reply.replace("华为Mate60手机", "这台美的风尊空调"), scenario)
    assert feedback.score <= on_topic.score - 20


def test_naming_the_competitor_the_customer_raised_is_on_topic() -> None:
    scenario = next(s for s in SCENARIOS if s["objection_type"] == "competitor"
                    and any(b in s["opening"] for b in ("格力", "小米", "海尔", "华为")))
    brand = next(b for b in ("格力", "小米", "海尔", "华为") if b in scenario["opening"])
    lost = keys(evaluate_rubric(f"您拿{brand}来比较很正常，您最看重哪一点呢？", scenario), -1)
    assert "off_topic" not in lost


def test_a_number_of_years_counts_as_evidence() -> None:
    earned = {r.key: r.phrase for r in evaluate_rubric("我家用了十年都没坏过。") if r.delta > 0}
    assert earned.get("value_evidence") == "十年"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s["id"])
def test_reference_answers_follow_the_rubric(scenario: Dict[str, Any]) -> None:
    """A model answer shown to trainees must never lose points itself."""
    second = scenario["follow_ups"]["second_objection"]
    for answer, view in ((scenario["model_reply"], scenario),
                         (second.get("model_reply"), objection_view(scenario, second["type"]))):
        if answer:
            assert not keys(evaluate_rubric(answer["text"], view), -1), answer["text"]


def test_the_second_objection_brings_its_own_model_answer() -> None:
    scenario = next(s for s in SCENARIOS
                    if s["follow_ups"]["second_objection"].get("model_reply"))
    second = scenario["follow_ups"]["second_objection"]
    answer = model_answer(objection_view(scenario, second["type"]))
    assert answer == {"technique": second["model_reply"]["technique"],
                      "text": second["model_reply"]["text"]}


def test_a_good_reply_scores_high_and_a_bad_one_low() -> None:
    scenario = scenario_of("price")
    good = score_reply(
        "我理解您的顾虑，价格确实比普通款高一些，不过它保修6年、能耗低，算下来每天不到两块钱。"
        "您主要担心的是预算吗？我可以帮您看看分期。",
        scenario,
    )
    bad = score_reply("就这个价，没得便宜。", scenario)
    assert good.score >= 70 > bad.score
    assert good.technique in scenario["suitable_techniques"]


def test_technique_points_depend_on_suitability() -> None:
    scenario = {**scenario_of("price"), "suitable_techniques": ["ask"]}
    reply = "您主要是担心哪一方面呢？"
    fits = score_reply(reply, scenario, Prediction("ask", 0.9))
    misfits = score_reply(reply, scenario, Prediction("rebuttal", 0.9))
    unsure = score_reply(reply, scenario, Prediction("ask", 0.1))
    assert fits.suitable and not misfits.suitable
    assert unsure.technique == data.NONE
    assert fits.score - misfits.score == 20  # 30 for a fitting technique, 10 otherwise
    assert misfits.score - unsure.score == 10


def test_feedback_lines_name_technique_points_and_model_answer() -> None:
    scenario = scenario_of("trust")
    feedback = score_reply("您根本不懂，我们的东西都是正品。", scenario)
    text = "\n".join(feedback.lines(scenario))
    assert "您根本" in text  # the phrase that lost points is quoted
    assert "/100" in text and "参考回答" in text
    assert feedback.model_answer["technique"] in scenario["suitable_techniques"]
    assert feedback.model_answer["text"]


@pytest.mark.parametrize("kind", TYPES)
def test_every_objection_type_has_a_model_answer(kind: str) -> None:
    answer = model_answer(scenario_of(kind))
    assert answer["text"] and "{" not in answer["text"]


# ============================================================ simulated customer


def play(temperament: str, scores: List[int]) -> List[Any]:
    scenario = {**scenario_of("price"), "persona": {"tier": "B", "temperament": temperament}}
    state, rng, turns = CustomerState(), random.Random(1), []
    for score in scores:
        turn = customer_reply(scenario, state, score, rng)
        turns.append(turn)
        if turn.outcome:
            break
    return turns


@pytest.mark.parametrize(
    "temperament, scores, outcome",
    [
        ("冲动型", [90], "agreed"),
        ("理智型", [80, 80], "agreed"),
        ("犹豫型", [80, 80, 80], "agreed"),
        ("冲动型", [10, 10], "left"),
        ("理智型", [10, 10, 10], "left"),
        ("挑剔型", [70, 70, 70], None),  # 70 is not enough for a picky customer
    ],
)
def test_customer_agrees_or_leaves_by_temperament(temperament, scores, outcome) -> None:
    turns = play(temperament, scores)
    assert turns[-1].outcome == outcome


def test_a_weak_reply_raises_the_second_objection_once() -> None:
    scenario = next(s for s in SCENARIOS if s["follow_ups"].get("second_objection"))
    state, rng = CustomerState(), random.Random(3)
    first = customer_reply(scenario, state, 10, rng)
    assert first.objection_type == scenario["follow_ups"]["second_objection"]["type"]
    second = customer_reply(scenario, state, 50, rng)
    assert second.objection_type is None and second.outcome is None


def test_softened_lines_are_not_repeated_while_fresh_ones_remain() -> None:
    scenario = {**scenario_of("price"), "persona": {"tier": "B", "temperament": "犹豫型"}}
    state, rng = CustomerState(), random.Random(5)
    lines = [customer_reply(scenario, state, 90, rng).text for _ in range(2)]
    if len(scenario["follow_ups"]["softened"]) > 1:
        assert lines[0] != lines[1]


# ============================================================ session + storage


def test_a_session_is_stored_and_never_touches_customer_records(db) -> None:
    with session_scope() as session:
        tickets_before = repository.tickets.count_tickets(session=session)
    practice = Drill("小李", scenario_id=scenario_of("price")["id"], seed=7)
    assert practice.opening_lines()[1].endswith(practice.scenario["opening"])
    result = practice.reply(
        "我理解您的顾虑，您主要担心的是预算吗？这款保修6年，算下来每天不到两块钱。"
    )
    assert result.feedback_lines and result.customer_text
    practice.reply("您根本不懂，爱买不买")
    summary = practice.finish("abandoned")
    assert "/100" in summary[0]
    with session_scope() as session:
        [stored] = repository.practice.practice_history(session=session, trainee="小李")
        assert [t.turn_no for t in stored.turns] == [1, 2]
        assert stored.turns[1].score < stored.turns[0].score
        assert any(point["delta"] < 0 for point in stored.turns[1].rubric)
        assert stored.outcome == "abandoned" and stored.score == practice.final_score()
        assert repository.tickets.count_tickets(session=session) == tickets_before


def test_a_session_ends_after_the_turn_limit(db) -> None:
    practice = Drill("小张", scenario_id=scenario_of("delay")["id"], seed=1)
    results = []
    for _ in range(practice.max_turns):
        results.append(practice.reply("嗯嗯"))
        if results[-1].finished:
            break
    assert results[-1].finished
    assert practice.outcome in ("turns", "left")


def test_terminal_practice(db, monkeypatch, capsys, tmp_path) -> None:
    answers = iter(["", "我理解您的顾虑，您主要担心哪方面呢？", "/quit"])
    monkeypatch.setattr("builtins.input", lambda _prompt="": next(answers))
    monkeypatch.setattr(progress, "default_chart_path", lambda name: tmp_path / f"{name}.png")
    assert cli.main(["--trainee", "终端学员", "--type", "price", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "练习开始" in out and "本轮得分" in out and "练习结束" in out
    assert "请输入你对客户的回答" in out
    with session_scope() as session:
        [stored] = repository.practice.practice_history(session=session, trainee="终端学员")
        assert len(stored.turns) == 1
    chart = tmp_path / "终端学员.png"
    assert f"进度图：{chart}" in out
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_terminal_practice_to_the_end_shows_the_progress_chart(
    db, monkeypatch, capsys, tmp_path
) -> None:
    good = ("我理解您的顾虑，价格确实不低，不过它保修6年，算下来每天一块多。"
            "您主要担心的是预算吗？我帮您申请分期好吗？")
    answers = iter([good] * 5)
    monkeypatch.setattr("builtins.input", lambda _prompt="": next(answers))
    monkeypatch.setattr(progress, "default_chart_path", lambda name: tmp_path / f"{name}.png")
    assert cli.main(["--trainee", "终端学员", "--scenario", "price_ac_fengzun", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "客户被说服了" in out and "学员：终端学员｜完成 1 场" in out
    assert (tmp_path / "终端学员.png").read_bytes().startswith(b"\x89PNG")


def test_a_stored_session_resumes_exactly_where_it_was(db) -> None:
    original = Drill("小王", scenario_id=scenario_of("competitor")["id"], seed=11)
    original.reply("嗯嗯")
    original.reply("别家便宜那是别家的事")
    resumed = Drill.resume(original.id)
    assert resumed.customer_text == original.customer_text
    assert resumed.current["objection_type"] == original.current["objection_type"]
    assert [t.score for t in resumed.turns] == [t.score for t in original.turns]
    reply = "我理解您的顾虑，如果同样的价格我们还多送三年保修，您看是不是更划算呢？"
    assert resumed.reply(reply).customer_text == original.reply(reply).customer_text
    with pytest.raises(KeyError):
        Drill.resume(999_999)
