"""Custom NLU components, the jieba dictionary and the no-silence channel guard."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.events import ActionExecuted, ConversationPaused, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.channels import guard
from bot.channels.rest import GuardedRestInput
from bot.nlu import userdict
from bot.nlu.budget import BudgetEntityExtractor
from bot.nlu.entity_ruler import CatalogueEntityExtractor, build_patterns
from bot.nlu.normalizer import ChineseTextNormalizer
from bot.nlu.places import PlaceEntityExtractor
from bot.nlu.room_area import RoomAreaEntityExtractor
from shop import knowledge

# ====================================================================== normalizer


def normalizer(**overrides: Any) -> ChineseTextNormalizer:
    return ChineseTextNormalizer({**ChineseTextNormalizer.get_default_config(), **overrides})


@pytest.fixture(scope="module")
def default_normalizer() -> ChineseTextNormalizer:
    return normalizer()


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("請問這個多少錢", "请问这个多少钱"),
        # NFKC also folds full-width punctuation (，？) — training data gets the same.
        ("我要退貨，訂單號碼是多少？", "我要退货,订单号码是多少?"),
        ("ＤＤ２０２６１１２００００１", "DD202611200001"),
        ("订单ＤＤ２０２６１１２００００１到哪了？", "订单DD202611200001到哪了?"),
        ("尾号８００１", "尾号8001"),
        ("  你好\t\n  在吗  ", "你好 在吗"),
        ("空调\u3000多少钱", "空调 多少钱"),  # ideographic space
        ("美的风尊空调多少钱", "美的风尊空调多少钱"),  # already canonical: unchanged
        ("", ""),
        (None, ""),
        ("   ", ""),
    ],
)
def test_normalize(default_normalizer, raw, expected):
    assert default_normalizer.normalize(raw) == expected


def distinct_han(count: int) -> str:
    """`count` different characters: no stretch repeats, so none is collapsed."""
    return "".join(chr(0x4E00 + i) for i in range(count))


def test_normalize_truncates_to_max_chars():
    component = normalizer(max_chars=10)
    assert component.normalize("一二三四五六七八九十多余的字") == "一二三四五六七八九十"
    assert component.normalize("短消息") == "短消息"
    assert len(normalizer().normalize(distinct_han(5000))) == 1000


def test_normalize_limit_zero_means_unlimited():
    assert len(normalizer(max_chars=0, lexicon="").normalize(distinct_han(2000))) == 2000


def test_normalize_options_can_be_switched_off():
    component = normalizer(unicode_nfkc=False, opencc_profile="")
    assert component.normalize("請問ＤＤ１") == "請問ＤＤ１"


def test_process_updates_messages_in_place(default_normalizer):
    messages = [
        Message(data={TEXT: "請問 ＸＭ５ 多少錢"}),
        Message(data={TEXT: ""}),
        Message(data={}),
    ]
    assert default_normalizer.process(messages) is messages
    assert messages[0].get(TEXT) == "请问 XM5 多少钱"
    assert messages[1].get(TEXT) == ""
    assert messages[2].get(TEXT) is None


def test_process_training_data_matches_live_messages(default_normalizer):
    data = TrainingData(
        training_examples=[Message(data={TEXT: "這個冰箱多少錢", "intent": "ask_price"})]
    )
    default_normalizer.process_training_data(data)
    live = default_normalizer.process([Message(data={TEXT: "這個冰箱多少錢"})])[0]
    assert data.training_examples[0].get(TEXT) == live.get(TEXT) == "这个冰箱多少钱"
    assert data.training_examples[0].get("intent") == "ask_price"


# =================================================================== entity ruler


@pytest.fixture(scope="module")
def extractor() -> CatalogueEntityExtractor:
    config = CatalogueEntityExtractor.get_default_config()
    return CatalogueEntityExtractor(config, None, None, data=build_patterns())


@pytest.mark.parametrize(
    "text, expected",
    [
        ("美的风尊空调多少钱", [("product", "美的风尊空调", 0, 6)]),
        ("xm5降噪怎么样", [("product", "索尼WH-1000XM5耳机", 0, 3)]),
        ("XM5降噪怎么样", [("product", "索尼WH-1000XM5耳机", 0, 3)]),
        ("格力的空调有哪些", [("brand", "格力", 0, 2), ("category", "空调", 3, 5)]),
        ("iPhone有吗", [("product", "苹果手机", 0, 6)]),
        ("请问风尊有货吗", [("product", "美的风尊空调", 2, 4)]),
        ("我想买小米电视", [("product", "小米电视A55", 3, 7)]),
        ("看看Y9000P", [("product", "联想拯救者Y9000P", 2, 8)]),
        ("华为FreeBuds Pro 2耳机多少钱", [("product", "华为FreeBuds Pro 2耳机", 0, 18)]),
        ("有没有midea的冰箱", [("brand", "美的", 3, 8), ("category", "冰箱", 9, 11)]),
        ("你们卖戴森吗", [("product", "戴森吸尘器", 3, 5)]),
        # the longer name wins: a Dyson hair dryer is not the Dyson vacuum
        ("戴森吹风机", [("product", "戴森吹风机", 0, 5)]),
        ("苏泊尔电饭锅", [("product", "电饭煲", 3, 6)]),
        ("今天天气不错", []),
        ("", []),
    ],
)
def test_extract(extractor, text, expected):
    found = extractor.extract(text)
    assert [(e["entity"], e["value"], e["start"], e["end"]) for e in found] == expected
    for item in found:
        assert item["extractor"] == "CatalogueEntityExtractor"
        # Offsets point at what the customer typed (the alias, not the canonical name).
        assert text[item["start"]: item["end"]].lower() in {
            p["pattern"].lower() for p in build_patterns() if p["id"] == item["value"]
        }


def test_every_catalogue_name_is_found(extractor):
    meanings: Dict[str, set] = {}
    for pattern in build_patterns():
        meanings.setdefault(pattern["pattern"].lower(), set()).add(pattern["id"])
    for surface, _, canonical in knowledge.catalogue_terms():
        values = {e["value"] for e in extractor.extract(f"请问{surface}怎么样")}
        # A surface shared by two labels (科沃斯: brand and product alias) may give either.
        assert values & (meanings[surface.lower()] | {canonical}), (surface, values)


def test_process_adds_entities_and_keeps_others(extractor):
    regex_entity = {"entity": "order_no", "value": "DD202611200001", "start": 0, "end": 14}
    message = Message(data={TEXT: "DD202611200001的风尊空调", ENTITIES: [regex_entity]})
    plain = Message(data={TEXT: "你好"})
    extractor.process([message, plain])
    entities = message.get(ENTITIES)
    assert entities[0] == regex_entity
    assert [(e["entity"], e["value"]) for e in entities[1:]] == [("product", "美的风尊空调")]
    assert plain.get(ENTITIES) in (None, [])
    assert ENTITIES in message.as_dict(only_output_properties=True)


def test_patterns_use_canonical_ids_and_are_unique():
    patterns = build_patterns()
    keys = [(p["pattern"].lower(), p["label"]) for p in patterns]
    assert len(keys) == len(set(keys))
    names = {p["name"] for p in knowledge.catalogue()["products"]}
    assert {p["id"] for p in patterns if p["label"] == "product"} >= names
    assert {"label": "product", "pattern": "风尊", "id": "美的风尊空调"} in patterns


def test_fingerprint_follows_the_catalogue():
    config = CatalogueEntityExtractor.get_default_config()
    first = CatalogueEntityExtractor.fingerprint_addon(config)
    assert first == CatalogueEntityExtractor.fingerprint_addon(config)
    assert len(first) == 64


def test_train_stores_patterns_and_load_restores_them(tmp_path: Path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("catalogue_entity_extractor")
    context = ExecutionContext(GraphSchema({}), "test")
    config = CatalogueEntityExtractor.get_default_config()
    untrained = CatalogueEntityExtractor.create(config, storage, resource, context)
    assert untrained.extract("美的风尊空调") == []
    untrained.train(TrainingData())
    loaded = CatalogueEntityExtractor.load(config, storage, resource, context)
    assert [e["value"] for e in loaded.extract("美的风尊空调多少钱")] == ["美的风尊空调"]
    missing = CatalogueEntityExtractor.load(config, storage, Resource("nothing"), context)
    assert missing.extract("美的风尊空调") == []


# ==================================================================== places


def test_places_are_found_stored_in_the_model_and_restored(tmp_path: Path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("place_entity_extractor")
    context = ExecutionContext(GraphSchema({}), "test")
    untrained = PlaceEntityExtractor.create({}, storage, resource, context)
    assert untrained.extract("到武汉大概多少天") == []
    untrained.train(TrainingData())
    loaded = PlaceEntityExtractor.load({}, storage, resource, context)
    found = loaded.extract("寄到乌鲁木齐市要几天")
    assert [(e["entity"], e["value"], e["start"], e["end"]) for e in found] == [
        ("place", "乌鲁木齐", 2, 7)]
    assert found[0]["extractor"] == "PlaceEntityExtractor"
    assert loaded.extract("开封了能退吗") == []
    missing = PlaceEntityExtractor.load({}, storage, Resource("nothing"), context)
    assert missing.extract("杭州") == []
    assert len(PlaceEntityExtractor.fingerprint_addon({}) or "") == 64


def test_places_join_the_other_entities():
    extractor = PlaceEntityExtractor({}, None, None, data={"杭州": "杭州"})  # type: ignore[arg-type]
    message = Message(data={TEXT: "发杭州的风尊空调", ENTITIES: [{"entity": "product"}]})
    extractor.process([message])
    assert [e["entity"] for e in message.get(ENTITIES)] == ["product", "place"]


# ================================================================= room sizes


def test_a_room_size_is_an_entity_beside_the_others():
    extractor = RoomAreaEntityExtractor.create(
        {}, None, None, ExecutionContext(GraphSchema({}), "test"))  # type: ignore[arg-type]
    message = Message(data={TEXT: "卧室15平米 用风尊够吗", ENTITIES: [{"entity": "product"}]})
    extractor.process([message])
    assert message.get(ENTITIES)[1] == {
        "entity": "room_area", "value": "15", "start": 2, "end": 6, "confidence": 1.0,
        "extractor": "RoomAreaEntityExtractor"}
    for text in ("平板多少钱", "买2台", ""):
        message = Message(data={TEXT: text})
        extractor.process([message])
        assert not message.get(ENTITIES)


# ===================================================================== dictionary


@pytest.fixture(scope="module")
def dictionary_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return userdict.write_dictionary(tmp_path_factory.mktemp("dictionary") / "nested")


def test_dictionary_is_one_file_in_the_folder(dictionary_file):
    assert dictionary_file.name == "userdict.txt"
    assert [p.name for p in dictionary_file.parent.iterdir()] == ["userdict.txt"]


def test_dictionary_format(dictionary_file):
    lines = dictionary_file.read_text(encoding="utf-8").splitlines()
    assert lines
    terms = []
    for line in lines:
        word, freq, tag = line.split(" ")  # exactly three fields: no spaces in terms
        assert word and int(freq) > 0 and tag == "n"
        terms.append(word)
    assert terms == sorted(set(terms))


def test_dictionary_contains_catalogue_and_service_terms(dictionary_file):
    terms = {line.split(" ")[0] for line in dictionary_file.read_text("utf-8").splitlines()}
    catalogue = knowledge.catalogue()
    expected = {p["name"] for p in catalogue["products"] if " " not in p["name"]}
    expected |= {b["name"] for b in catalogue["brands"]}
    expected |= {c["name"] for c in catalogue["categories"]}
    expected |= {"风尊", "Y9000P", "三包", "七天无理由", "转人工", "以旧换新"}
    assert expected <= terms
    assert "华为FreeBuds Pro 2耳机" not in terms  # multi-word names cannot be listed


def test_dictionary_loads_into_jieba(dictionary_file):
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(str(dictionary_file))
    assert "美的风尊空调" in tokenizer.lcut("我想买美的风尊空调")
    assert "七天无理由" in tokenizer.lcut("支持七天无理由吗")


# =========================================================================== guard

DOMAIN_TEXT = {
    guard.EMPTY: "EMPTY-FROM-DOMAIN",
    guard.UNAVAILABLE: "SORRY-FROM-DOMAIN",
    guard.WAITING: "WAIT-FROM-DOMAIN",
}


class FakeTrackerStore:
    def __init__(self, tracker: Optional[DialogueStateTracker], fails: bool = False) -> None:
        self.tracker = tracker
        self.fails = fails
        self.asked: List[str] = []

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        self.asked.append(sender_id)
        if self.fails:
            raise ConnectionError("tracker store down")
        return self.tracker


def fake_agent(paused: bool = False, store: bool = True, store_fails: bool = False) -> Any:
    events = [ActionExecuted("action_listen"), UserUttered("转人工")]
    if paused:
        events.append(ConversationPaused())
    tracker = DialogueStateTracker.from_events("u1", events)
    responses = {name: [{"text": text}] for name, text in DOMAIN_TEXT.items()}
    return SimpleNamespace(
        domain=SimpleNamespace(responses=responses),
        tracker_store=FakeTrackerStore(tracker, store_fails) if store else None,
    )


class Handler:
    """A fake `on_new_message` that records calls and does what it is told."""

    def __init__(self, replies: List[Dict[str, Any]] = (), error: Optional[Exception] = None):
        self.replies = list(replies)
        self.error = error
        self.seen: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.seen.append(message)
        for reply in self.replies:
            await message.output_channel.send_response(message.sender_id, reply)
        if self.error is not None:
            raise self.error


def send(handler: Handler, text: Optional[str], agent: Any) -> CollectingOutputChannel:
    output = CollectingOutputChannel()
    guarded = guard.guard(handler, agent_getter=lambda: agent)
    asyncio.run(guarded(UserMessage(text, output, "u1")))
    return output


def said(output: CollectingOutputChannel) -> List[str]:
    return [m.get("text") for m in output.messages]


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_guard_empty_message_is_answered_without_nlu(text):
    handler = Handler()
    output = send(handler, text, fake_agent())
    assert said(output) == ["EMPTY-FROM-DOMAIN"]
    assert output.messages[0]["recipient_id"] == "u1"
    assert handler.seen == []


def test_guard_normal_reply_passes_through_untouched():
    handler = Handler(replies=[{"text": "您好！"}, {"text": "请问需要什么？", "buttons": []}])
    agent = fake_agent()
    output = send(handler, "你好", agent)
    assert said(output) == ["您好！", "请问需要什么？"]
    assert len(handler.seen) == 1 and handler.seen[0].text == "你好"
    assert agent.tracker_store.asked == []  # nothing to check when a reply went out


def test_guard_failure_gets_an_apology():
    output = send(Handler(error=RuntimeError("action server down")), "查订单", fake_agent())
    assert said(output) == ["SORRY-FROM-DOMAIN"]


def test_guard_apology_is_backed_by_a_follow_up_ticket(db):
    from shop.db import repository
    from shop.db.engine import session_scope

    for _ in range(2):  # a second failure reuses the same open ticket
        send(Handler(error=RuntimeError("action server down")), "风尊多少钱", fake_agent())
    with session_scope() as session:
        [ticket] = repository.tickets.open_tickets(session=session, conversation_id="u1")
    assert ticket.kind == "handoff"
    assert ticket.detail == "风尊多少钱"
    assert "系统故障" in ticket.summary
    assert ticket.respond_due is not None


def test_guard_failure_after_a_reply_adds_nothing():
    handler = Handler(replies=[{"text": "好的"}], error=RuntimeError("late failure"))
    assert said(send(handler, "查订单", fake_agent())) == ["好的"]


def test_guard_silence_in_a_paused_conversation_says_please_wait():
    agent = fake_agent(paused=True)
    assert said(send(Handler(), "人呢？", agent)) == ["WAIT-FROM-DOMAIN"]
    assert agent.tracker_store.asked == ["u1"]


def test_guard_silence_otherwise_gets_an_apology():
    assert said(send(Handler(), "在吗", fake_agent(paused=False))) == ["SORRY-FROM-DOMAIN"]


@pytest.mark.parametrize(
    "agent", [fake_agent(store=False), fake_agent(store_fails=True)], ids=["no-store", "down"]
)
def test_guard_without_a_readable_tracker_apologises(agent):
    assert said(send(Handler(), "在吗", agent)) == ["SORRY-FROM-DOMAIN"]


@pytest.mark.parametrize(
    "text, handler, expected",
    [
        ("", Handler(), guard._FALLBACK_TEXT[guard.EMPTY]),
        ("在吗", Handler(), guard._FALLBACK_TEXT[guard.UNAVAILABLE]),
        ("在吗", Handler(error=ValueError("x")), guard._FALLBACK_TEXT[guard.UNAVAILABLE]),
    ],
)
def test_guard_without_an_agent_uses_built_in_wording(text, handler, expected):
    assert said(send(handler, text, None)) == [expected]


def test_guard_with_a_domain_missing_the_response_uses_built_in_wording():
    agent = fake_agent()
    agent.domain.responses = {}
    assert said(send(Handler(), "", agent)) == [guard._FALLBACK_TEXT[guard.EMPTY]]


def test_guarded_rest_input_keeps_the_rest_name():
    assert GuardedRestInput.name() == "rest"
    blueprint = GuardedRestInput().blueprint(Handler())
    assert blueprint.name == "custom_webhook_GuardedRestInput"


def test_guard_tells_whether_the_message_was_handled_to_the_end():
    """A reply may already be out when saving the tracker fails (database down): the
    guard still says the message was not handled, so the channel can ask for it again."""
    for handler, handled in ((Handler([{"text": "好的"}]), True),
                             (Handler([{"text": "好的"}], error=RuntimeError("db down")), False),
                             (Handler(error=RuntimeError("db down")), False)):
        output = CollectingOutputChannel()
        guarded = guard.guard(handler, agent_getter=lambda: fake_agent())
        assert asyncio.run(guarded(UserMessage("你好", output, "u1"))) is handled
        assert output.messages  # never silence


def test_guard_counts_a_message_the_tracker_store_could_not_save_as_not_handled():
    from bot import tracker_store

    async def answered_but_not_saved(message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {"text": "好的"})
        tracker_store.SAVE_FAILED.set(True)  # what the store does when its save fails

    output = CollectingOutputChannel()
    guarded = guard.guard(answered_but_not_saved, agent_getter=lambda: fake_agent())
    assert asyncio.run(guarded(UserMessage("你好", output, "u1"))) is False


# ================================================================= budgets


def test_a_budget_is_an_entity_where_it_is_written():
    extractor = BudgetEntityExtractor.create(
        {}, None, None, ExecutionContext(GraphSchema({}), "test"))  # type: ignore[arg-type]
    message = Message(data={TEXT: "手机3000以内的有吗", ENTITIES: [{"entity": "category"}]})
    extractor.process([message])
    assert message.get(ENTITIES)[1] == {
        "entity": "budget", "value": "3000元以内", "start": 2, "end": 8, "confidence": 1.0,
        "extractor": "BudgetEntityExtractor"}
    # Numerals made digits move the positions: the whole message then.
    message = Message(data={TEXT: "预算两千左右"})
    extractor.process([message])
    assert [(e["value"], e["start"], e["end"]) for e in message.get(ENTITIES)] == [
        ("2000元左右", 0, 6)]
    message = Message(data={TEXT: "两三千的有吗"})  # a spoken range moves them too
    extractor.process([message])
    assert [(e["value"], e["start"], e["end"]) for e in message.get(ENTITIES)] == [
        ("2000到3000元", 0, 6)]
    for text in ("75寸的", "买2台", "", "15到20平米"):
        message = Message(data={TEXT: text})
        extractor.process([message])
        assert not message.get(ENTITIES)

