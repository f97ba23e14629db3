"""Guessing a staff password and reusing a token after logout, against the real Rasa
server of the stack: the lock holds across connections and client addresses, the
right password is refused while it lasts, and a logged-out token is dead."""

from __future__ import annotations

import requests

from bench.stack import AGENT_USER, GUESSED_USER, STAFF_PASSWORD, Stack

LOGIN = "/webhooks/console/api/login"


def attempt(stack: Stack, name: str, password: str, client: str) -> requests.Response:
    return requests.post(f"{stack.url}{LOGIN}", json={"username": name, "password": password},
                         headers={"X-Forwarded-For": client}, timeout=30)


def test_guessing_locks_the_account_even_for_the_right_password(stack: Stack) -> None:
    # Five guesses, each from another address and a new connection.
    for number in range(5):
        refused = attempt(stack, GUESSED_USER, f"guess-{number}", f"198.51.100.{40 + number}")
        assert refused.status_code == 401 and refused.json()["error"] == "用户名或密码错误"
    locked = attempt(stack, GUESSED_USER, STAFF_PASSWORD, "198.51.100.60")
    assert locked.status_code == 429 and "token" not in locked.json()
    assert 0 < int(locked.headers["Retry-After"]) <= 60
    # An unknown name gets the same answers (no way to tell which names exist).
    for number in range(5):
        assert attempt(stack, "no-such-staff", "x", f"198.51.100.{70 + number}").json() == \
            refused.json()
    assert attempt(stack, "no-such-staff", "x", "198.51.100.80").status_code == 429


def test_a_token_is_dead_after_logout(stack: Stack) -> None:
    login = attempt(stack, AGENT_USER, STAFF_PASSWORD, "198.51.100.90")
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    me = f"{stack.url}/webhooks/console/api/me"
    assert requests.get(me, headers=headers, timeout=30).status_code == 200
    out = requests.post(f"{stack.url}/webhooks/console/api/logout", headers=headers, timeout=30)
    assert out.status_code == 200
    again = requests.get(me, headers=headers, timeout=30)
    assert again.status_code == 401 and "退出" in again.json()["error"]
