"""PDF pages in every language the product speaks.

fpdf2 writes the PDF and HarfBuzz (uharfbuzz) shapes the text: Arabic joined and right to left, Tigrinya in
Ethiopic, Ukrainian in Cyrillic, with the Unicode bidi algorithm for a Latin name or a date inside an Arabic
sentence. The fonts ship inside the package (Noto Sans, Noto Sans Arabic, Noto Sans Ethiopic; OFL 1.1, subset by
tools/vendor_fonts.sh), so a plain `pip install .` renders every language on a fresh machine, and every PDF embeds
the glyphs it uses (a reader needs no font of its own).
"""

from __future__ import annotations

import functools
import io
import logging
from pathlib import Path

FONT_DIR = Path(__file__).with_name("fonts")
FONTS = (("Noto", "NotoSans"), ("NotoArabic", "NotoSansArabic"), ("NotoEthiopic", "NotoSansEthiopic"))
RTL_LANGUAGES = frozenset({"ar"})
BLUE = (11, 79, 138)  # the card's band, the same blue as the pages


def is_rtl(lang: str) -> bool:
    return lang.split("_")[0] in RTL_LANGUAGES


def Document(*, title: str, lang: str, format="A4"):  # noqa: N802 (used like the class it makes)
    """A new PDF document (see `_document_class`); fpdf2 loads when the first PDF is made, not at start-up."""
    return _document_class()(title=title, lang=lang, format=format)


@functools.cache
def _document_class():
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    class _Document(FPDF):
        """An FPDF with the package's fonts registered, shaping on, no automatic page breaks (pages are laid out)."""

        def __init__(self, *, title: str, lang: str, format="A4"):
            super().__init__(unit="mm", format=format)
            logging.getLogger("fontTools").setLevel(logging.WARNING)  # it logs every font subset it makes at INFO
            self.set_auto_page_break(False)
            self.set_margins(0, 0, 0)
            self.c_margin = 0
            for family, stem in FONTS:
                self.add_font(family, "", str(FONT_DIR / f"{stem}-Regular.ttf"))
                self.add_font(family, "B", str(FONT_DIR / f"{stem}-Bold.ttf"))
            # Latin and Cyrillic from Noto Sans; a character it lacks (Arabic, Ethiopic) from the next font that has it
            self.set_fallback_fonts([family for family, _stem in FONTS[1:]], exact_match=False)
            self.set_font("Noto", "", 10)
            self.set_title(title)
            self.set_lang(lang.replace("_", "-"))
            self.set_creator("Opplevelseskort")

        def text_box(self, x: float, y: float, w: float, text: str, *, lang: str, size: float = 10, bold: bool = False,
                     color: tuple[int, int, int] = (0, 0, 0), align: str = "start", line_height: float | None = None,
                     wrap: bool = False) -> float:
            """Write `text` in `lang` in a box `w` mm wide from (x, y); returns the y below it.

            align: "start" (left, or right for a right-to-left language), "end" or "center". With `wrap` the text
            breaks into lines at word boundaries; without it, one line."""
            rtl = is_rtl(lang)
            self.set_text_shaping(True, direction="rtl" if rtl else "ltr")
            self.set_font("Noto", "B" if bold else "", size)
            # A line that ended in a fallback font (Arabic, Ethiopic) leaves that font selected in the PDF while fpdf2
            # believes the primary one still is, and the next box would show its text in the wrong font: select anew.
            self.current_font_is_set_on_page = False
            self.set_text_color(*color)
            side = {"start": "R" if rtl else "L", "end": "L" if rtl else "R", "center": "C"}[align]
            h = line_height or size * 0.5
            self.set_xy(x, y)
            for line in (self._lines(text, w) if wrap else [text]):
                self.cell(w, h, line, align=side, new_x=XPos.LEFT, new_y=YPos.NEXT)
            return self.get_y()

        def _lines(self, text: str, w: float) -> list[str]:
            """Break `text` into lines no wider than `w`, at spaces, in logical order (each line is then laid out by
            the bidi algorithm on its own, as a browser does). Each word is shaped once: fpdf2's own multi_cell shapes
            every growing prefix of a line, which made a page of Arabic take a third of a second."""
            words = text.split()
            if not words:
                return [""]
            space = self.get_string_width(" ")
            lines, current, width = [], [words[0]], self.get_string_width(words[0])
            for word in words[1:]:
                word_w = self.get_string_width(word)
                if width + space + word_w > w:
                    lines.append(" ".join(current))
                    current, width = [word], word_w
                else:
                    current.append(word)
                    width += space + word_w
            lines.append(" ".join(current))
            return lines

        def png(self, data: bytes, x: float, y: float, size: float) -> None:
            self.image(io.BytesIO(data), x=x, y=y, w=size, h=size)

        def band(self, x: float, y: float, w: float, h: float, color: tuple[int, int, int] = BLUE) -> None:
            self.set_fill_color(*color)
            self.rect(x, y, w, h, style="F")

        def bytes(self) -> bytes:
            self._rtl_ligatures_in_visual_order()
            return bytes(self.output())

        def _rtl_ligatures_in_visual_order(self) -> None:
            """A ligature glyph (Arabic lam-alef: لا, لأ) stands for several characters. HarfBuzz gives them in logical
            order; text extraction (poppler: pdftotext, Evince, Okular) reverses a right-to-left line glyph by glyph
            and the ligature's characters with it, so "الأنشطة" came back "األنشطة". Written in visual order, the
            ligature's characters come back logical with the rest of the line."""
            for font in self.fonts.values():
                subset = getattr(font, "subset", None)
                for glyph, _char_id in (subset.items() if subset is not None else ()):
                    chars = glyph.unicode if glyph is not None else ()
                    if isinstance(chars, tuple) and len(chars) > 1 and all(_is_arabic(c) for c in chars):
                        glyph.unicode = tuple(reversed(chars))

    return _Document


def _is_arabic(codepoint: int) -> bool:
    return 0x0600 <= codepoint <= 0x06FF or 0x0750 <= codepoint <= 0x077F or 0xFB50 <= codepoint <= 0xFEFF
