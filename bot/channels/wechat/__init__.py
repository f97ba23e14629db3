"""WeChat channels: the Official Account (公众号) and WeCom customer service (微信客服).

Both speak Tencent's callback protocol (signed, optionally AES-encrypted XML) and
answer through their platform's HTTP API; see `official_account` and `wecom`.
"""
