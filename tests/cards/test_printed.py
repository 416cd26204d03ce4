"""What a family holds on paper: the card PDF and the hand-over sheet, in the family's language, with real text
shaping and embedded fonts. Read back with poppler's pdftotext and pdffonts, as a reader would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import unicodedata
from urllib.parse import urlparse

import pytest
from bidi import get_display

from opplevelseskort.cards import services, signing
from opplevelseskort.core.i18n import force_locale
from opplevelseskort.core.languages import FAMILY_ONLY, STAFF_COMPLETE
from opplevelseskort.core.models import AuditLog, Municipality
from opplevelseskort.extensions import db

LANGS = STAFF_COMPLETE + FAMILY_ONLY
RLE, PDF_MARK = "\u202b", "\u202c"

if not shutil.which("pdftotext"):
    if os.environ.get("CI") == "true":
        raise RuntimeError("poppler-utils (pdftotext, pdffonts) is required in CI")
    pytest.skip("poppler-utils is not installed", allow_module_level=True)


def _pdftotext(data: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _pdffonts(data: bytes, tmp_path) -> list[list[str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
RTL_RUN = re.compile("\u202b(.*?)\u202c")


def _squash(text: str) -> str:
    """Without spacing, bidi marks and Arabic vowel marks (harakat: a shadda placed above a letter by the font's
    mark positioning is sometimes read by pdftotext as a line of its own; the page shows it in place)."""
    text = unicodedata.normalize("NFKC", BIDI_CONTROLS.sub("", text))
    return "".join(c for c in text if not c.isspace() and not ("\u064b" <= c <= "\u0652"))


def _logical_from_ltr_page(line: str) -> str:
    """On a page that is mostly left to right (the sheet: bokmål beside Arabic), pdftotext writes an Arabic line's
    runs in the order they stand (left to right), each Arabic run in logical order between RLE and PDF marks. The
    line read right to left is those runs in reverse order."""
    runs, at = [], 0
    for m in RTL_RUN.finditer(line):
        runs += [line[at:m.start()], m.group(1)]
        at = m.end()
    runs.append(line[at:])
    return "".join(reversed(runs))


def _appears(expected: str, extracted: str, lang: str) -> bool:
    """The translated string is in the extracted text in logical order, spacing ignored (pdftotext guesses spaces
    from glyph positions) and lines joined (a long sentence wraps).

    Arabic: on a page that is mostly Arabic (the card) pdftotext writes each line in logical order inside explicit
    embeddings; on a mostly left-to-right page it writes the runs of a line in the order they stand, each Arabic
    run in logical order, so the runs are put back in reading order. A colon beside a number can still land on the
    wrong side ("المرافقون: 1" as "1 :المرافقون"): a one-line string is then compared as the line stands on the
    page, the expected side laid out by python-bidi (a bidi implementation independent of the one in the PDF)."""
    want = _squash(expected)
    if want in _squash(extracted):
        return True
    if lang != "ar":
        return False
    lines = [line for line in extracted.splitlines() if line.strip()]
    if want in _squash("".join(_logical_from_ltr_page(line) for line in lines)):
        return True
    visual = _squash(get_display(expected, base_dir="R"))
    as_it_stands = [get_display(line, base_dir="R") for line in lines]  # mostly-Arabic page
    as_it_stands += [RTL_RUN.sub(lambda m: m.group(1)[::-1], line) for line in lines]  # mostly left-to-right page
    return any(visual == _squash(line) for line in as_it_stands)


def _card_strings(card, lang):
    with force_locale(lang):
        from flask_babel import gettext as _

        return [_("Opplevelseskortet"), _("Gyldig til %(date)s", date=card.valid_until.strftime("%d.%m.%Y")),
                _("Ledsagere: %(n)d", n=card.companions)]


@pytest.mark.parametrize("lang", LANGS)
def test_card_pdf_is_written_in_the_familys_language(client, card, lang, tmp_path):
    r = client.get(f"/kort/{card.family_token}/kort.pdf?sprak={lang}")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    text = _pdftotext(r.data, tmp_path)
    assert "■" not in text and "\ufffd" not in text
    assert "Emma" in text  # the child's first name, and no more of the child than that
    for expected in _card_strings(card, lang):
        assert _appears(expected, text, lang), (lang, expected, text)
    if lang not in ("nb", "nn"):  # translated, not bokmål under another name; bokmål stays beside the title for the door
        nb = _card_strings(card, "nb")
        assert nb[1] not in text and _appears(nb[0], text, "nb")
    fonts = _pdffonts(r.data, tmp_path)
    assert fonts and all(row[-5] == "yes" for row in fonts), fonts  # every font embedded (emb column)
    if lang == "ar":
        assert any("NotoSansArabic" in row[0] for row in fonts)
    if lang == "ti":
        assert any("NotoSansEthiopic" in row[0] for row in fonts)


def test_card_pdf_never_names_why_the_child_has_a_card(client, card, tmp_path):
    text = _pdftotext(client.get(f"/kort/{card.family_token}/kort.pdf").data, tmp_path)
    assert card.child.family_name not in text and str(card.child.birth_year) not in text
    assert card.child.household.guardians[0].name not in text


def test_fonts_ship_inside_the_package():
    from opplevelseskort.core import pdf

    for _family, stem in pdf.FONTS:
        for weight in ("Regular", "Bold"):
            assert (pdf.FONT_DIR / f"{stem}-{weight}.ttf").stat().st_size > 50_000
    assert "SIL Open Font License" in (pdf.FONT_DIR / "OFL.txt").read_text()


def _sheet_strings(card, lang):
    from opplevelseskort.cards import pdf

    return list(pdf._sheet_texts(pdf.HandOver(services.card_face(card), "", lang, ""), lang).values())


@pytest.mark.parametrize("lang", ["ar", "uk", "ti", "so", "pl"])
def test_handover_sheet_is_in_the_guardians_language_with_bokmal_beside(client, login_as, card, lang, tmp_path):
    guardian = card.child.household.guardians[0]
    guardian.preferred_language = lang
    db.session.get(Municipality, card.municipality_id).contact_line = "Ring Familietjenesten på 33 44 55 66"
    db.session.commit()
    login_as("caseworker")
    r = client.post(f"/kort/{card.id}/ark.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.headers["Cache-Control"] == "private, no-store"
    text = _pdftotext(r.data, tmp_path)
    for expected in _sheet_strings(card, lang):  # the guardian's language
        assert _appears(expected, text, lang), (lang, expected, text)
    for expected in _sheet_strings(card, "nb"):  # and bokmål beside it
        assert _appears(expected, text, "nb"), (expected, text)
    for expected in _card_strings(card, lang):  # the card to cut out, in their language
        assert _appears(expected, text, lang), (lang, expected, text)
    assert _squash(services.family_url(card, lang)) in _squash(text)  # the link, written out
    assert "33 44 55 66" in text
    # nothing for staff on the family's paper
    for staff_text in ("Visningen er logget", "Gi lenken til familien", "Lenken til familien"):
        assert staff_text not in text
    assert db.session.scalar(db.select(AuditLog).filter_by(action="card.handover_sheet", object_id=str(card.id)))


def test_handover_sheet_qr_opens_the_card_page(client, login_as, card, tmp_path):
    """The QR on the sheet is the family's link (decoded from the rendered page with zxing-cpp)."""
    import zxingcpp
    from PIL import Image

    login_as("caseworker")
    r = client.post(f"/kort/{card.id}/ark.pdf")
    (tmp_path / "sheet.pdf").write_bytes(r.data)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(tmp_path / "sheet.pdf"),
                    str(tmp_path / "sheet")], check=True)
    found = {b.text for b in zxingcpp.read_barcodes(Image.open(tmp_path / "sheet.png"))}
    assert services.family_url(card, services.guardian_language(card)) in found
    signed = [t for t in found if t.startswith("OK1:")]  # and the card to cut out, its QR the signed code
    assert len(signed) == 1 and signing.card_number_of(signed[0]) == card.short_code


def test_the_printed_cards_qr_is_the_signed_code_in_a_version_11_or_smaller_at_q(client, card, tmp_path):
    """Decoded from the rendered PDF with zxing-cpp: a scanner without a network verifies it (issue 39, item 1)."""
    import zxingcpp
    from PIL import Image

    r = client.get(urlparse(services.family_url(card)).path + "/kort.pdf")
    (tmp_path / "card.pdf").write_bytes(r.data)
    subprocess.run(["pdftoppm", "-r", "300", "-png", "-singlefile", str(tmp_path / "card.pdf"), str(tmp_path / "card")],
                   check=True)
    (found,) = zxingcpp.read_barcodes(Image.open(tmp_path / "card.png"))
    assert found.text.startswith("OK1:") and found.extra["ECLevel"] == "Q" and int(found.extra["Version"]) <= 11
    assert signing.card_number_of(found.text) == card.short_code


def test_the_link_page_tells_the_truth_and_offers_the_sheet(client, login_as, card):
    login_as("caseworker")
    page = client.post(f"/kort/{card.id}/lenke").text
    assert "Den vises bare nå" not in page  # untrue: the same link shows every time
    assert f"/kort/{card.id}/ark.pdf" in page and f"/kort/{card.id}/ny-lenke" in page


def test_a_new_link_kills_the_old_one_and_is_audited(client, login_as, card):
    old = card.family_token
    login_as("caseworker")
    assert client.get(f"/kort/{old}").status_code == 200
    r = client.post(f"/kort/{card.id}/ny-lenke")
    assert r.status_code == 200 and "Den gamle virker ikke lenger" in r.text
    db.session.refresh(card)
    assert card.family_token != old and card.family_token in r.text
    assert client.get(f"/kort/{old}").status_code == 404
    assert client.get(f"/kort/{card.family_token}").status_code == 200
    assert db.session.scalar(db.select(AuditLog).filter_by(action="card.new_link", object_id=str(card.id)))


def test_no_new_link_or_sheet_for_a_blocked_card(client, login_as, card, users):
    services.revoke_card(card, "misuse", actor=users["caseworker"])
    db.session.commit()
    login_as("caseworker")
    token = card.family_token
    assert client.post(f"/kort/{card.id}/ny-lenke").status_code == 302
    assert client.post(f"/kort/{card.id}/ark.pdf").status_code == 302
    db.session.refresh(card)
    assert card.family_token == token


def test_another_municipality_gets_neither_sheet_nor_new_link(client, card, other_muni):
    from opplevelseskort.accounts import services as accounts

    from ..conftest import login

    other = accounts.create_user("cw-b@test.no", "gront eple 47", "caseworker", municipality_id=other_muni.id)
    login(client, other)
    assert client.post(f"/kort/{card.id}/ark.pdf").status_code == 404
    assert client.post(f"/kort/{card.id}/ny-lenke").status_code == 404
