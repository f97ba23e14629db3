"""WXBizMsgCrypt: Tencent's published sample vectors, round trips, refusals."""

from __future__ import annotations

import pytest

from bot.channels.wechat.crypto import CryptoError, MessageCrypto, signature

# The official sample of the callback protocol (developer.work.weixin.qq.com, 加解密方案;
# the same values ship with Tencent's WXBizMsgCrypt samples in every language).
SAMPLE_TOKEN = "QDG6eK"
SAMPLE_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
SAMPLE_CORP_ID = "wx5823bf96d3bd56c7"
SAMPLE_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3Qczc"
    "dCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLj"
    "vd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMn"
    "vw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k"
    "22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2Yoy"
    "yH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)
SAMPLE_ECHOSTR = (
    "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
)


@pytest.fixture
def sample() -> MessageCrypto:
    return MessageCrypto(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_CORP_ID)


def test_the_shared_callback_step_checks_the_signature_then_decrypts(sample):
    query = {"msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
             "timestamp": "1409659813", "nonce": "1372623149"}
    assert "<Content><![CDATA[hello]]></Content>" in sample.open_callback(query, SAMPLE_ENCRYPT)
    for name in query:  # any of the three altered or missing: refused before decrypting
        with pytest.raises(CryptoError, match="msg_signature"):
            sample.open_callback({**query, name: "0"}, SAMPLE_ENCRYPT)
        with pytest.raises(CryptoError, match="msg_signature"):
            sample.open_callback({k: v for k, v in query.items() if k != name}, SAMPLE_ENCRYPT)

def test_official_sample_message_verifies_and_decrypts(sample):
    assert sample.verify("477715d11cdb4164915debcba66cb864d751f3e6", "1409659813",
                         "1372623149", SAMPLE_ENCRYPT)
    plain = sample.decrypt(SAMPLE_ENCRYPT)
    assert plain.startswith("<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>")
    assert "<Content><![CDATA[hello]]></Content>" in plain
    assert "<MsgId>4561255354251345929</MsgId>" in plain


def test_official_sample_url_verification(sample):
    assert sample.verify("5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589",
                         "263014780", SAMPLE_ECHOSTR)
    assert sample.decrypt(SAMPLE_ECHOSTR) == "1616140317555161061"


def test_official_sample_for_another_receiver_is_refused():
    other = MessageCrypto(SAMPLE_TOKEN, SAMPLE_KEY, "wx0000000000000000")
    with pytest.raises(CryptoError, match="receive id"):
        other.decrypt(SAMPLE_ENCRYPT)


def test_sample_signature_fails_with_another_nonce(sample):
    assert not sample.verify("477715d11cdb4164915debcba66cb864d751f3e6", "1409659813",
                             "1372623148", SAMPLE_ENCRYPT)


def test_encryption_with_fixed_random_bytes_matches_the_reference():
    # Vector of the wechat-rust crypto tests: key "kWxPEV…", random "1234567890123456".
    crypto = MessageCrypto("t", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "rust",
                           random_bytes=lambda n: b"1234567890123456")
    assert crypto.encrypt("test") == "9s4gMv99m88kKTh/H8IdkNiFGeG9pd7vNWl50fGRWXY="


def test_plain_signature_is_sha1_of_the_sorted_parts():
    # Computed independently: sha1("1409659589" + "263014780" + "QDG6eK") after sorting.
    import hashlib

    expected = hashlib.sha1(b"1409659589263014780QDG6eK").hexdigest()
    assert signature("QDG6eK", "1409659589", "263014780") == expected


@pytest.mark.parametrize("text", ["", "你好", "x" * 31, "x" * 32, "混合 text ]]> 😊" * 50])
def test_round_trip(text):
    crypto = MessageCrypto("tok", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxapp")
    encrypted = crypto.encrypt(text)
    assert encrypted != crypto.encrypt(text)  # fresh random prefix each time
    assert crypto.decrypt(encrypted) == text


@pytest.mark.parametrize(
    "encrypted",
    ["not base64!", "", "YWJj", SAMPLE_ENCRYPT[:-8] + "AAAAAAA="],
    ids=["not-base64", "empty", "short", "tampered"],
)
def test_garbage_is_refused(sample, encrypted):
    with pytest.raises(CryptoError):
        sample.decrypt(encrypted)


@pytest.mark.parametrize("key", ["short", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF!"])
def test_unusable_keys_are_refused(key):
    with pytest.raises(CryptoError):
        MessageCrypto("t", key, "wx")
