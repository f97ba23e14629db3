"""The project's chart font: installed with the project, registered by path, and the
glyph check of tests/glyphs.py that fails when a chart draws boxes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from glyphs import missing_glyphs  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402

from shop import fonts  # noqa: E402


def _resolved() -> str:
    return font_manager.findfont(font_manager.FontProperties(family=plt.rcParams["font.family"]),
                                 fallback_to_default=False)


def test_the_font_comes_from_the_project_install_not_the_system():
    path = fonts.font_file()
    assert path.is_relative_to(fonts.settings.var_dir)
    assert FT2Font(str(path)).family_name == fonts.FAMILY
    fonts.use_chinese_font(plt)
    assert _resolved() == str(path)


def test_a_system_font_of_the_same_name_cannot_take_its_place(monkeypatch):
    """Where the system also has Noto CJK, charts still use the project's file."""
    manager = font_manager.fontManager
    dejavu = font_manager.findfont("DejaVu Sans")
    impostor = font_manager.FontEntry(fname=dejavu, name=fonts.FAMILY, style="normal",
                                      variant="normal", weight=400, stretch="normal",
                                      size="scalable")
    monkeypatch.setattr(manager, "ttflist", [impostor, *manager.ttflist])
    font_manager.FontManager._findfont_cached.cache_clear()
    plt.rcParams["font.sans-serif"] = [fonts.FAMILY]
    assert _resolved() == dejavu  # what a name lookup alone would draw with
    fonts.use_chinese_font(plt)
    assert _resolved() == str(fonts.font_file())


def test_extraction_is_atomic_and_repeatable(tmp_path):
    target = tmp_path / "fonts" / "sc.otf"
    fonts._extract(target)
    assert FT2Font(str(target)).family_name == fonts.FAMILY
    assert [p.name for p in target.parent.iterdir()] == ["sc.otf"]


def test_the_glyph_check_fails_on_a_font_without_chinese():
    """The check itself can fail: DejaVu Sans has no Chinese glyphs."""
    with plt.rc_context({"font.family": ["DejaVu Sans"]}):
        figure, axis = plt.subplots()
        axis.set_title("工单数")
        try:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                missing = missing_glyphs(figure)
        finally:
            plt.close(figure)
    assert {char for _, char, _ in missing} == {"工", "单", "数"}


def test_the_glyph_check_passes_with_the_project_font():
    fonts.use_chinese_font(plt)
    figure, axis = plt.subplots()
    axis.set_title("工单数 −5 ％（无数据）")
    try:
        assert missing_glyphs(figure) == []
    finally:
        plt.close(figure)
