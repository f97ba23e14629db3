"""Speed-ups still under trial, applied only in benchmark variants.

BENCH_SPEEDUPS=nojax (via bench/sitecustomize/). The ones that proved themselves
(the cached action-response validator, SQLite WAL) moved to bot/speedups.py and
are always on.
"""

from __future__ import annotations

import logging
import sys
from typing import Iterable

logger = logging.getLogger(__name__)


def skip_jax() -> None:
    """TensorFlow 2.12 imports jax (optional, for TFLite) at start: ~90 MB, ~0.5 s.

    Rasa never uses it; TensorFlow catches the ImportError. Must run before
    TensorFlow is imported.
    """
    if "jax" not in sys.modules:
        sys.modules["jax"] = None  # type: ignore[assignment]


SPEEDUPS = {"nojax": skip_jax}


def install(names: Iterable[str]) -> None:
    for name in names:
        if name in SPEEDUPS:
            SPEEDUPS[name]()
        elif name:
            logger.warning("Unknown speed-up %r", name)
