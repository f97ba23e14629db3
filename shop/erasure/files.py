"""Exports and reports on disk: identifiers replaced in place."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from shop.erasure.identifiers import Scrubber

logger = logging.getLogger(__name__)

# Reports, CSV exports and review exports; never databases or images, and never logs
# (a server appends to its open log: a replaced file would lose its later lines;
# logs mask phone numbers as they are written, shop/privacy.py).
TEXT_SUFFIXES = (".csv", ".md", ".txt", ".json", ".jsonl", ".yml", ".yaml", ".html")
# Larger files are not exports (and would be read whole).
MAX_FILE_BYTES = 64 * 1024 * 1024


def text_files(roots: Iterable[Path], suffixes: Iterable[str] = TEXT_SUFFIXES) -> Iterator[Path]:
    wanted = {s.lower() for s in suffixes}
    for root in roots:
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            if path.suffix.lower() in wanted and path.is_file() and not path.is_symlink():
                yield path


def scrub_files(roots: Iterable[Path], scrubber: Scrubber) -> int:
    """Rewrites each text file that mentions an identifier (atomically: a reader sees
    the old or the new file, never half of one): how many files changed."""
    changed = 0
    for path in text_files(roots):
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                logger.warning("Not scanned for personal data (too large): %s", path)
                continue
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if not scrubber.matches(content):
            continue
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".erase-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(scrubber.text(content))
            os.chmod(temporary, path.stat().st_mode & 0o777)
            os.replace(temporary, path)
        except OSError:
            Path(temporary).unlink(missing_ok=True)
            raise
        changed += 1
    return changed
