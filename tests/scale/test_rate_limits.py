"""Rate limits hold across replicas: the windows live in the production profile's
Redis (RATE_LIMIT_STORE=redis), so spreading one client's posts over both Rasa servers
gains nothing. Before, each replica counted alone: N replicas, N times the limit."""

from __future__ import annotations

import requests

from scale.conftest import FORM_LIMIT, Cluster


def test_one_address_gets_the_limit_once_across_both_replicas(cluster: Cluster) -> None:
    codes = []
    for n in range(FORM_LIMIT + 2):
        port = cluster.rasa_ports[n % len(cluster.rasa_ports)]
        # Straight to each replica from loopback (a trusted proxy): the address is the
        # forwarded one, as behind nginx.
        reply = requests.post(f"http://127.0.0.1:{port}/webhooks/chat/rating",
                              json={"session_id": f"scale-rating-{n:04d}", "expected": 3,
                                    "perceived": 4},
                              headers={"X-Forwarded-For": "198.51.100.23"}, timeout=30)
        codes.append(reply.status_code)
    assert 429 not in codes[:FORM_LIMIT], codes
    assert codes[FORM_LIMIT:] == [429, 429], codes
    other = requests.post(f"http://127.0.0.1:{cluster.rasa_ports[0]}/webhooks/chat/rating",
                          json={}, headers={"X-Forwarded-For": "198.51.100.24"}, timeout=30)
    assert other.status_code == 400  # another address is not affected
