"""XML parsing and building, text splitting, duplicate detection."""

from __future__ import annotations

import pytest

from bot.channels.wechat.dedup import RecentKeys
from bot.channels.wechat.messages import (
    BadXml,
    cdata,
    parse_xml,
    render,
    split_text,
    text_reply_xml,
    turn_chunks,
)


def test_reply_xml_survives_cdata_terminators():
    xml = text_reply_xml("oUser", "gh_x", "a ]]> b <c> & d", now=1)
    assert parse_xml(xml) == {"ToUserName": "oUser", "FromUserName": "gh_x", "CreateTime": "1",
                              "MsgType": "text", "Content": "a ]]> b <c> & d"}
    assert cdata("]]>") == "<![CDATA[]]]]><![CDATA[>]]>"


@pytest.mark.parametrize(
    "body",
    [
        '<!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><A>&a;</A></xml>',
        '<!doctype xml SYSTEM "file:///etc/passwd"><xml/>',
        "<xml><A>" + "x" * 70_000 + "</A></xml>",
        "<xml><A></xml>",
    ],
    ids=["entity", "external-doctype", "too-large", "malformed"],
)
def test_dangerous_or_broken_xml_is_refused(body):
    with pytest.raises(BadXml):
        parse_xml(body)


@pytest.mark.parametrize(
    "text, limit, expected",
    [
        pytest.param("短句。", 2048, ["短句。"], id="fits"),
        pytest.param("第一句话。第二句话。第三句话。", 33, ["第一句话。第二句话。", "第三句话。"],
                     id="sentence-boundary"),
        pytest.param("第一段的内容。稍长\n第二段。比较长一些的内容", 42,
                     ["第一段的内容。稍长", "第二段。比较长一些的内容"], id="paragraph-first"),
        pytest.param("没有标点的一长串文字没有标点的一长串文字", 30,
                     ["没有标点的一长串文字", "没有标点的一长串文字"], id="hard-cut-at-characters"),
        pytest.param("abc😊def", 6, ["abc", "😊de", "f"], id="never-inside-a-character"),
    ],
)
def test_split_text(text, limit, expected):
    assert split_text(text, limit) == expected
    assert all(len(chunk.encode("utf-8")) <= limit for chunk in split_text(text, limit))


def test_split_text_default_limit_is_2048_bytes():
    text = "很长的回答。" * 1000
    chunks = split_text(text)
    assert all(len(c.encode("utf-8")) <= 2048 for c in chunks)
    assert "".join(chunks) == text


def test_turn_chunks_joins_a_short_turn_and_keeps_long_turns_apart():
    assert turn_chunks(["甲", "", "乙"]) == ["甲\n\n乙"]
    long = "长句子。" * 300
    chunks = turn_chunks([long, "结束"], limit=2048)
    assert chunks[-1] == "结束" and len(chunks) > 2
    assert turn_chunks([]) == []


def test_render_of_rich_messages():
    assert render({"text": "看图", "image": "https://x/y.png"}) == "看图\nhttps://x/y.png"
    assert render({"text": "选", "quick_replies": [{"title": "是"}, {"title": "否"}]}) == \
        "选\n【是】【否】"
    assert render({"custom": {"text": "自定义"}}) == "自定义"
    assert render({"custom": {"blocks": []}}) == ""


def test_recent_keys_expire_and_stay_bounded():
    now = [0.0]
    keys = RecentKeys(ttl=15, capacity=3, clock=lambda: now[0])
    assert keys.add("a") and not keys.add("a")
    now[0] = 16
    assert keys.add("a")  # forgotten after the TTL
    for key in "bcde":
        keys.add(key)
    assert len(keys) == 3 and "a" not in keys and "e" in keys
