"""A decision to buy told in chat, and how to order (knowledge/policies.yml `ordering`)."""

from __future__ import annotations

import pytest

from shop import buying, knowledge


@pytest.mark.parametrize(
    "text, said",
    [
        ("那就买这个吧", buying.DECIDED),
        ("不错，就它了！", buying.DECIDED),  # 不 of 不错 is no negation of 就它了
        ("我要这款", buying.DECIDED),
        ("帮我下单", buying.DECIDED),
        ("买了", buying.DECIDED),
        ("好的，我买了～", buying.DECIDED),
        ("拍下了", buying.ORDERED),
        ("我拍了，什么时候发货", buying.ORDERED),
        ("已付款", buying.ORDERED),
        ("付好了", buying.ORDERED),
        ("拍了！", buying.ORDERED),  # short ones as the whole message only
        ("拍了两件怎么只发了一件", None),
        ("付了", buying.ORDERED),
        ("付了钱就能发吗", None),
        # Not decisions: 买了 inside a sentence, a negation right before, postponing.
        ("我已经买了别家的", None),
        ("买了就不能退了吧", None),
        ("不要这个了", None),
        ("先不下单了", None),
        ("还没下单了", None),
        ("考虑一下再下单吧", None),
        ("我要买空调", None),  # choosing, not decided
        ("怎么下单", None),
        ("", None),
        ("？！", None),
    ],
)
def test_a_decision_to_buy_is_told_apart(text, said):
    assert buying.decision(text) == said


def test_the_steps_and_times_come_from_the_policies():
    rules = knowledge.policies()["ordering"]
    assert buying.how_to_order() == rules["explain"].strip().rstrip("。")
    assert "立即购买" in buying.how_to_order()
    assert buying.dispatch_times() == rules["dispatch"]
