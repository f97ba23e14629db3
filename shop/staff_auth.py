"""Staff accounts and console tokens.

Passwords are stored only as PBKDF2-SHA256 hashes (`pbkdf2_sha256$iterations$salt$hash`);
tokens are HS256 JWTs (PyJWT) that expire (at most MAX_TOKEN_HOURS after login) and
carry an id (`jti`) so a logout can revoke them (shop/staff_login.py). An account
may require a TOTP code (pyotp) as a second factor; in production a password that
does not meet the policy is refused at login even when it is right. In production
(`APP_ENV=production`) both the accounts and the signing secret must be configured; in
development a `staff` account with a random password and a secret are generated under
`var/` and printed by `make run`, so there is never a default password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, Optional, Set

import jwt
import pyotp
import yaml

from shop.config import Settings, settings

logger = logging.getLogger(__name__)

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 200_000
DEV_USER = "staff"
CONSOLE_SCOPE = "console"
CHART_SCOPE = "practice_chart"
AGENT, MANAGER = "agent", "manager"
# However STAFF_TOKEN_HOURS is set, a console login ends within a working shift.
MAX_TOKEN_HOURS = 12.0
MIN_PASSWORD_CHARS = 12
# Checked for accounts without a second factor too, so both cost the same.
UNKNOWN_TOTP = pyotp.random_base32()


class AuthError(Exception):
    """Wrong credentials, or a missing, invalid or expired token."""


@dataclass(frozen=True)
class Staff:
    """An authenticated staff member. Agents work tickets, practice and the review
    queue; managers also read reports and exports and the audit log."""

    name: str
    role: str = AGENT
    # The token's id and expiry (for logout); not part of who the staff member is.
    token_id: str = field(default="", compare=False)
    expires: int = field(default=0, compare=False)

    @property
    def is_manager(self) -> bool:
        return self.role == MANAGER


def hash_password(password: str, salt: Optional[str] = None, iterations: int = ITERATIONS) -> str:
    """A salted PBKDF2-SHA256 hash in `algorithm$iterations$salt$hash` form."""
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"{ALGORITHM}${iterations}${salt}${base64.b64encode(digest).decode()}"


def password_problem(password: str, username: str = "") -> Optional[str]:
    """Why a password is too weak (Chinese, for the operator), or None."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"密码至少需要 {MIN_PASSWORD_CHARS} 位"
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        return "密码需同时包含字母和数字"
    if username and username.lower() in password.lower():
        return "密码不能包含用户名"
    if len(set(password)) < 6:
        return "密码过于简单"
    return None


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of `password` against a stored hash."""
    try:
        algorithm, iterations, salt, _ = stored.split("$", 3)
        rounds = int(iterations)
    except ValueError:
        return False
    if algorithm != ALGORITHM or rounds < 1 or not salt:
        return False
    # Bytes: compare_digest refuses str with non-ASCII characters (a bad stored salt).
    return hmac.compare_digest(hash_password(password, salt, rounds).encode(), stored.encode())


class StaffDirectory:
    """Staff accounts and token signing, from configuration."""

    def __init__(self, config: Settings = settings) -> None:
        self._config = config
        self._managers: Set[str] = set(config.staff_managers)
        self._totp: Dict[str, str] = {}  # account → TOTP secret (file, then environment)
        self._accounts = self._load_accounts()
        for pair in filter(None, (p.strip() for p in config.staff_totp.split(";"))):
            name, _, secret = pair.partition(":")
            self._totp[name] = secret
        self._secret = token_secret(config)

    @property
    def token_hours(self) -> float:
        """How long a console login stays valid (never past MAX_TOKEN_HOURS)."""
        return min(self._config.staff_token_hours, MAX_TOKEN_HOURS)

    @property
    def production(self) -> bool:
        return self._config.app_env == "production"

    def _load_accounts(self) -> Dict[str, str]:
        accounts: Dict[str, str] = {}
        for pair in filter(None, self._config.staff_accounts.split(";")):
            name, _, stored = pair.strip().partition(":")
            accounts[name] = stored
        path = self._config.staff_accounts_file
        if path.exists():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            accounts.update({str(k): str(v) for k, v in (data.get("accounts") or {}).items()})
            self._managers.update(str(name) for name in data.get("managers") or [])
            self._totp.update({str(k): str(v) for k, v in (data.get("totp") or {}).items()})
        if not accounts:
            if self.production:
                raise RuntimeError("APP_ENV=production needs STAFF_ACCOUNTS or STAFF_ACCOUNTS_FILE")
            accounts = self._create_dev_account()
        if not self._managers and not self.production and DEV_USER in accounts:
            # A development file written before roles existed: its operator manages.
            self._managers.add(DEV_USER)
        return accounts

    def role(self, name: str) -> str:
        """The role of an account (looked up at every request: a change applies at once)."""
        return MANAGER if name in self._managers else AGENT

    def _create_dev_account(self) -> Dict[str, str]:
        password = secrets.token_urlsafe(9)
        stored = hash_password(password)
        var = self._config.var_dir
        var.mkdir(parents=True, exist_ok=True)
        self._config.staff_accounts_file.write_text(
            yaml.safe_dump({"accounts": {DEV_USER: stored}, "managers": [DEV_USER]}),
            encoding="utf-8",
        )
        password_file = var / "staff_password"
        password_file.write_text(f"{DEV_USER} {password}\n", encoding="utf-8")
        password_file.chmod(0o600)
        logger.warning("No staff accounts configured: created '%s' (password in %s).",
                       DEV_USER, password_file)
        return {DEV_USER: stored}

    def login(self, username: str, password: str, now: Optional[float] = None,
              code: Optional[str] = None) -> str:
        """A signed token for valid credentials (and TOTP code); AuthError otherwise.
        Unknown names cost the same work as known ones (hash and code check)."""
        stored = self._accounts.get(username)
        valid = verify_password(password, stored or hash_password("x", "unknown-user"))
        secret = self._totp.get(username)
        code_ok = pyotp.TOTP(secret or UNKNOWN_TOTP).verify(
            str(code or ""), for_time=now, valid_window=1)
        if not (stored and valid):
            logger.info("Failed staff login for %r", username[:64])
            raise AuthError("用户名或密码错误")
        if secret and not code_ok:
            logger.info("Staff login for %r without a valid second-factor code", username[:64])
            raise AuthError("动态验证码错误或缺失")
        if self.production and password_problem(password, username):
            logger.warning("Staff login for %r refused: password below the policy",
                           username[:64])
            raise AuthError("密码不符合安全要求，请联系管理员重设密码")
        issued = int(now if now is not None else time.time())
        expires = issued + int(self.token_hours * 3600)
        return jwt.encode({"sub": username, "scope": CONSOLE_SCOPE, "iat": issued,
                           "exp": expires, "jti": secrets.token_hex(16)},
                          self._secret, algorithm="HS256")

    def verify(self, token: Optional[str], now: Optional[float] = None) -> Staff:
        """The staff member a token belongs to; AuthError when missing/invalid/expired."""
        if not token:
            raise AuthError("未登录")
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=["HS256"],
                options={"require": ["exp", "iat", "sub", "jti"], "verify_exp": now is None},
            )
        except jwt.PyJWTError as error:
            raise AuthError("登录已失效，请重新登录") from error
        if now is not None and claims["exp"] <= now:
            raise AuthError("登录已失效，请重新登录")
        if claims["exp"] - claims["iat"] > MAX_TOKEN_HOURS * 3600:
            raise AuthError("登录已失效，请重新登录")
        # A trainee's chart link is signed with the same secret: never a login.
        if claims.get("scope") != CONSOLE_SCOPE:
            raise AuthError("登录已失效，请重新登录")
        if claims["sub"] not in self._accounts:
            raise AuthError("账号已停用")
        return Staff(name=claims["sub"], role=self.role(claims["sub"]),
                     token_id=str(claims["jti"]), expires=int(claims["exp"]))


@lru_cache(maxsize=1)
def staff_directory() -> StaffDirectory:
    """The staff accounts of this process (read once)."""
    return StaffDirectory()


def token_secret(config: Settings = settings) -> str:
    """The secret that signs console tokens and chart links (generated under var/ in dev)."""
    if config.staff_token_secret:
        return config.staff_token_secret
    if config.app_env == "production":
        raise RuntimeError("APP_ENV=production needs STAFF_TOKEN_SECRET")
    path = config.var_dir / "staff_token_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def chart_token(trainee: str, hours: float = 24, now: Optional[float] = None,
                config: Settings = settings) -> str:
    """A link token that shows one trainee's progress chart, and nothing else."""
    issued = int(now if now is not None else time.time())
    claims = {"sub": trainee, "scope": CHART_SCOPE, "iat": issued,
              "exp": issued + int(hours * 3600)}
    return jwt.encode(claims, token_secret(config), algorithm="HS256")


def chart_trainee(token: Optional[str], config: Settings = settings) -> str:
    """The trainee a chart link token was issued for; AuthError when invalid or expired."""
    try:
        claims = jwt.decode(token or "", token_secret(config), algorithms=["HS256"],
                            options={"require": ["exp", "sub", "scope"]})
    except jwt.PyJWTError as error:
        raise AuthError("链接已失效") from error
    if claims["scope"] != CHART_SCOPE:
        raise AuthError("链接已失效")
    return str(claims["sub"])


def main(argv: Optional[list] = None) -> None:
    """`ensure`: create the dev account if none is configured and say how to log in;
    `hash NAME`: print an account line for STAFF_ACCOUNTS (asks for the password,
    refuses one below the policy); `totp NAME`: a new second-factor secret for
    STAFF_TOTP and the otpauth:// link to put into an authenticator app."""
    import getpass
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["hash"]:
        name = args[1] if len(args) > 1 else input("用户名: ")
        password = getpass.getpass("密码: ")
        problem = password_problem(password, name)
        if problem:
            raise SystemExit(problem)
        print(f"{name}:{hash_password(password)}")
        return
    if args[:1] == ["totp"]:
        name = args[1] if len(args) > 1 else input("用户名: ")
        secret = pyotp.random_base32()
        print(f"STAFF_TOTP entry: {name}:{secret}")
        print(pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name="小智客服"))
        return
    StaffDirectory()
    password_file = settings.var_dir / "staff_password"
    if password_file.exists() and not settings.staff_accounts:
        user, password = password_file.read_text(encoding="utf-8").split()
        print(f"staff console login (development account): {user} / {password}")
    else:
        print("staff console login: the accounts configured in STAFF_ACCOUNTS(_FILE)")


if __name__ == "__main__":
    main()
