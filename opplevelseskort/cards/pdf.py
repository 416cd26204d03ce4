"""The printable wallet-size card and the family's hand-over sheet (PDF)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from ..core.i18n import force_locale
from ..core.pdf import Document, is_rtl
from ..core.qr import qr_png


@dataclass(frozen=True)
class CardFace:
    """What the printed card shows: no surname, no address, nothing about why the child has a card."""
    given_name: str
    valid_until: date
    companions: int
    short_code: str  # formatted for reading aloud and typing at the door
    door_url: str  # the card's link (the hand-over sheet's QR to cut out opens it for partner staff)
    signed_code: str  # inside the card's QR: verifiable offline, no name (cards.signing)


@dataclass(frozen=True)
class HandOver:
    """One family's hand-over sheet: their card, the secret link to the card page, whom to call."""
    face: CardFace
    family_link: str
    lang: str  # the guardian's language; bokmål stands beside it
    contact: str  # the municipality's line for families (settings), or its support e-mail


CARD_W, CARD_H = 85.6, 54.0  # ISO/IEC 7810 ID-1, like any membership card


def _card_texts(face: CardFace, lang: str) -> dict[str, str]:
    with force_locale(lang):
        return {"title": _("Opplevelseskortet"),
                "valid": _("Gyldig til %(date)s", date=face.valid_until.strftime("%d.%m.%Y")),
                "companions": _("Ledsagere: %(n)d", n=face.companions)}


def draw_card(doc: Document, x: float, y: float, face: CardFace, lang: str) -> None:
    """The wallet-size card at (x, y): band with the title, the child's first name, valid until, companions,
    the code to type and the QR; mirrored for a right-to-left language (QR on the left, text from the right)."""
    t = _card_texts(face, lang)
    rtl = is_rtl(lang)
    doc.set_draw_color(160, 160, 160)
    doc.rect(x, y, CARD_W, CARD_H)
    doc.band(x, y, CARD_W, 12)
    doc.text_box(x + 4, y + 1.6 if lang != "nb" else y + 3.4, CARD_W - 8, t["title"], lang=lang, size=11, bold=True,
                 color=(255, 255, 255))
    if lang != "nb":  # the door's staff read bokmål: the card says what it is in both
        doc.text_box(x + 4, y + 7.2, CARD_W - 8, _card_texts(face, "nb")["title"], lang="nb", size=6.5,
                     color=(255, 255, 255))
    qr = 35.0
    qr_x = x + 3 if rtl else x + CARD_W - qr - 3
    text_x, text_w = (x + qr + 5, CARD_W - qr - 9) if rtl else (x + 4, CARD_W - qr - 9)
    doc.png(qr_png(face.signed_code, 8, "Q"), qr_x, y + CARD_H - qr - 3, qr)
    below = doc.text_box(text_x, y + 15, text_w, face.given_name, lang=lang, size=12, bold=True)
    below = doc.text_box(text_x, below + 1.5, text_w, t["valid"], lang=lang, size=8, wrap=True)
    doc.text_box(text_x, below + 0.5, text_w, t["companions"], lang=lang, size=8, wrap=True)
    doc.text_box(text_x, y + CARD_H - 9, text_w, face.short_code, lang="nb", size=10, bold=True,
                 align="end" if rtl else "start")


def card_pdf(face: CardFace, lang: str) -> bytes:
    """The credit-card-sized card in the family's language (bokmål beside the title)."""
    with force_locale(lang):
        doc = Document(title=_("Opplevelseskortet"), lang=lang, format=(CARD_W, CARD_H))
    doc.add_page()
    draw_card(doc, 0, 0, face, lang)
    return doc.bytes()


def _sheet_texts(sheet: HandOver, lang: str) -> dict[str, str]:
    name = sheet.face.given_name
    with force_locale(lang):
        return {
            "heading": _("Opplevelseskortet til %(name)s", name=name),
            "what": _("Med kortet kan %(name)s være med på aktiviteter og låne utstyr uten å betale.", name=name),
            "open": _("Skann QR-koden med telefonen, eller skriv inn lenken under. Da åpnes kortet, og dere ser hva "
                      "dere kan bruke det til."),
            "door": _("Vis kortet når dere kommer: på telefonen, eller på papir. Klipp ut kortet nederst på arket."),
            "call": _("Har dere spørsmål, ta kontakt med kommunen."),
            "link": _("Lenken til kortet"),
        }


def handover_pdf(sheets: list[HandOver]) -> bytes:
    """One A4 page per family, for the family (no staff text): in the guardian's language with bokmål beside it,
    the link and its QR to open the card page, how to use the card at the door, whom to call, and the card itself
    to cut out, for a family without a phone."""
    doc = Document(title="Opplevelseskortet", lang=sheets[0].lang if sheets else "nb")
    for sheet in sheets:
        _handover_page(doc, sheet)
    return doc.bytes()


def _handover_page(doc: Document, sheet: HandOver) -> None:
    doc.add_page()
    lang, page_w, margin = sheet.lang, 210.0, 18.0
    theirs, ours = _sheet_texts(sheet, lang), _sheet_texts(sheet, "nb")
    columns = [(lang, theirs)] if lang == "nb" else [(lang, theirs), ("nb", ours)]
    if is_rtl(lang):
        columns.reverse()  # the reader's own language where the eye starts: on the right
    gap = 10.0
    col_w = (page_w - 2 * margin - gap * (len(columns) - 1)) / len(columns)

    def row(key: str, y: float, size: float, bold: bool = False) -> float:
        bottoms = [doc.text_box(margin + i * (col_w + gap), y, col_w, texts[key], lang=col_lang, size=size,
                                bold=bold, wrap=True, line_height=size * 0.45)
                   for i, (col_lang, texts) in enumerate(columns)]
        return max(bottoms) + 4

    doc.band(0, 0, page_w, 8)
    y = row("heading", 16, 16, bold=True)
    y = row("what", y + 2, 11)
    y = row("open", y, 11)
    qr = 48.0
    doc.png(qr_png(sheet.family_link, 8), (page_w - qr) / 2, y, qr)
    y += qr + 2
    y = row("link", y, 9, bold=True) - 3
    doc.text_box(margin, y, page_w - 2 * margin, sheet.family_link, lang="nb", size=9, align="center", wrap=True)
    y = doc.get_y() + 6
    y = row("door", y, 11)
    y = row("call", y, 11)
    if sheet.contact:
        y = doc.text_box(margin, y - 2, page_w - 2 * margin, sheet.contact, lang="nb", size=11, bold=True,
                         align="center", wrap=True) + 4
    card_y = 297 - CARD_H - 16
    doc.set_draw_color(120, 120, 120)
    doc.set_dash_pattern(dash=2, gap=2)
    doc.line(margin, card_y - 6, page_w - margin, card_y - 6)
    doc.set_dash_pattern()
    draw_card(doc, (page_w - CARD_W) / 2, card_y, sheet.face, lang)
