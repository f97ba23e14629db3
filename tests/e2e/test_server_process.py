"""The Rasa server as `make run` starts it (bot/serve.py): without TensorFlow."""

from __future__ import annotations

from pathlib import Path

import requests

from bench.stack import Stack


def test_rasa_server_runs_without_tensorflow(stack: Stack) -> None:
    assert stack.rasa is not None
    reply = requests.post(f"{stack.url}/webhooks/rest/webhook",
                          json={"sender": "serve-probe", "message": "可以开发票吗"}, timeout=30)
    assert reply.status_code == 200
    assert any("发票" in (m.get("text") or "") for m in reply.json())  # the FAQ answer
    maps = Path(f"/proc/{stack.rasa.pid}/maps").read_text()
    assert "libtensorflow" not in maps and "_pywrap_tensorflow" not in maps
    assert "sklearn" in maps or "scipy" in maps  # the check looks at the right process
