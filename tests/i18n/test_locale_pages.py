"""Pages and messages in the reader's language: the guardian's language follows the card link."""

from urllib.parse import urlparse

from opplevelseskort.cards import services as cards
from opplevelseskort.core.models import OutboxMessage
from opplevelseskort.extensions import db


def test_guardians_language_chooses_message_and_link_language(client, card, household, users):
    household.guardians[0].preferred_language = "ar"
    cards.send_card_link(card, actor=users["caseworker"])
    sms = db.session.scalar(db.select(OutboxMessage).filter_by(channel="sms"))
    assert "?sprak=ar" in sms.body and "مرحبًا" in sms.body
    link = sms.body[sms.body.index("http"):].split()[0]
    page = client.get(urlparse(link).path + "?" + urlparse(link).query)
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "رمز QR" in page.text or "بطاقة" in page.text


def test_family_page_in_polish_from_browser(client, card):
    page = client.get(f"/kort/{card.family_token}", headers={"Accept-Language": "pl"})
    assert '<html lang="pl"' in page.text and "Ważna do" in page.text


def test_catalogue_in_every_family_language(client):
    for lang, word in [("ar", "عروض"), ("so", "Dalabyo"), ("pl", "Oferty"), ("uk", "Пропозиції"), ("ti", "መደባት"),
                       ("nn", "Tilbod"), ("sv", "Erbjudanden"), ("en", "Offers")]:
        page = client.get("/tilbud", headers={"Accept-Language": lang})
        assert f'<html lang="{lang}"' in page.text and word in page.text, lang


def test_staff_page_in_nynorsk_and_swedish(client, login_as):
    login_as("caseworker")
    assert "Registrer hushald" in client.get("/husstand/ny", headers={"Accept-Language": "nn"}).text
    client.post("/sprak", data={"lang-locale": "sv", "next": "/husstand/ny"})
    assert "Registrera hushåll" in client.get("/husstand/ny").text


def test_numbers_and_currency_follow_locale(app):
    from flask_babel import format_currency, format_decimal, refresh

    with app.test_request_context(headers={"Accept-Language": "nb"}):
        refresh()
        assert format_decimal(1234.5) == "1\xa0234,5"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        assert format_decimal(1234.5) == "1,234.5"
        assert "NOK" in format_currency(100, "NOK")


def test_family_page_dates_follow_the_pages_language(client, muni, users, zone_set):
    """A visit's day in Arabic or Ukrainian is written as that language writes dates, not as "d. MMMM" with
    Norwegian dots (issue 35)."""
    from babel.dates import format_date

    from opplevelseskort.checkin import services as checkin
    from opplevelseskort.core.clock import local_date
    from opplevelseskort.partners import services as partners

    from ..factories import make_card, offer_values

    card = make_card(muni, users, "Mia")
    offer = partners.save_offer(users["partner"], offer_values(), {})
    visit = checkin.record_checkin(card.short_code, offer, actor=users["partner"])
    db.session.commit()
    day = local_date(visit.checkin.at)
    for lang in ("ar", "uk", "nb"):
        page = client.get(f"/kort/{card.family_token}?sprak={lang}").text
        assert format_date(day, "long", locale=lang) in page, lang
    assert format_date(day, "d. MMMM yyyy", locale="ar") not in client.get(f"/kort/{card.family_token}?sprak=ar").text


def test_the_ethiopic_web_font_covers_every_tigrinya_string_and_is_linked_only_for_tigrinya(client):
    from pathlib import Path

    from babel.messages.pofile import read_po
    from fontTools.ttLib import TTFont

    import opplevelseskort

    package = Path(opplevelseskort.__file__).parent
    catalog = read_po((package / "translations/ti/LC_MESSAGES/messages.po").open("rb"))
    used = {c for m in catalog for t in (m.string if isinstance(m.string, tuple | list) else [m.string])
            for c in t or "" if 0x1200 <= ord(c) <= 0x139F}
    for weight in ("regular", "bold"):
        cmap = TTFont(package / f"static/fonts/noto-sans-ethiopic-ui-{weight}.woff").getBestCmap()
        missing = sorted(c for c in used if ord(c) not in cmap)
        assert not missing, f"run tools/ethiopic_webfont.py: {weight} lacks {''.join(missing)}"
    assert "ethiopic.css" in client.get("/?sprak=ti").text
    assert "ethiopic.css" not in client.get("/?sprak=nb").text
    assert client.get("/static/fonts/noto-sans-ethiopic-ui-regular.woff").status_code == 200
