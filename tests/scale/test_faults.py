"""A Rasa server killed (SIGKILL) while customers are chatting, and restarted: no
message is lost and none is handled twice (the short version of `make bench-faults`).

Measured before (issue 16, 2,829 messages, one server killed): 7 messages never
reached a tracker — nginx did not retry a POST, nothing resent. Now every message
carries an id, nginx sends a failed POST on to the other server, the customer resends
after an error, and the servers handle each id once (bot/channels/delivery.py).
"""

from __future__ import annotations

import json

from bench.faults import Load, inject, meets_targets
from scale.conftest import Cluster


def test_a_killed_rasa_server_loses_and_doubles_nothing(cluster: Cluster) -> None:
    # Half in the web chat (socket.io over WebSocket, as the widget), half over REST.
    load = Load(cluster.url, customers=8, sockets=4)
    load.start()
    results, stored = inject(cluster, load, ["rasa"], down_s=6.0, quiet_s=5.0)
    whole, fault = results["whole run"], results["rasa"]
    # pytest shortens long assertion values: what a failure needs is printed whole.
    print(json.dumps({"results": results, "stopped_at_s": round(load.stopped, 1),
                      "crashes": load.crashes}, ensure_ascii=False, indent=1))
    assert not load.crashes, load.crashes[0]
    assert fault["sent"] >= 40, results
    assert load.transports == {"websocket": 4}, load.transports
    assert whole["lost"] == 0 and whole["duplicated"] == 0, (whole, fault)
    assert whole["error_rate"] <= 0.01, results
    assert max(stored.values()) == 1
    assert fault["recovery_s"] is not None and fault["recovery_s"] <= 10, results
    assert meets_targets("rasa", fault) and meets_targets("whole run", whole), results
