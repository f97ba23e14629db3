"""The client's network address, stamped by the channel on every message.

Actions count failed order checks per client address (actions/orders.py), so the
address must come from the connection, never from what the client sent: any
`client` key in the message metadata is overwritten. Behind our own nginx the socket
peer is the proxy; only then is the last X-Forwarded-For hop (the one nginx added)
believed (TRUSTED_PROXIES: addresses or networks such as 10.0.0.0/8 — an ingress
controller's pods have no fixed address; default loopback).
"""

from __future__ import annotations

import ipaddress
import logging
from functools import lru_cache
from typing import Any, Dict, Optional, Tuple

from shop.config import settings

logger = logging.getLogger(__name__)

METADATA_KEY = "client"


@lru_cache(maxsize=1)
def _proxy_networks(proxies: Tuple[str, ...]) -> Tuple[Any, ...]:
    networks = []
    for proxy in proxies:
        try:
            networks.append(ipaddress.ip_network(proxy, strict=False))
        except ValueError:  # a typo trusts nobody extra, and says so
            logger.error("TRUSTED_PROXIES: %r is not an address or network; ignored", proxy)
    return tuple(networks)


def is_trusted_proxy(peer: str, proxies: Tuple[str, ...] = ()) -> bool:
    """Whether the socket peer is one of TRUSTED_PROXIES (an address or a network)."""
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in _proxy_networks(
        tuple(proxies or settings.trusted_proxies)))


def client_address(request: Optional[Any]) -> str:
    """The address of the client behind a Sanic request ("" without one)."""
    if request is None:
        return ""
    peer = str(getattr(request, "ip", "") or "")
    if is_trusted_proxy(peer):
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1][:64]
    return peer[:64]


def stamped(metadata: Any, request: Optional[Any]) -> Dict[str, Any]:
    """The message metadata with the connection's client address, whatever was sent."""
    stamped_metadata = dict(metadata) if isinstance(metadata, dict) else {}
    stamped_metadata[METADATA_KEY] = client_address(request)
    return stamped_metadata
