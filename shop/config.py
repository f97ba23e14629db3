"""Configuration, read once from the environment with safe embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Process-wide settings. Secrets come only from the environment."""

    database_url: str
    knowledge_dir: Path
    # "production" forbids generated staff passwords and token secrets.
    app_env: str
    # Staff accounts: `name:pbkdf2_sha256$…` pairs separated by `;`, or a YAML file.
    staff_accounts: str
    staff_accounts_file: Path
    # Secret that signs staff console tokens (HS256); generated under var/ in dev.
    staff_token_secret: str
    staff_token_hours: float
    var_dir: Path
    # Staff with the manager role (reports, exports, audit log); everyone else is an agent.
    staff_managers: tuple = ()
    # TOTP second factor: `name:BASE32SECRET` pairs separated by `;` (accounts listed
    # need a code from their authenticator app at login).
    staff_totp: str = ""
    # Failed logins before an account (or a client address) is locked, with the
    # lockout doubling after each further failure (shop/staff_login.py).
    staff_login_account_limit: int = 5
    staff_login_address_limit: int = 20
    # Requests per minute (0 = no limit; bot/channels/limits.py): customer messages per
    # client address and per conversation, rating/login form posts per address.
    rate_limit_address: int = 120
    rate_limit_conversation: int = 30
    rate_limit_form: int = 10
    # Where the windows live: "memory" (each process) or "redis" (shared by replicas).
    rate_limit_store: str = "memory"
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 1
    redis_key_prefix: str = "shop"
    # REST webhook token (server-to-server integrations): callers send
    # `Authorization: Bearer <REST_TOKEN>`; required in production.
    rest_token: str = ""
    # Deadline alerts are POSTed here as JSON (shop/insights/alerts.py); "" = log only.
    alert_webhook_url: str = ""
    # Rasa's SQL tracker store, read by the reports, rewritten by erasure and retention.
    tracker_store_url: str = ""
    # Conversations idle for longer are anonymised (shop/erasure/retention.py); 0 = never.
    retention_days: int = 180
    # Seconds between review-queue scans (0: knowledge/reports.yml's review.scan_seconds);
    # the soak test scans often to catch growth in minutes.
    review_scan_seconds: float = 0.0
    # Folders where reports and exports are written: erasure rewrites text files there.
    export_dirs: tuple = ()
    # Peers whose X-Forwarded-For is believed (our own nginx); anyone else's header is
    # ignored and the socket's address is the client's.
    trusted_proxies: tuple = ("127.0.0.1", "::1")


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'shop.db'}"


def load_settings() -> Settings:
    """Reads the environment (and nothing else) into a `Settings` object."""
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or _default_database_url(),
        knowledge_dir=Path(os.environ.get("KNOWLEDGE_DIR") or PROJECT_ROOT / "knowledge"),
        app_env=os.environ.get("APP_ENV") or "development",
        staff_accounts=os.environ.get("STAFF_ACCOUNTS") or "",
        staff_accounts_file=Path(
            os.environ.get("STAFF_ACCOUNTS_FILE") or PROJECT_ROOT / "var" / "staff_accounts.yml"
        ),
        staff_token_secret=os.environ.get("STAFF_TOKEN_SECRET") or "",
        staff_token_hours=float(os.environ.get("STAFF_TOKEN_HOURS") or 8),
        var_dir=PROJECT_ROOT / "var",
        staff_totp=os.environ.get("STAFF_TOTP") or "",
        staff_login_account_limit=int(os.environ.get("STAFF_LOGIN_ACCOUNT_LIMIT") or 5),
        staff_login_address_limit=int(os.environ.get("STAFF_LOGIN_ADDRESS_LIMIT") or 20),
        rate_limit_address=int(os.environ.get("RATE_LIMIT_ADDRESS_PER_MINUTE") or 120),
        rate_limit_conversation=int(
            os.environ.get("RATE_LIMIT_CONVERSATION_PER_MINUTE") or 30),
        rate_limit_form=int(os.environ.get("RATE_LIMIT_FORM_PER_MINUTE") or 10),
        # The production profile has Redis for its locks: the windows go there too.
        rate_limit_store=(os.environ.get("RATE_LIMIT_STORE") or (
            "redis" if "production" in (os.environ.get("RASA_ENDPOINTS") or "") else "memory"
        )).lower(),
        redis_host=os.environ.get("REDIS_HOST") or "127.0.0.1",
        redis_port=int(os.environ.get("REDIS_PORT") or 6379),
        redis_db=int(os.environ.get("REDIS_DB") or 1),
        redis_key_prefix=os.environ.get("REDIS_KEY_PREFIX") or "shop",
        rest_token=os.environ.get("REST_TOKEN") or "",
        staff_managers=tuple(
            n.strip() for n in (os.environ.get("STAFF_MANAGERS") or "").split(",") if n.strip()
        ),
        alert_webhook_url=os.environ.get("ALERT_WEBHOOK_URL") or "",
        tracker_store_url=os.environ.get("TRACKER_STORE_URL")
        or f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}",
        retention_days=int(os.environ.get("RETENTION_DAYS") or 180),
        review_scan_seconds=float(os.environ.get("REVIEW_SCAN_SECONDS") or 0),
        export_dirs=tuple(
            PROJECT_ROOT / p.strip() for p in (os.environ.get("EXPORT_DIRS") or "").split(",")
            if p.strip()) or (PROJECT_ROOT / "results", PROJECT_ROOT / "var"),
        trusted_proxies=tuple(
            p.strip() for p in (os.environ.get("TRUSTED_PROXIES") or "127.0.0.1,::1").split(",")
            if p.strip()
        ),
    )


settings = load_settings()
