"""The intent guard (bot/nlu/intent_guard.py): a reading the message's words rule out gives way."""

from __future__ import annotations

from typing import Any, Dict, Tuple

import pytest
from rasa.shared.nlu.training_data.message import Message

from bench.nlu_quality import TRAIN_DIR, read_examples
from bot.nlu.intent_guard import IntentGuard
from shop import knowledge


def parsed(text: str, *ranking: Tuple[str, float], faq: str = "") -> Dict[str, Any]:
    intents = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    message = Message(data={"text": text, "intent": dict(intents[0]),
                            "intent_ranking": intents})
    if faq:  # what the FAQ selector, before the guard, picked
        message.set("response_selector", {"all_retrieval_intents": ["faq"], "faq": {
            "response": {"intent_response_key": faq, "confidence": 0.9}, "ranking": []}})
    guard = IntentGuard(knowledge.load("language")["not_meant"])
    processed = guard.process([message])[0]
    return {"intent": processed.get("intent"), "ranking": processed.get("intent_ranking")}


@pytest.mark.parametrize("text", ["是698吗", "三袋236嘛", "55的和39的什么区别", "买三袋是20吗？",
                                  "一袋是30还是三袋", "是150克吧", "299多大"])
def test_a_question_with_numbers_is_not_data_given(text: str) -> None:
    result = parsed(text, ("inform", 0.6), ("ask_price", 0.3), ("ask_product", 0.1))
    assert result["intent"]["name"] == "ask_price"
    # Read given that it is not `inform`: 0.3 / (1 - 0.6).
    assert result["intent"]["confidence"] == pytest.approx(0.75)
    assert [r["name"] for r in result["ranking"]] == ["ask_price", "ask_product"]
    assert result["ranking"][1]["confidence"] == pytest.approx(0.25)


@pytest.mark.parametrize("text", ["DD202611200001", "尾号8001", "手机号13800138001", "格力云佳",
                                  "长245宽235", "3000以内的"])
def test_data_given_stays_inform(text: str) -> None:
    result = parsed(text, ("inform", 0.6), ("ask_price", 0.3))
    assert result["intent"] == {"name": "inform", "confidence": 0.6}
    assert len(result["ranking"]) == 2


def test_a_question_read_as_another_intent_is_left_alone() -> None:
    result = parsed("是698吗", ("ask_price", 0.5), ("inform", 0.4))
    assert result["intent"] == {"name": "ask_price", "confidence": 0.5}
    assert [r["name"] for r in result["ranking"]] == ["ask_price", "inform"]


def test_a_ranking_of_inform_alone_is_kept_and_a_sure_inform_cannot_divide_by_zero() -> None:
    assert parsed("是698吗", ("inform", 1.0))["intent"]["name"] == "inform"
    result = parsed("是698吗", ("inform", 1.0), ("ask_price", 0.0))
    assert result["intent"]["name"] == "ask_price"
    assert 0.0 <= result["intent"]["confidence"] <= 1.0


@pytest.mark.parametrize("text", ["已经拍下芒果干了什么时候能发货啊", "买了个茶刀今天能发货么",
                                  "今已下单什么时候收到货", "我的快递几天能到", "怎么还没发货"])
def test_delivery_time_of_an_order_placed_is_not_the_faq(text: str) -> None:
    result = parsed(text, ("faq", 0.6), ("order_status", 0.3), ("complain", 0.1),
                    faq="faq/delivery_time")
    assert result["intent"]["name"] == "order_status"
    assert result["intent"]["confidence"] == pytest.approx(0.75)


@pytest.mark.parametrize("text, faq", [
    ("下午拍的话今天发货吗", "faq/delivery_time"), ("现在拍了明天就发货吗", "faq/delivery_time"),
    ("已经下单了地址填错了怎么改", "faq/change_address"), ("已付款了能开发票吗", "faq/invoice"),
])
def test_other_answers_and_questions_before_ordering_stay_faq(text: str, faq: str) -> None:
    result = parsed(text, ("faq", 0.6), ("order_status", 0.3), faq=faq)
    assert result["intent"] == {"name": "faq", "confidence": 0.6}


def test_no_sign_list_contradicts_a_training_example_of_its_intent() -> None:
    """A sign in a training example of the intent it rules out would be a contradiction."""
    guard = IntentGuard(knowledge.load("language")["not_meant"])
    for text, intent, answer in read_examples(sorted(TRAIN_DIR.rglob("*.yml"))):
        assert not guard.ruled_out(intent, text, answer), (answer or intent, text)


@pytest.mark.parametrize("text", ["嗯不需要谢谢", "不用了，谢谢", "暂时不需要", "不要了！",
                                  "我不需要"])
def test_a_bare_refusal_is_an_answer_not_an_objection(text: str) -> None:
    # Guide rule 7: neither a reason nor the thing, so it answers what was offered.
    result = parsed(text, ("objection_no_need", 0.7), ("deny", 0.25), ("thank", 0.05))
    assert result["intent"]["name"] == "deny"
    assert result["intent"]["confidence"] == pytest.approx(0.25 / 0.3)


@pytest.mark.parametrize("text", ["不需要了 我已经自己弄好了", "已经好了 不需要维修了",
                                  "不用上门安装了", "问题解决了 不需要了"])
def test_help_declined_with_a_reason_is_an_answer_not_an_objection(text: str) -> None:
    # Guide rule 7: the no-need objection is about the goods, not a service.
    result = parsed(text, ("objection_no_need", 0.6), ("deny", 0.3), ("after_sales", 0.1))
    assert result["intent"]["name"] == "deny"


@pytest.mark.parametrize("text", ["家里有了", "不需要这么大的", "暂时用不上", "先不买了",
                                  "我不需要买空调", "没兴趣"])
def test_a_refusal_with_its_reason_or_thing_stays_an_objection(text: str) -> None:
    result = parsed(text, ("objection_no_need", 0.7), ("deny", 0.3))
    assert result["intent"] == {"name": "objection_no_need", "confidence": 0.7}


@pytest.mark.parametrize("text", ["杭州到南京要几天", "沈阳多久", "北京几天？", "送什么啊",
                                  "收藏关注送什么啊"])
def test_delivery_time_and_gifts_are_the_shops_business(text: str) -> None:
    result = parsed(text, ("out_of_scope", 0.5), ("faq", 0.3), ("ask_product", 0.2))
    assert result["intent"]["name"] == "faq"
    assert result["intent"]["confidence"] == pytest.approx(0.6)


@pytest.mark.parametrize("text", ["去上海的高铁要多久", "北京到广州坐飞机要几天", "讲个笑话"])
def test_a_journey_or_small_talk_stays_out_of_scope(text: str) -> None:
    result = parsed(text, ("out_of_scope", 0.5), ("faq", 0.3), ("ask_product", 0.2))
    assert result["intent"] == {"name": "out_of_scope", "confidence": 0.5}


@pytest.mark.parametrize("text", ["我现在拍什么时候发货", "现在买什么时候到天津",
                                  "还没下单 几天能到"])
def test_an_order_not_placed_yet_is_not_order_status(text: str) -> None:
    result = parsed(text, ("order_status", 0.6), ("faq", 0.4), faq="faq/delivery_time")
    assert result["intent"]["name"] == "faq"


@pytest.mark.parametrize("text", ["我的快递到哪了", "下单后三天了还没发货", "今天下单的什么时候发"])
def test_an_order_placed_stays_order_status(text: str) -> None:
    result = parsed(text, ("order_status", 0.6), ("faq", 0.4), faq="faq/delivery_time")
    assert result["intent"]["name"] == "order_status"


@pytest.mark.parametrize("text, shop_reading", [
    ("我想买个飞行器", "ask_product"), ("帮我推荐婴儿毛线帽子", "ask_product"),
    ("给我推荐几个儿童电话", "ask_product"), ("你们卖不卖自行车", "ask_product"),
    ("我刚定的外卖，饭里有虫子", "after_sales"), ("吃了拉肚子怎么办", "after_sales"),
    ("吃到了个小虫子", "after_sales"),
])
def test_goods_asked_for_and_faults_in_them_are_the_shops_business(text: str,
                                                                   shop_reading: str) -> None:
    # Guide: label the request, not the goods (what we do not sell gets "we don't sell X").
    result = parsed(text, ("out_of_scope", 0.5), (shop_reading, 0.3), ("complain", 0.2))
    assert result["intent"]["name"] == shop_reading


@pytest.mark.parametrize("text", ["给我推荐几个彩票号码", "我想买去上海的火车票", "帮我推荐部电影",
                                  "推荐个基金", "感冒了吃什么药"])
def test_tickets_money_films_and_health_stay_out_of_scope(text: str) -> None:
    result = parsed(text, ("out_of_scope", 0.5), ("ask_product", 0.3), ("faq", 0.2))
    assert result["intent"] == {"name": "out_of_scope", "confidence": 0.5}


@pytest.mark.parametrize("text", ["你们服务真不错", "东西收到了 很满意", "客服态度很好 给你们点赞",
                                  "快递很给力", "空调很好用 五星好评"])
def test_praise_is_not_a_complaint(text: str) -> None:
    # Guide: praise with no request is thanks; it had opened complaint tickets.
    result = parsed(text, ("complain", 0.6), ("thank", 0.3), ("objection_trust", 0.1))
    assert result["intent"]["name"] == "thank"
    assert result["intent"]["confidence"] == pytest.approx(0.75)


@pytest.mark.parametrize("text", ["质量挺好就是物流太慢", "服务态度好差", "说好的好评返现呢",
                                  "以前服务很好 现在怎么这样", "快递不给力",
                                  "很满意？你们在开玩笑吧", "服务很好但是东西坏了"])
def test_praise_with_a_grievance_stays_a_complaint(text: str) -> None:
    result = parsed(text, ("complain", 0.6), ("thank", 0.3), ("objection_trust", 0.1))
    assert result["intent"] == {"name": "complain", "confidence": 0.6}


@pytest.mark.parametrize("text", ["你们是不是有病 退个货这么麻烦", "说好的今天发货 骗子",
                                  "没有物流信息 你们就是骗人", "收到的是旧的 骗子店"])
def test_an_accusation_about_what_happened_to_an_order_is_a_complaint(text: str) -> None:
    # Guide rule 3: a grievance after an event is `complain`, accusation or not.
    result = parsed(text, ("objection_trust", 0.6), ("complain", 0.3), ("ask_product", 0.1))
    assert result["intent"]["name"] == "complain"


@pytest.mark.parametrize("text", ["你们是骗子吧", "怕买到坏了没人管", "万一发货是假的怎么办",
                                  "快递来的是正品吗", "你们靠谱吗 收到假货怎么办"])
def test_doubt_before_buying_stays_an_objection(text: str) -> None:
    result = parsed(text, ("objection_trust", 0.6), ("complain", 0.3), ("ask_product", 0.1))
    assert result["intent"] == {"name": "objection_trust", "confidence": 0.6}


@pytest.mark.parametrize("text", ["键盘灯不亮是什么原因", "亲湿巾有两包是漏的", "有药水味",
                                  "耳机连不上怎么办"])
def test_a_fault_in_goods_received_is_not_a_product_question(text: str) -> None:
    result = parsed(text, ("ask_product", 0.6), ("after_sales", 0.35), ("complain", 0.05))
    assert result["intent"]["name"] == "after_sales"


@pytest.mark.parametrize("text", ["这款冰箱会不会坏", "我怕路上坏了", "要是碎了怎么办",
                                  "屏幕多大"])
def test_a_worry_before_buying_stays_a_product_question(text: str) -> None:
    result = parsed(text, ("ask_product", 0.6), ("after_sales", 0.4))
    assert result["intent"]["name"] == "ask_product"


@pytest.mark.parametrize("text", ["想再拍袜子可以包邮吗", "有没有优惠啥的", "还有肥皂秒杀吗",
                                  "运费谁出"])
def test_a_fee_or_a_discount_asked_about_is_not_a_product_question(text: str) -> None:
    # The product's second group of signs: its own `unless`, not the fault group's (吗).
    result = parsed(text, ("ask_product", 0.6), ("ask_price", 0.35), ("objection_price", 0.05))
    assert result["intent"]["name"] == "ask_price"


@pytest.mark.parametrize("text", ["有没有优惠的运动鞋啊", "包邮的和不包邮的有什么区别",
                                  "哪款优惠力度大"])
def test_goods_on_offer_and_comparisons_stay_product_questions(text: str) -> None:
    result = parsed(text, ("ask_product", 0.6), ("ask_price", 0.4))
    assert result["intent"]["name"] == "ask_product"


@pytest.mark.parametrize("text", ["我特地问了有货才拍的你们是不是骗子",
                                  "什么意思这是骗我不是说重发", "骗子啊骗了我一下子买了十二包"])
def test_an_accusation_after_a_purchase_is_a_complaint(text: str) -> None:
    # The second group of trust signs: a purchase made, even asked as a question (吗).
    result = parsed(text, ("objection_trust", 0.55), ("complain", 0.4), ("ask_product", 0.05))
    assert result["intent"]["name"] == "complain"


@pytest.mark.parametrize("text", ["买了会不会是假的", "朋友买了说不好 你们靠谱吗", "想买 怕是假货"])
def test_a_worry_about_a_purchase_stays_doubt(text: str) -> None:
    result = parsed(text, ("objection_trust", 0.6), ("complain", 0.4))
    assert result["intent"]["name"] == "objection_trust"


@pytest.mark.parametrize("text, kept", [("棉花棒你给我补发了吗", False), ("补发时间多久到", False),
                                        ("补发也来不及了 我申请退款", True),
                                        ("不补发就退款", True)])
def test_where_a_reshipment_is_asks_for_a_parcel_not_a_refund(text: str, kept: bool) -> None:
    result = parsed(text, ("return_refund", 0.6), ("order_status", 0.4))
    assert (result["intent"]["name"] == "return_refund") is kept


@pytest.mark.parametrize("text", ["不要给我推荐了", "可以给我推荐什么合适的生日礼物吗"])
def test_a_recommendation_asked_for_or_declined_is_not_a_refund(text: str) -> None:
    result = parsed(text, ("return_refund", 0.56), ("deny", 0.27), ("ask_product", 0.17))
    assert result["intent"]["name"] != "return_refund"
