"""The client address channels stamp on messages (bot/channels/client.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.channels.client import client_address, stamped


def request(ip: str, forwarded: str = "") -> SimpleNamespace:
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    return SimpleNamespace(ip=ip, headers=headers)


@pytest.mark.parametrize("peer, forwarded, expected", [
    ("203.0.113.5", "", "203.0.113.5"),
    # A stranger's header is not believed: anyone can write one.
    ("203.0.113.5", "10.0.0.1", "203.0.113.5"),
    # Our own proxy (loopback): the hop it added, the last one, is the client.
    ("127.0.0.1", "10.0.0.1, 198.51.100.9", "198.51.100.9"),
    ("::1", "198.51.100.9", "198.51.100.9"),
    ("127.0.0.1", "", "127.0.0.1"),
])
def test_client_address(peer, forwarded, expected):
    assert client_address(request(peer, forwarded)) == expected


def test_what_the_client_sent_is_overwritten():
    assert stamped({"client": "1.2.3.4", "lang": "zh"}, request("203.0.113.5")) == {
        "client": "203.0.113.5", "lang": "zh"}
    assert stamped("not a dict", None) == {"client": ""}


@pytest.mark.parametrize("peer, trusted", [
    ("10.42.3.17", True),     # an ingress controller pod inside 10.0.0.0/8
    ("10.255.0.1", True),
    ("11.0.0.1", False),
    ("127.0.0.1", True),
    ("fd00::1", False),
    ("not-an-ip", False),
])
def test_proxies_may_be_networks(monkeypatch, peer, trusted):
    """On Kubernetes the ingress pods have no fixed address: TRUSTED_PROXIES takes
    networks, and a wrong entry trusts nobody extra."""
    from dataclasses import replace

    from bot.channels import client
    monkeypatch.setattr(client, "settings", replace(
        client.settings, trusted_proxies=("127.0.0.1", "10.0.0.0/8", "bogus/99")))
    expected = "198.51.100.9" if trusted else peer
    assert client_address(request(peer, "198.51.100.9")) == expected
