"""Staff are offered only the languages whose staff texts are complete, as the catalogs say; family pages keep
every language; an RTL page isolates numbers, dates and ranges from the text direction."""

import pytest

from opplevelseskort.core.languages import STAFF_COMPLETE
from opplevelseskort.extensions import db

from ..factories import offer
from .test_catalogs import _po, _text


def _complete(lang: str) -> bool:
    return all(_text(m.string) for m in _po(lang) if m.id)


def test_the_staff_languages_are_exactly_the_complete_catalogs(app):
    complete = [lang for lang in app.config["SUPPORTED_LOCALES"] if lang == "nb" or _complete(lang)]
    assert complete == STAFF_COMPLETE


def test_staff_page_falls_back_to_bokmal_and_offers_complete_languages(client, login_as):
    login_as("caseworker")
    page = client.get("/barn?sprak=ar").text
    assert '<html lang="nb" dir="ltr">' in page
    options = page.split('id="lang-locale"', 1)[1].split("</select>", 1)[0]
    assert 'value="nn"' in options and 'value="ar"' not in options and 'value="ti"' not in options
    assert '<html lang="en"' in client.get("/barn?sprak=en").text


def test_family_pages_keep_every_language_for_staff_too(client, login_as, card):
    login_as("caseworker")
    page = client.get(f"/kort/{card.family_token}?sprak=ar").text
    assert '<html lang="ar" dir="rtl">' in page
    assert 'value="ti"' in page.split('id="lang-locale"', 1)[1].split("</select>", 1)[0]


@pytest.mark.parametrize("path", ["/tilbud", "offer"])
def test_ranges_and_dates_are_isolated_on_rtl_pages(client, users, path):
    o = offer(users, title="Fotball", age_min=6, age_max=16)
    db.session.commit()
    url = f"/tilbud/{o.id}" if path == "offer" else path
    page = client.get(f"{url}?sprak=ar").text
    assert '<bdi dir="ltr">6–16</bdi>' in page
    assert page.count("<bdi>") >= 2  # start and end date, each isolated
