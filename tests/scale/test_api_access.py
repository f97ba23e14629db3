"""Rasa's HTTP API behind nginx (deploy/nginx.conf.template): reachable from the
allowed hosts only, while customers and staff pages stay open — a second nginx in
front of the same Rasa servers, allowing nobody, shows the refusal."""

from __future__ import annotations

import requests

from bench.services import Nginx
from scale.conftest import TOKEN, Cluster


def test_the_api_is_refused_to_hosts_not_allowed(cluster: Cluster, tmp_path) -> None:
    # The shipped rule allows loopback: the cluster's own nginx passes the API.
    status = requests.get(f"{cluster.url}/status", params={"token": TOKEN}, timeout=30)
    assert status.status_code == 200
    closed = Nginx(tmp_path, cluster.rasa_ports, cluster.action_ports,
                   api_access="deny all;").start()
    try:
        base = f"http://127.0.0.1:{closed.rasa_listen}"
        for path in ("/status", "/version", "/model/parse", "/conversations/x/tracker",
                     "/domain"):
            refused = requests.get(f"{base}{path}", params={"token": TOKEN}, timeout=30)
            assert refused.status_code == 403, path
        # Not the channels and pages: the chat page and the REST webhook still answer.
        assert requests.get(f"{base}/webhooks/chat/", timeout=30).status_code == 200
        reply = requests.post(f"{base}/webhooks/rest/webhook", timeout=60,
                              json={"sender": "scale-api-open", "message": "你好"})
        assert reply.status_code == 200 and reply.json()
    finally:
        closed.stop()
