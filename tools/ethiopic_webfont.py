"""Build the Ethiopic web fonts the Tigrinya pages load (run again when the ti catalog changes):
static/fonts/noto-sans-ethiopic-{ui,rest}-{regular,bold}.woff, subset from the Noto Sans Ethiopic the package ships
for its PDFs (core/fonts, SIL OFL 1.1). "ui" holds the Ethiopic characters of the ti catalog (what every page
shows); "rest" the remaining Ethiopic blocks, which a browser fetches only when a page holds such a character
(a partner's offer or a name in Tigrinya), by the @font-face unicode-range in static/css/ethiopic.css.

Usage: python tools/ethiopic_webfont.py
"""

import shutil
from pathlib import Path

from babel.messages.pofile import read_po
from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "opplevelseskort"
BLOCKS = [*range(0x1200, 0x13A0), *range(0x2D80, 0x2DE0), *range(0xAB00, 0xAB30)]


def _is_ethiopic(c: str) -> bool:
    return ord(c) in set(BLOCKS)


def ui_characters() -> list[int]:
    catalog = read_po((PACKAGE / "translations/ti/LC_MESSAGES/messages.po").open("rb"))
    chars = set("ትግርኛ")  # the language's own name in every language menu
    for message in catalog:
        for text in message.string if isinstance(message.string, tuple | list) else [message.string]:
            chars |= {c for c in text or "" if _is_ethiopic(c)}
    return sorted(ord(c) for c in chars)


def _ranges(points: list[int]) -> str:
    out, start, prev = [], None, None
    for p in points:
        if start is None:
            start = prev = p
        elif p == prev + 1:
            prev = p
        else:
            out.append((start, prev))
            start = prev = p
    if start is not None:
        out.append((start, prev))
    return ", ".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in out)


def build() -> dict[str, str]:
    ui = ui_characters()
    rest = [p for p in BLOCKS if p not in set(ui)]
    target = PACKAGE / "static/fonts"
    target.mkdir(exist_ok=True)
    for weight in ("Regular", "Bold"):
        for name, points in (("ui", ui), ("rest", rest)):
            font = TTFont(PACKAGE / f"core/fonts/NotoSansEthiopic-{weight}.ttf")
            options = subset.Options()
            options.flavor, options.layout_features, options.name_IDs = "woff", ["*"], ["*"]
            subsetter = subset.Subsetter(options)
            subsetter.populate(unicodes=points)
            subsetter.subset(font)
            font.flavor = "woff"
            font.save(target / f"noto-sans-ethiopic-{name}-{weight.lower()}.woff")
    shutil.copy(PACKAGE / "core/fonts/OFL.txt", target / "OFL.txt")
    return {"ui": _ranges(ui), "rest": _ranges(rest)}


if __name__ == "__main__":
    ranges = build()
    faces = []
    for name in ("ui", "rest"):
        for weight, css_weight in (("regular", 400), ("bold", 700)):
            faces.append(f"@font-face {{ font-family: \"Noto Sans Ethiopic Web\"; font-weight: {css_weight}; "
                         f"font-display: swap;\n  src: url(\"../fonts/noto-sans-ethiopic-{name}-{weight}.woff\") "
                         f"format(\"woff\");\n  unicode-range: {ranges[name]}; }}")
    css = ("/* Tigrinya pages only (linked from base.html for lang=ti): Noto Sans Ethiopic, SIL OFL 1.1 (fonts/OFL.txt),\n"
           "   subset by tools/ethiopic_webfont.py. A device without an Ethiopic font shows the text, not boxes. */\n"
           + "\n".join(faces) + "\n"
           "body { font-family: \"Noto Sans Ethiopic Web\", system-ui, -apple-system, \"Segoe UI\", Roboto, \"Noto Sans\",\n"
           "  \"DejaVu Sans\", sans-serif; }\n")
    (PACKAGE / "static/css/ethiopic.css").write_text(css, encoding="utf-8")
    print("built", ", ".join(p.name for p in sorted((PACKAGE / "static/fonts").iterdir())))
