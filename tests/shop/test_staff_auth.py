"""Staff accounts and console tokens (shop.staff_auth), on settings under tmp_path only."""

from __future__ import annotations

import stat
import time
from dataclasses import replace
from pathlib import Path

import jwt
import pyotp
import pytest
import yaml

from shop import staff_auth
from shop.config import PROJECT_ROOT, Settings
from shop.staff_auth import AuthError, Staff, StaffDirectory, hash_password, verify_password

SECRET = "test-secret-0123456789-abcdefghijklmnop"  # ≥ 32 bytes: no key-length warning
OTHER_SECRET = "another-secret-0123456789-abcdefghijk"
HOURS = 8.0
# A moment in the past: PyJWT refuses tokens issued in the future (iat).
T0 = 1_700_000_000.0
# Few iterations keep the tests fast; verify_password reads them from the hash.
FAST = 1000

# The generated development account manages (reports, audit log).
DEV_MANAGER = Staff(name="staff", role="manager")


def fast_hash(password: str) -> str:
    return hash_password(password, iterations=FAST)


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values = dict(
        database_url="sqlite://",
        knowledge_dir=PROJECT_ROOT / "knowledge",
        app_env="development",
        staff_accounts="",
        staff_accounts_file=tmp_path / "var" / "staff_accounts.yml",
        staff_token_secret=SECRET,
        staff_token_hours=HOURS,
        var_dir=tmp_path / "var",
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def accounts() -> str:
    return f"alice:{fast_hash('alice-pw')};bob:{fast_hash('bob-pw')}"


@pytest.fixture
def directory(tmp_path: Path, accounts: str) -> StaffDirectory:
    return StaffDirectory(make_settings(tmp_path, staff_accounts=accounts))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ====================================================================== passwords


def test_hash_password_round_trip():
    stored = hash_password("s3cret-密码")
    algorithm, iterations, salt, digest = stored.split("$")
    assert algorithm == "pbkdf2_sha256"
    assert int(iterations) == staff_auth.ITERATIONS
    assert salt and digest and "s3cret" not in stored
    assert verify_password("s3cret-密码", stored)


def test_verify_password_uses_the_stored_iterations():
    stored = fast_hash("pw")
    assert stored.split("$")[1] == str(FAST)
    assert verify_password("pw", stored)


@pytest.mark.parametrize("wrong", ["PW", "pw ", "", "pw2"])
def test_wrong_password_is_refused(wrong):
    assert not verify_password(wrong, fast_hash("pw"))


def test_different_salts_give_different_hashes():
    first, second = fast_hash("same"), fast_hash("same")
    assert first != second
    assert first.split("$")[2] != second.split("$")[2]
    assert verify_password("same", first) and verify_password("same", second)
    # The same salt gives the same hash (deterministic).
    assert hash_password("same", "salt", FAST) == hash_password("same", "salt", FAST)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "x$y",
        "md5$1$a$b",
        "pbkdf2_sha256",
        "pbkdf2_sha256$abc$salt$hash",  # iterations not a number
        "pbkdf2_sha256$0$salt$hash",  # hashlib refuses 0 iterations
        "pbkdf2_sha256$1$盐$hash",  # non-ASCII salt
        "pbkdf2_sha256$1$$hash",  # empty salt
    ],
)
def test_malformed_stored_hashes_are_refused(stored):
    assert verify_password("pw", stored) is False


# ====================================================================== directory


def test_login_gives_a_token_that_verifies(directory):
    token = directory.login("alice", "alice-pw")
    assert isinstance(token, str) and token.count(".") == 2
    assert directory.verify(token) == Staff(name="alice")
    assert directory.verify(directory.login("bob", "bob-pw")) == Staff(name="bob")


def test_token_claims(directory):
    token = directory.login("alice", "alice-pw", now=T0)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    token_id = claims.pop("jti")  # a random id per login, for logout
    assert len(token_id) == 32 and claims == {"sub": "alice", "scope": "console",
                                              "iat": int(T0), "exp": int(T0 + HOURS * 3600)}


def test_a_chart_link_shows_one_trainee_and_is_never_a_login(tmp_path):
    config = make_settings(tmp_path)
    directory = StaffDirectory(config)
    # A trainee may pick any name, even a staff member's: the link is still no login.
    token = staff_auth.chart_token("alice", config=config)
    assert staff_auth.chart_trainee(token, config=config) == "alice"
    with pytest.raises(AuthError):
        directory.verify(token)
    with pytest.raises(AuthError):
        staff_auth.chart_trainee(directory.login("alice", "alice-pw"), config=config)
    expired = staff_auth.chart_token("alice", hours=1, now=time.time() - 7200, config=config)
    with pytest.raises(AuthError):
        staff_auth.chart_trainee(expired, config=config)
    other = replace(config, staff_token_secret=OTHER_SECRET)
    forged = staff_auth.chart_token("alice", config=other)
    with pytest.raises(AuthError):
        staff_auth.chart_trainee(forged, config=config)


@pytest.mark.parametrize(
    "username, password",
    [
        ("alice", "bob-pw"),  # another account's password
        ("alice", "ALICE-PW"),
        ("alice", ""),
        ("mallory", "alice-pw"),  # unknown user
        ("", ""),
    ],
)
def test_bad_credentials_are_refused(directory, username, password):
    with pytest.raises(AuthError):
        directory.login(username, password)


@pytest.mark.parametrize("token", [None, ""])
def test_missing_token_is_refused(directory, token):
    with pytest.raises(AuthError, match="未登录"):
        directory.verify(token)


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "Bearer x", "eyJhbGciOiJIUzI1NiJ9.e30."])
def test_garbage_token_is_refused(directory, token):
    with pytest.raises(AuthError):
        directory.verify(token)


def test_token_signed_with_another_secret_is_refused(tmp_path, accounts, directory):
    other = StaffDirectory(
        make_settings(tmp_path / "other", staff_accounts=accounts, staff_token_secret=OTHER_SECRET)
    )
    token = other.login("alice", "alice-pw")
    assert other.verify(token) == Staff(name="alice")
    with pytest.raises(AuthError):
        directory.verify(token)


def test_forged_unsigned_token_is_refused(directory):
    forged = jwt.encode({"sub": "alice", "exp": int(time.time()) + 3600}, None, algorithm="none")
    with pytest.raises(AuthError):
        directory.verify(forged)


def test_token_expires_after_the_configured_hours(directory):
    token = directory.login("alice", "alice-pw", now=T0)
    expiry = T0 + HOURS * 3600
    assert directory.verify(token, now=T0) == Staff(name="alice")
    assert directory.verify(token, now=expiry - 1) == Staff(name="alice")
    with pytest.raises(AuthError, match="失效"):
        directory.verify(token, now=expiry + 1)


def test_expired_token_is_refused_by_the_real_clock(directory):
    # T0 is long past, so without `now` PyJWT's own expiry check applies.
    token = directory.login("alice", "alice-pw", now=T0)
    with pytest.raises(AuthError):
        directory.verify(token)


def test_token_hours_come_from_the_settings(tmp_path, accounts):
    short = StaffDirectory(make_settings(tmp_path, staff_accounts=accounts, staff_token_hours=0.5))
    assert short.token_hours == 0.5
    token = short.login("alice", "alice-pw", now=T0)
    assert short.verify(token, now=T0 + 1799) == Staff(name="alice")
    with pytest.raises(AuthError):
        short.verify(token, now=T0 + 1801)


def test_token_of_a_removed_account_is_refused(tmp_path, directory):
    token = directory.login("bob", "bob-pw")
    without_bob = StaffDirectory(
        make_settings(tmp_path, staff_accounts=f"alice:{fast_hash('alice-pw')}")
    )
    assert without_bob.verify(directory.login("alice", "alice-pw")) == Staff(name="alice")
    with pytest.raises(AuthError, match="停用"):
        without_bob.verify(token)


def test_accounts_string_tolerates_spaces_and_empty_pairs(tmp_path):
    config = make_settings(tmp_path, staff_accounts=f" alice:{fast_hash('pw')} ;;")
    directory = StaffDirectory(config)
    assert directory.verify(directory.login("alice", "pw")) == Staff(name="alice")


def test_accounts_file_is_read(tmp_path, accounts):
    path = tmp_path / "accounts.yml"
    path.write_text(
        yaml.safe_dump({"accounts": {"carol": fast_hash("carol-pw")}}, allow_unicode=True),
        encoding="utf-8",
    )
    directory = StaffDirectory(
        make_settings(tmp_path, staff_accounts=accounts, staff_accounts_file=path)
    )
    assert directory.verify(directory.login("carol", "carol-pw")) == Staff(name="carol")
    assert directory.verify(directory.login("alice", "alice-pw")) == Staff(name="alice")
    only_file = StaffDirectory(make_settings(tmp_path, staff_accounts_file=path))
    with pytest.raises(AuthError):
        only_file.login("alice", "alice-pw")
    assert not (tmp_path / "var" / "staff_password").exists()  # no dev account needed


def test_accounts_file_overrides_the_string_for_the_same_name(tmp_path):
    path = tmp_path / "accounts.yml"
    path.write_text(yaml.safe_dump({"accounts": {"alice": fast_hash("new")}}), encoding="utf-8")
    directory = StaffDirectory(
        make_settings(tmp_path, staff_accounts=f"alice:{fast_hash('old')}",
                      staff_accounts_file=path)
    )
    assert directory.login("alice", "new")
    with pytest.raises(AuthError):
        directory.login("alice", "old")


# ============================================================ development / production


def test_development_without_accounts_creates_the_staff_account(tmp_path):
    config = make_settings(tmp_path)
    directory = StaffDirectory(config)
    password_file = config.var_dir / "staff_password"
    assert mode(password_file) == 0o600
    user, password = password_file.read_text(encoding="utf-8").split()
    assert user == staff_auth.DEV_USER == "staff"
    assert len(password) >= 12
    stored = yaml.safe_load(config.staff_accounts_file.read_text(encoding="utf-8"))
    assert list(stored["accounts"]) == ["staff"]
    assert password not in config.staff_accounts_file.read_text(encoding="utf-8")
    assert verify_password(password, stored["accounts"]["staff"])
    assert directory.verify(directory.login("staff", password)) == DEV_MANAGER
    # The next start reads the file instead of creating another password.
    again = StaffDirectory(config)
    assert password_file.read_text(encoding="utf-8").split() == [user, password]
    assert again.verify(again.login("staff", password)) == DEV_MANAGER


def test_development_passwords_are_random(tmp_path):
    passwords = []
    for name in ("one", "two"):
        directory = StaffDirectory(make_settings(tmp_path / name))
        _, password = (tmp_path / name / "var" / "staff_password").read_text("utf-8").split()
        assert directory.verify(directory.login("staff", password)) == DEV_MANAGER
        passwords.append(password)
    assert passwords[0] != passwords[1]


def test_production_without_accounts_refuses_to_start(tmp_path):
    with pytest.raises(RuntimeError, match="STAFF_ACCOUNTS"):
        StaffDirectory(make_settings(tmp_path, app_env="production"))
    assert not (tmp_path / "var").exists()  # nothing generated


def test_production_without_a_secret_refuses_to_start(tmp_path, accounts):
    config = make_settings(tmp_path, app_env="production", staff_accounts=accounts,
                           staff_token_secret="")
    with pytest.raises(RuntimeError, match="STAFF_TOKEN_SECRET"):
        StaffDirectory(config)
    assert not (tmp_path / "var" / "staff_token_secret").exists()


def test_production_with_accounts_and_secret_works(tmp_path):
    strong = f"alice:{hash_password('Shop-counter-2026', iterations=1000)}"
    directory = StaffDirectory(make_settings(tmp_path, app_env="production",
                                             staff_accounts=strong))
    assert directory.production
    assert directory.verify(directory.login("alice", "Shop-counter-2026")) == Staff(name="alice")


def test_production_refuses_a_right_password_below_the_policy(tmp_path, accounts):
    directory = StaffDirectory(make_settings(tmp_path, app_env="production",
                                             staff_accounts=accounts))
    with pytest.raises(AuthError, match="安全要求"):
        directory.login("alice", "alice-pw")  # right, but 8 characters


@pytest.mark.parametrize("password,problem", [
    ("short1a", "12"), ("onlyletterslong", "字母和数字"), ("alice-2026-shop", "用户名"),
    ("aaaa1111aaaa", "简单")])
def test_the_password_policy_says_why(password, problem):
    assert problem in staff_auth.password_problem(password, "alice")
    assert staff_auth.password_problem("Counter-shift-42", "alice") is None


def test_a_token_never_outlives_the_longest_shift(tmp_path, accounts):
    long = StaffDirectory(make_settings(tmp_path, staff_accounts=accounts,
                                        staff_token_hours=240))
    token = long.login("alice", "alice-pw", now=T0)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["exp"] - claims["iat"] == staff_auth.MAX_TOKEN_HOURS * 3600
    forged_long = jwt.encode({**claims, "exp": claims["iat"] + 48 * 3600}, SECRET,
                             algorithm="HS256")
    with pytest.raises(AuthError):
        long.verify(forged_long, now=T0 + 60)


def test_a_token_without_an_id_is_refused(directory):
    old = jwt.encode({"sub": "alice", "scope": "console", "iat": int(time.time()),
                      "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256")
    with pytest.raises(AuthError):
        directory.verify(old)


def test_a_second_factor_is_required_where_configured(tmp_path, accounts):
    secret = pyotp.random_base32()
    directory = StaffDirectory(make_settings(tmp_path, staff_accounts=accounts,
                                             staff_totp=f"alice:{secret}"))
    with pytest.raises(AuthError, match="动态验证码"):
        directory.login("alice", "alice-pw")
    with pytest.raises(AuthError, match="动态验证码"):
        directory.login("alice", "alice-pw", code="000000" if pyotp.TOTP(secret).now()
                        != "000000" else "111111")
    code = pyotp.TOTP(secret).at(T0)
    assert directory.verify(directory.login("alice", "alice-pw", now=T0, code=code),
                            now=T0 + 1) == Staff(name="alice")
    # A wrong password with the right code still fails with the usual words; bob has
    # no second factor and needs no code.
    with pytest.raises(AuthError, match="用户名或密码错误"):
        directory.login("alice", "wrong", now=T0, code=code)
    assert directory.verify(directory.login("bob", "bob-pw")) == Staff(name="bob")


def test_development_without_a_secret_generates_one_once(tmp_path, accounts):
    config = make_settings(tmp_path, staff_accounts=accounts, staff_token_secret="")
    first = StaffDirectory(config)
    secret_file = config.var_dir / "staff_token_secret"
    secret = secret_file.read_text(encoding="utf-8")
    assert len(secret) >= 32 and mode(secret_file) == 0o600
    second = StaffDirectory(config)
    assert secret_file.read_text(encoding="utf-8") == secret
    assert second.verify(first.login("alice", "alice-pw")) == Staff(name="alice")
    assert first.verify(second.login("bob", "bob-pw")) == Staff(name="bob")
    # The token really is signed with the generated secret.
    token = first.login("alice", "alice-pw")
    assert jwt.decode(token, secret, algorithms=["HS256"])["sub"] == "alice"


def test_configured_secret_wins_over_a_generated_file(tmp_path, accounts):
    generated = StaffDirectory(make_settings(tmp_path, staff_accounts=accounts,
                                             staff_token_secret=""))
    configured = StaffDirectory(make_settings(tmp_path, staff_accounts=accounts))
    with pytest.raises(AuthError):
        configured.verify(generated.login("alice", "alice-pw"))


# =========================================================================== main


@pytest.fixture
def dev_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Points the module's settings (and StaffDirectory's default) at tmp_path."""
    config = make_settings(tmp_path, staff_token_secret="")
    monkeypatch.setattr(staff_auth, "settings", config)
    monkeypatch.setattr(StaffDirectory.__init__, "__defaults__", (config,))
    return config


def test_main_ensure_prints_the_development_login(dev_settings, capsys):
    staff_auth.main(["ensure"])
    line = capsys.readouterr().out.strip()
    prefix = "staff console login (development account): staff / "
    assert line.startswith(prefix)
    password = line[len(prefix):]
    directory = StaffDirectory(dev_settings)
    assert directory.verify(directory.login("staff", password)) == DEV_MANAGER
    # Running it again keeps the same account and password.
    staff_auth.main(["ensure"])
    assert capsys.readouterr().out.strip() == line


def test_main_ensure_with_configured_accounts_prints_no_password(dev_settings, capsys, accounts,
                                                                monkeypatch):
    config = replace(dev_settings, staff_accounts=accounts)
    monkeypatch.setattr(staff_auth, "settings", config)
    monkeypatch.setattr(StaffDirectory.__init__, "__defaults__", (config,))
    staff_auth.main(["ensure"])
    assert capsys.readouterr().out.strip() == (
        "staff console login: the accounts configured in STAFF_ACCOUNTS(_FILE)"
    )
    assert not (config.var_dir / "staff_password").exists()


def test_main_hash_prints_an_account_line(monkeypatch, capsys):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "typed-pw-2026-x")
    staff_auth.main(["hash", "dave"])
    name, _, stored = capsys.readouterr().out.strip().partition(":")
    assert name == "dave"
    assert verify_password("typed-pw-2026-x", stored)
    assert not verify_password("other", stored)


def test_main_hash_refuses_a_weak_password(monkeypatch, capsys):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "123456")
    with pytest.raises(SystemExit, match="12"):
        staff_auth.main(["hash", "dave"])
    assert "pbkdf2" not in capsys.readouterr().out


def test_main_totp_prints_a_secret_and_an_authenticator_link(capsys):
    staff_auth.main(["totp", "dave"])
    out = capsys.readouterr().out
    secret = out.split("dave:")[1].split()[0]
    assert len(secret) >= 16 and "otpauth://totp/" in out and secret in out
