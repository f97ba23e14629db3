"""The review queue (四个不漏): scanning a real Rasa SQLTrackerStore (SQLite file in
tmp_path) for messages the bot did not understand, and exporting the labels into a
temporary copy of the training data."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest
from conftest import NOW
from tracker_scripts import DEFAULT, EXPECTED, START, Script, save

from shop.config import PROJECT_ROOT
from shop.db import repository
from shop.db.engine import session_scope
from shop.review import export as exporting
from shop.review import scan as scanning
from shop.review.rules import NEW_TOPIC, label_keys


def queued() -> Dict[str, Any]:
    with session_scope() as session:
        return {(i.conversation_id, i.text): i for i in repository.review.review_items(
            session=session)}


def test_scan_finds_exactly_the_misses(store):
    result = scanning.scan(store["url"])
    found = {(m.conversation_id, m.text, m.reason, m.predicted_intent) for m in result.queued}
    assert found == EXPECTED
    items = queued()
    assert {(c, t) for c, t, *_ in EXPECTED} == set(items)
    fallback = items[("c1-fallback", "热水器打不着火")]
    assert fallback.status == "new" and fallback.label is None
    assert fallback.confidence == pytest.approx(0.19)
    assert fallback.context == {"bot_before": "亲，您好！", "bot_reply": DEFAULT,
                                "customer_next": "/request_human"}
    assert fallback.created_at > START and fallback.event_id > 0
    human = items[("c3-human", "热水器不出热水")]
    assert human.context["customer_next"] == "转人工"
    assert human.context["bot_reply"] == "好的，还有其他可以帮您的吗？"


def test_a_second_scan_adds_nothing_and_a_later_one_only_the_new(store):
    first = scanning.scan(store["url"])
    assert len(first.queued) == 3
    assert scanning.scan(store["url"]).queued == []
    with session_scope() as session:
        assert repository.review.get_scan_cursor(
            session=session, name="review") == first.last_event_id
    # The low-confidence customer writes again (not understood), a new one too.
    scripts = store["scripts"]
    scripts["c2-low"].bot("action_listen", "好的").user(
        "洗衣机不排水", "nlu_fallback", 0.45, [("nlu_fallback", 0.45), ("after_sales", 0.41)])
    new = {"c2-low": scripts["c2-low"],
           "c6-new": Script(NOW).session().user("油烟机不转了", "deny", 0.3)}
    save(store["path"], new)
    later = scanning.scan(store["url"])
    assert {(m.conversation_id, m.text, m.reason) for m in later.queued} == {
        ("c2-low", "洗衣机不排水", "nlu_fallback"), ("c6-new", "油烟机不转了", "low_confidence")}
    assert later.last_event_id > first.last_event_id
    assert scanning.scan(store["url"]).queued == []
    assert len(queued()) == 5


def test_a_later_scan_fills_in_the_next_message(store):
    scripts = store["scripts"]
    scripts["c7-late"] = Script(NOW).session().user("投影仪开机没画面", "nlu_fallback", 0.45)
    save(store["path"], {"c7-late": scripts["c7-late"]})
    scanning.scan(store["url"])
    assert queued()[("c7-late", "投影仪开机没画面")].context["customer_next"] is None
    scripts["c7-late"].bot("action_fallback", DEFAULT, "utter_default").user(
        "就是开机以后屏幕是蓝的", "after_sales", 0.9)
    save(store["path"], {"c7-late": scripts["c7-late"]})
    assert scanning.scan(store["url"]).queued == []
    context = queued()[("c7-late", "投影仪开机没画面")].context
    assert context["customer_next"] == "就是开机以后屏幕是蓝的"
    assert context["bot_reply"] == DEFAULT


def test_no_tracker_store_yet_is_an_empty_scan(db, tmp_path):
    result = scanning.scan(f"sqlite:///{tmp_path / 'missing.db'}")
    assert result.queued == [] and not (tmp_path / "missing.db").exists()


def test_labels_are_the_domains_intents_with_faq_keys_and_new_topic():
    keys = label_keys()
    assert "after_sales" in keys and "faq/invoice" in keys and keys[-1] == NEW_TOPIC
    assert "practice" not in keys and "faq" not in keys and "nlu_fallback" not in keys


# ------------------------------------------------------------------ export


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A copy of the project's data/, domain.yml, config.yml and knowledge/faq.yml."""
    root = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "data", root / "data")
    (root / "knowledge").mkdir()
    for name in ("domain.yml", "config.yml", "knowledge/faq.yml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    return root


def label(text: str, key: str, conversation: str = "c9", staff: str = "王客服") -> int:
    with session_scope() as session:
        event_id = len(repository.review.review_items(session=session)) + 1
        item = repository.review.add_review_item(
            session=session, conversation_id=conversation, event_id=event_id, text=text,
            reason="nlu_fallback", created_at=NOW)
        repository.review.label_review_item(session=session, item=item, label=key, staff=staff)
        return item.id


def snapshot(folder: Path) -> Dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_export_appends_exactly_the_labelled_examples(db, data_copy, tmp_path):
    data = data_copy / "data"
    before = snapshot(data)
    real_before = snapshot(PROJECT_ROOT / "data")
    ids = {
        "fire": label("热水器打不着火", "after_sales"),
        "drain": label("洗衣机 不排水", "after_sales"),
        "invoice": label("发票开错了要重开", "faq/invoice"),
        "held_out": label("回头见", "goodbye"),            # in tests/nlu/in_house/test_nlu.yml
        "trained": label("改天再聊", "goodbye"),           # already in data/nlu/basics.yml
        "twice": label("热水器打不着火", "after_sales", "c10"),
        "phone": label("我手机13812348001 热水器打不着火了", "after_sales"),
        "topic": label("你们招不招兼职", NEW_TOPIC),
    }
    label("还没导出的", "greet")  # labelled after…
    with session_scope() as session:  # …and one still new
        repository.review.add_review_item(session=session, conversation_id="c11", event_id=99,
                                   text="未标注", reason="low_confidence", created_at=NOW)
    with session_scope() as session:  # relabel the last one back to new: not exported
        item = repository.review.get_review_item(session=session, item_id=ids["topic"] + 1)
        item.status, item.label = "new", None
    topics = tmp_path / "results" / "new_topics.md"

    result = exporting.export(data, topics_file=topics)

    after = snapshot(data)
    appended = {
        "nlu/after_sales.yml": "- intent: after_sales\n  examples: |\n"
                               "    - 热水器打不着火\n    - 洗衣机 不排水\n"
                               "    - 我手机138****8001 热水器打不着火了\n",
        "nlu/faq.yml": "- intent: faq/invoice\n  examples: |\n    - 发票开错了要重开\n",
    }
    assert set(after) == set(before)
    for name, content in before.items():
        expected = content + appended.get(name, "").encode("utf-8")
        assert after[name] == expected, name
    assert result.written == {
        "nlu/after_sales.yml": [("after_sales", "热水器打不着火"), ("after_sales", "洗衣机 不排水"),
                                ("after_sales", "我手机138****8001 热水器打不着火了")],
        "nlu/faq.yml": [("faq/invoice", "发票开错了要重开")]}
    assert {(s.text, s.reason) for s in result.skipped} == {
        ("回头见", "test_set"), ("改天再聊", "in_training"), ("热水器打不着火", "in_training")}
    assert result.new_topics == ["你们招不招兼职"]
    assert "- 你们招不招兼职（" in topics.read_text(encoding="utf-8")
    with session_scope() as session:
        items = {i.id: i for i in repository.review.review_items(session=session)}
    for key, item_id in ids.items():
        assert items[item_id].status == "exported", key
    assert items[ids["held_out"]].export_note == "skipped: test_set"
    assert items[ids["fire"]].export_note == "nlu/after_sales.yml"
    assert items[ids["topic"] + 1].status == "new"
    # Nothing left to do: a second export writes nothing.
    again = exporting.export(data, topics_file=topics)
    assert again.exported == 0 and not again.skipped and snapshot(data) == after
    assert snapshot(PROJECT_ROOT / "data") == real_before


def test_an_intent_no_file_holds_goes_to_review_yml(db, data_copy, monkeypatch, tmp_path):
    data = data_copy / "data"
    # Every file that holds the intent (the team's and the real customers' files).
    for path in (data / "nlu").rglob("*.yml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("- intent: bot_challenge\n",
                                     "- intent: bot_challenge_moved\n"), encoding="utf-8")
    label("你是不是程序自动回的", "bot_challenge")
    result = exporting.export(data, topics_file=tmp_path / "topics.md")
    assert list(result.written) == ["nlu/review.yml"]
    written = (data / "nlu" / "review.yml").read_text(encoding="utf-8")
    assert written.startswith('version: "3.1"')
    assert written.endswith("- intent: bot_challenge\n  examples: |\n    - 你是不是程序自动回的\n")


def test_exported_data_passes_rasa_data_validate(db, data_copy, tmp_path):
    for text, key in [("热水器打不着火", "after_sales"), ("燃气灶点不着火", "after_sales"),
                      ("发票开错了要重开", "faq/invoice"), ("你们招不招兼职", NEW_TOPIC),
                      ("你是不是程序自动回的", "bot_challenge")]:
        label(text, key)
    exporting.export(data_copy / "data", topics_file=tmp_path / "topics.md")
    rasa = Path(sys.executable).parent / "rasa"
    run = subprocess.run(
        [str(rasa), "data", "validate", "--data", "data", "knowledge/faq.yml",
         "--domain", "domain.yml", "--config", "config.yml"],
        cwd=data_copy, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
