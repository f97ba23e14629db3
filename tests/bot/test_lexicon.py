"""The colloquial table (knowledge/language.yml) on its own, and inside the normaliser."""

from __future__ import annotations

import pytest

from bot.nlu.lexicon import Lexicon
from bot.nlu.normalizer import ChineseTextNormalizer


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.load()


@pytest.mark.parametrize("raw, expected", [
    # 咋 / 啥 / 木有
    ("这个费用咋算", "这个费用怎么算"),
    ("咋样", "怎么样"),
    ("啥时候发货", "什么时候发货"),
    ("买了送啥", "买了送什么"),
    ("木有收到", "没有收到"),
    # 多钱 is 多少钱 said short; 好多钱 / 那么多钱 are amounts
    ("这个多钱", "这个多少钱"),
    ("多钱一台", "多少钱一台"),
    ("花了好多钱", "花了好多钱"),
    ("那么多钱", "那么多钱"),
    # bare question tails read as 吗 questions
    ("包邮不", "包邮吗"),
    ("包邮不?", "包邮吗?"),
    ("发货了没", "发货了吗"),
    ("到了没有", "到了吗"),
    ("能退不", "能退吗"),
    ("可以好伐", "可以好吗"),
    # … but a plain negation stays one
    ("不", "不"),
    ("没有", "没有"),
    ("我不", "我不"),
    ("那倒没有", "那倒没有"),
    ("不不不", "不不不"),
    ("一句道歉都没有", "一句道歉都没有"),
    ("货还没", "货还没"),
    # typos and homophones
    ("定单到哪了", "订单到哪了"),
    ("油费谁出", "邮费谁出"),
    ("保休几年", "保修几年"),
    ("不会在订了你们家", "不会再订了你们家"),
    ("在也不买了", "再也不买了"),
    ("我不会在家", "我不会在家"),
    ("正在买", "正在买"),
    # the return policy named without its verb
    ("支持七天无理由吗", "支持七天无理由退货吗"),
    ("有7天无理由不", "有7天无理由退货吗"),
    ("七天无理由退货吗", "七天无理由退货吗"),
    ("为什么是七天无理由", "为什么是七天无理由"),
    # where to order is how; reaching us is asking for a person
    ("在哪下单", "怎么下单"),
    ("请问在哪里下单呀", "请问怎么下单呀"),
    ("怎么联系你们", "怎么联系客服"),
    ("退货要怎么联系你们", "退货要怎么联系你们"),
    ("人工客服在吗", "有人工吗"),
    ("人工客服在吗我的订单", "人工客服在吗我的订单"),
    # an order placed or paid, said alone, is said one way
    ("拍下了！", "拍好了"),
    ("已付款", "拍好了"),
    ("已付款怎么还没发货", "已付款怎么还没发货"),
    # pinyin and English small talk, whole words only
    ("xiexie", "谢谢"),
    ("XieXie", "谢谢"),
    ("zaijian", "再见"),
    ("好的 thx", "好的 谢谢"),
    ("thank you very much", "谢谢 very much"),
    ("hi 在吗", "你好 在吗"),
    ("hifi音响", "hifi音响"),
    ("price_list", "price_list"),
    # button payloads pass untouched
    ('/practice{"scenario": "price_insurance_low_income"}',
     '/practice{"scenario": "price_insurance_low_income"}'),
    ('/ask_product{"product": "风尊"} 包邮不', '/ask_product{"product": "风尊"} 包邮不'),
    ("kitty猫", "kitty猫"),
    # whole messages only
    ("88", "再见"),
    ("886!", "再见"),
    ("88元", "88元"),
    ("ok", "好的"),
    ("OK!", "好的"),
    ("在么", "在吗"),
    # bargaining said with 优惠 / 少 reads as with 便宜 (rule 2 of data/LABELLING.md)
    ("能优惠点吗", "能便宜点吗"),
    ("再少点啦", "再便宜点啦"),
    ("有优惠吗", "有优惠吗"),
    # Cantonese, after Traditional → Simplified
    ("部洗衣机唔郁", "部洗衣机不动"),
    ("个焗炉唔热", "个烤箱不热"),
    ("雪柜唔冻", "冰箱不冷"),
    ("系咪正货", "是不是正货"),
    ("点解仲未到", "为什么还没到"),
    ("有冇货", "有没有货"),
    ("几多钱", "多少钱"),
    ("平啲得唔得", "便宜点行不行"),
    ("收唔到货", "收不到货"),
    ("唔该晒", "谢谢"),
    # … not the Mandarin look-alikes
    ("唔好的", "唔好的"),
    ("这款好耐用", "这款好耐用"),
    ("要一点样品", "要一点样品"),
    # a reply of one emoji, or of 收到 / 阔以, says yes or thanks
    ("👌", "好的"),
    ("👌🏻 ", "好的"),  # a skin tone and a space change nothing
    ("👍👍", "好的"),
    ("🙏", "谢谢"),
    ("收到!", "好的"),
    ("阔以", "可以"),
    ("阔以的", "可以的"),
    # free said as "given for nothing"
    ("白送的？", "免费送的？"),
    ("安装是白给的吗", "安装是免费给的吗"),
    # … inside a sentence an emoji is left to the classifiers, 收到 is a parcel
    ("好吃👍", "好吃👍"),
    ("收到了吗", "收到了吗"),
    # already canonical or nothing to do
    ("美的风尊空调多少钱", "美的风尊空调多少钱"),
    ("😂😂😂", "😂😂😂"),
    ("", ""),
])
def test_rewrites(lexicon: Lexicon, raw: str, expected: str) -> None:
    assert lexicon.apply(raw) == expected


def test_longest_phrase_wins() -> None:
    table = {"phrases": {"啥": "什么", "啥时候": "什么时候", "为啥": "为什么"}}
    assert Lexicon(table).apply("为啥啥时候都不行") == "为什么什么时候都不行"


def test_an_empty_table_changes_nothing() -> None:
    assert Lexicon({}).apply("咋算 xiexie 包邮不") == "咋算 xiexie 包邮不"


def test_the_normaliser_applies_it_after_width_and_script() -> None:
    component = ChineseTextNormalizer(ChineseTextNormalizer.get_default_config())
    assert component.normalize("請問包郵不？") == "请问包邮吗?"
    assert component.normalize("ＸＩＥＸＩＥ") == "谢谢"
    assert component.normalize("部洗衣機唔郁") == "部洗衣机不动"
    off = ChineseTextNormalizer({**ChineseTextNormalizer.get_default_config(), "lexicon": ""})
    assert off.normalize("請問包郵不？") == "请问包邮不?"


def test_the_length_cap_comes_first() -> None:
    component = ChineseTextNormalizer({**ChineseTextNormalizer.get_default_config(),
                                       "max_chars": 5})
    assert component.normalize("咋" * 100) == "怎么怎么怎"


@pytest.mark.parametrize("raw, expected", [
    ("我的冰箱不制冷了" * 125, "我的冰箱不制冷了"),
    ("快点快点快点", "快点"),
    ("在吗在吗在吗 有人吗", "在吗 有人吗"),
    ("好的好的", "好的好的"),  # twice is still speech
    ("谢谢谢谢", "谢谢"),  # the lexicon's entry, not a collapse
])
def test_the_normaliser_keeps_a_repeated_stretch_once(raw: str, expected: str) -> None:
    component = ChineseTextNormalizer(ChineseTextNormalizer.get_default_config())
    assert component.normalize(raw) == expected
    off = ChineseTextNormalizer({**ChineseTextNormalizer.get_default_config(),
                                 "collapse_repeats": False})
    assert off.normalize("快点快点快点") == "快点快点快点"
