"""The client's network address, stamped by the channel on every message.

Actions count failed order checks per client address (actions/orders.py), so the
address must come from the connection, never from what the client sent: any
`client` key in the message metadata is overwritten. Behind our own nginx the socket
peer is the proxy; only then is the last X-Forwarded-For hop (the one nginx added)
believed (TRUSTED_PROXIES, default loopback).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from shop.config import settings

METADATA_KEY = "client"


def client_address(request: Optional[Any]) -> str:
    """The address of the client behind a Sanic request ("" without one)."""
    if request is None:
        return ""
    peer = str(getattr(request, "ip", "") or "")
    if peer in settings.trusted_proxies:
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
