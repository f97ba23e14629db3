"""Login throttling and logout (shop/staff_login.py) on the shared database: failures
counted per account name and per client address, a lockout that grows, the right
password refused while locked, and a logged-out token refused everywhere."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from shop import deadlines, staff_auth, staff_login
from shop.config import settings
from shop.staff_auth import AuthError, StaffDirectory, hash_password
from shop.staff_login import LockedOut, lock_length

PASSWORD = "alice-pw"


@pytest.fixture
def directory(tmp_path, monkeypatch, db) -> StaffDirectory:
    config = replace(settings, staff_accounts=f"alice:{hash_password(PASSWORD, iterations=1000)}",
                     staff_token_secret="t" * 40, var_dir=tmp_path / "var",
                     staff_accounts_file=tmp_path / "var" / "staff.yml")
    found = StaffDirectory(config)
    monkeypatch.setattr(staff_auth, "staff_directory", lambda: found)
    monkeypatch.setattr(staff_login, "settings", replace(
        settings, staff_login_account_limit=3, staff_login_address_limit=5))
    return found


def fail(name: str, address: str, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(AuthError, match="用户名或密码错误"):
            staff_login.login(name, "guess", address)


def test_the_lockout_doubles_up_to_an_hour():
    assert lock_length(2, 3) is None
    assert [lock_length(n, 3).total_seconds() for n in (3, 4, 5, 8)] == [60, 120, 240, 1920]
    assert lock_length(40, 3) == timedelta(hours=1)


def test_an_account_is_locked_after_its_limit_even_for_the_right_password(directory):
    fail("alice", "10.0.0.1", times=3)  # from one address …
    with pytest.raises(LockedOut) as locked:
        staff_login.login("alice", PASSWORD, "10.0.0.2")  # … locks it from every address
    assert 0 < locked.value.seconds <= 60 and "分钟后再试" in str(locked.value)


def test_the_lock_ends_and_a_success_clears_the_accounts_count(directory, monkeypatch):
    fail("alice", "10.0.0.1", times=3)
    later = deadlines.utcnow() + timedelta(seconds=61)
    monkeypatch.setattr(deadlines, "utcnow", lambda: later)
    assert staff_login.locked_for("alice", "10.0.0.1") == 0
    assert staff_login.authenticate(staff_login.login("alice", PASSWORD, "10.0.0.1")).name \
        == "alice"
    fail("alice", "10.0.0.1", times=2)  # counted from zero again: not locked yet
    assert staff_login.locked_for("alice", "10.0.0.3") == 0


def test_each_further_failure_after_the_lock_locks_longer(directory, monkeypatch):
    fail("alice", "10.0.0.1", times=3)
    later = deadlines.utcnow() + timedelta(seconds=61)
    monkeypatch.setattr(deadlines, "utcnow", lambda: later)
    fail("alice", "10.0.0.1")  # the fourth failure: two minutes
    assert 60 < staff_login.locked_for("alice", "10.0.0.9") <= 120


def test_unknown_names_are_counted_and_locked_like_real_ones(directory):
    fail("nobody", "10.0.0.1", times=3)
    with pytest.raises(LockedOut):
        staff_login.login("nobody", "x", "10.0.0.1")


def test_one_address_guessing_many_names_is_locked(directory):
    for number in range(5):
        fail(f"user{number}", "203.0.113.5")
    with pytest.raises(LockedOut):
        staff_login.login("alice", PASSWORD, "203.0.113.5")
    # Another address is not affected, and alice's own count is untouched.
    assert staff_login.login("alice", PASSWORD, "203.0.113.6")


def test_a_logged_out_token_is_refused(directory):
    token = staff_login.login("alice", PASSWORD, "10.0.0.1")
    staff = staff_login.authenticate(token)
    other = staff_login.authenticate(staff_login.login("alice", PASSWORD, "10.0.0.1"))
    staff_login.logout(staff)
    with pytest.raises(AuthError, match="退出"):
        staff_login.authenticate(token)
    staff_login.logout(staff)  # twice is fine
    assert staff_login.authenticate(  # other logins of the same account live on
        staff_login.login("alice", PASSWORD, "10.0.0.1")).name == other.name
