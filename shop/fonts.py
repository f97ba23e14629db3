"""The one Chinese font every chart is drawn with, installed with the project.

The font comes from the registry package `noto-cjk-sans-otc` (Noto Sans CJK, SIL OFL
1.1), pinned in requirements.txt: no system package, no root, no fontconfig luck.
That package ships an OpenType collection whose first face is the Japanese one, and
matplotlib 3.5 (pinned by Rasa 3.6) reads only the first face of a collection; so the
Simplified Chinese face is written out once, with fontTools, as a plain OpenType file
under var/fonts/ (0.35 s, 16 MB) and registered with matplotlib by path.

Every chart (console endpoints, `make report`, `make practice-report`, the trainee's
chart link) calls `use_chinese_font`, so all of them draw with the same file whether or
not the system also has Noto CJK.
"""

from __future__ import annotations

import logging
import os
import tempfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from shop.config import settings

logger = logging.getLogger(__name__)

FONT_PACKAGE = "noto-cjk-sans-otc"
COLLECTION = "NotoSansCJK-Regular.ttc"
FAMILY = "Noto Sans CJK SC"


def _collection_path() -> Path:
    import noto_cjk_sans_otc

    return Path(noto_cjk_sans_otc.__file__).resolve().parent / COLLECTION


def _face_index(collection: Any) -> int:
    for index, face in enumerate(collection.fonts):
        if face["name"].getDebugName(1) == FAMILY:
            return index
    raise LookupError(f"{FAMILY} is not in {FONT_PACKAGE}")


def _extract(target: Path) -> None:
    """Writes the SC face next to `target` and renames it into place: a process that
    reads the file meanwhile sees either no file or a complete one."""
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(_collection_path()), lazy=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".otf.part")
    os.close(handle)
    try:
        collection.fonts[_face_index(collection)].save(temporary)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


@lru_cache(maxsize=1)
def font_file() -> Path:
    """The Simplified Chinese font file, written on first use for this package version."""
    version = metadata.version(FONT_PACKAGE)
    target = settings.var_dir / "fonts" / f"NotoSansCJKsc-Regular-{version}.otf"
    if not target.exists():
        logger.info("Writing the chart font %s from %s %s", target.name, FONT_PACKAGE, version)
        _extract(target)
    return target


def use_chinese_font(plt: Any) -> str:
    """Registers the project's font by path and makes it the only sans-serif family
    with that name, so a system copy (fonts-noto-cjk) cannot take its place; returns
    the family name."""
    from matplotlib import font_manager

    path = str(font_file())
    manager = font_manager.fontManager
    others = [e for e in manager.ttflist if e.name == FAMILY and e.fname != path]
    if others or not any(e.fname == path for e in manager.ttflist):
        manager.ttflist = [e for e in manager.ttflist if e.name != FAMILY]
        manager.addfont(path)
        # findfont remembers answers per font properties, not per font list.
        font_manager.FontManager._findfont_cached.cache_clear()
    plt.rcParams["font.family"] = ["sans-serif"]
    plt.rcParams["font.sans-serif"] = [FAMILY]
    return FAMILY
