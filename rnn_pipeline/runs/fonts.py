"""Fonts for plot labels in Japanese (entity types such as 人名, Japanese words): a CJK
font as matplotlib's fallback after its default, so mixed labels draw every glyph
instead of empty boxes."""

import contextlib
import importlib.util
from pathlib import Path

# Installed CJK families, tried first (system fonts a user may have).
_INSTALLED = ("Noto Sans CJK JP", "IPAexGothic", "IPAGothic", "TakaoGothic", "Hiragino Sans",
              "Yu Gothic", "MS Gothic")
_BUNDLED = "IPAexGothic"  # matplotlib-fontja's font file, registered when no system one


def _japanese_family():
    """The name of a font family with Japanese glyphs, or None when there is none."""
    from matplotlib import font_manager

    names = {font.name for font in font_manager.fontManager.ttflist}
    for family in _INSTALLED:
        if family in names:
            return family
    spec = importlib.util.find_spec("matplotlib_fontja")
    if spec is None or spec.origin is None:
        return None
    font = Path(spec.origin).parent / "fonts" / "ipaexg.ttf"
    if not font.is_file():
        return None
    font_manager.fontManager.addfont(str(font))
    return _BUNDLED


def needs_japanese(texts):
    """Whether any of ``texts`` has a character beyond Latin-1 (kana, kanji, ...)."""
    return any(ord(character) > 0xFF for text in texts for character in str(text))


@contextlib.contextmanager
def fonts_for(texts):
    """Within the block, matplotlib falls back to a Japanese font when ``texts`` need one
    (and one is installed, or matplotlib-fontja is); otherwise nothing changes.

    Args:
        texts: the labels the figure will draw.
    """
    import matplotlib

    family = _japanese_family() if needs_japanese(texts) else None
    if family is None:
        yield
        return
    first = matplotlib.rcParams["font.sans-serif"][0]  # DejaVu Sans unless a user set one
    with matplotlib.rc_context({"font.family": [first, family]}):  # per-glyph fallback
        yield
