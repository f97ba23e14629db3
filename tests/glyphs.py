"""A check that every piece of text drawn in a chart has its glyphs in the font that
drew it: without a Chinese font matplotlib draws empty boxes and only warns.

`watch_charts` wraps `Figure.savefig` for a test: before each save it draws the figure,
walks every visible text artist (titles, labels, tick labels, legends, annotations),
looks up the font file matplotlib picked for it and checks each character against that
font's character map. Missing glyphs fail the test; so does matplotlib's own warning.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterator, List, Set, Tuple

import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text


@lru_cache(maxsize=None)
def _charmap(path: str) -> Set[int]:
    return set(FT2Font(path).get_charmap())


def missing_glyphs(figure: Figure) -> List[Tuple[str, str, str]]:
    """(text, character, font file) for every character no font drew."""
    figure.canvas.draw()
    missing = []
    for artist in figure.findobj(Text):
        text = artist.get_text()
        if not text or not artist.get_visible():
            continue
        path = font_manager.findfont(artist.get_fontproperties(), fallback_to_default=False)
        codes = _charmap(path)
        missing.extend((text, char, path) for char in text
                       if not char.isspace() and ord(char) not in codes)
    return missing


def chinese_texts(figure: Figure) -> List[str]:
    return [t.get_text() for t in figure.findobj(Text)
            if any("\u4e00" <= ch <= "\u9fff" for ch in t.get_text())]


@dataclass
class ChartWatch:
    """What the charts saved during a test drew."""

    figures: int = 0
    texts: List[str] = field(default_factory=list)
    chinese: List[str] = field(default_factory=list)
    missing: List[Tuple[str, str, str]] = field(default_factory=list)


@pytest.fixture
def watch_charts(monkeypatch: pytest.MonkeyPatch) -> Iterator[ChartWatch]:
    watch = ChartWatch()
    original = Figure.savefig

    def checked_savefig(self: Figure, *args: Any, **kwargs: Any) -> Any:
        watch.figures += 1
        watch.texts.extend(t.get_text() for t in self.findobj(Text) if t.get_text())
        watch.chinese.extend(chinese_texts(self))
        watch.missing.extend(missing_glyphs(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", checked_savefig)
    with warnings.catch_warnings():
        # matplotlib's "Glyph … missing from current font." becomes an error.
        warnings.filterwarnings("error", message=r"Glyph \d+ .*missing from")
        yield watch
    assert not watch.missing, f"glyphs missing from the font that drew them: {watch.missing[:5]}"
