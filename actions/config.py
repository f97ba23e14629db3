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


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'shop.db'}"


def load_settings() -> Settings:
    """Reads the environment (and nothing else) into a `Settings` object."""
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or _default_database_url(),
        knowledge_dir=Path(os.environ.get("KNOWLEDGE_DIR") or PROJECT_ROOT / "knowledge"),
    )


settings = load_settings()
