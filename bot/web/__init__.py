"""The pages the Rasa server serves (chat, widget, console pages) from static/."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

STATIC_DIR = Path(__file__).resolve().parent / "static"


def static_file(name: str) -> Optional[Path]:
    """A file under the static folder, or None (never anything outside it)."""
    try:
        path = (STATIC_DIR / name).resolve()
        if STATIC_DIR not in path.parents or not path.is_file():
            return None
    except (OSError, ValueError):  # a name too long, a NUL byte: no such file
        return None
    return path
