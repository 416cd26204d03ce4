"""A class's wish round end to end in the browser (issue 41): the culture office opens a round and prints a class's
codes; pupils answer on a phone in bokmål and in Arabic (right to left, axe-clean); the gap becomes a call; a
partner answers it with an offer; the class's code then shows the new offer."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from opplevelseskort.core.clock import today
from opplevelseskort.extensions import db
from opplevelseskort.wishes import services

from .conftest import login

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(context_factory):
    ctx = context_factory(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    return ctx.new_page()


def _answer_on_phone(phone, base, code, lang, texts):
    phone.goto(f"{base}/onsker/kode?sprak={lang}")
    assert phone.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    phone.get_by_label(texts["code"]).fill(code.lower())
    phone.get_by_role("button", name=texts["go"]).click()
    phone.get_by_label(texts["climbing"]).check()
    phone.get_by_label(texts["chess"]).check()
    phone.get_by_role("button", name=texts["send"]).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(texts["thanks"])


def test_a_class_wishes_a_partner_answers_and_the_class_sees_the_new_offer(page, phone, live_app, live_server,
                                                                          axe_check):
    base = live_server.url
    login(page, base, "admin@demo.no")
    page.goto(base + "/admin/onsker")
    axe_check(page)
    page.get_by_label("Navn på runden").fill("Hva vil 5B prøve?")
    page.get_by_label("Første dag").fill(today().isoformat())
    page.get_by_label("Siste dag").fill((today() + timedelta(days=14)).isoformat())
    page.get_by_role("button", name="Åpne runden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hva vil 5B prøve?")
    axe_check(page)
    page.get_by_label("Skole", exact=True).fill("Byskolen")
    page.get_by_label("Klasse", exact=True).fill("5B")
    page.locator("form[action$='/klasser']").get_by_label("Klassetrinn").select_option("5-7")
    page.get_by_label("Antall elever (koder)").fill("12")
    page.get_by_label("العربية").check()
    page.get_by_role("button", name="Lag klasseark med koder").click()
    codes = page.locator("ul.code-sheet code").all_inner_texts()
    assert len(codes) == 12
    expect(page.locator('section[lang="ar"][dir="rtl"]')).to_be_visible()
    axe_check(page)
    round_url = page.url.rsplit("/klasser/", 1)[0]

    bokmal = {"code": "Koden fra arket", "go": "Gå videre", "climbing": "Klatring", "chess": "Sjakk og brettspill",
              "send": "Send svaret", "thanks": "Takk for at du svarte!"}
    arabic = {"code": "الرمز من الورقة", "go": "متابعة", "climbing": "التسلق", "chess": "الشطرنج وألعاب الطاولة",
              "send": "أرسل الإجابة", "thanks": "شكرًا لأنك أجبت!"}
    _answer_on_phone(phone, base, codes[0], "nb", bokmal)
    axe_check(phone)
    _answer_on_phone(phone, base, codes[1], "ar", arabic)
    axe_check(phone)
    phone.goto(f"{base}/onsker/svar/{codes[1]}?sprak=ar")  # answered once: the code cannot answer again
    expect(phone.get_by_role("heading", level=1)).to_have_text(arabic["thanks"])
    with live_app.app_context():  # the rest of the class
        for code in codes[2:]:
            services.answer_with_code(code, services.AnswerInput(["climbing"]))
        db.session.commit()

    page.goto(round_url)
    gaps = page.locator("h2:has-text('Mest ønsket') + ol")
    expect(gaps).to_contain_text("Klatring")
    call = page.locator("form[action$='/utlysninger']")
    call.get_by_label("Aktivitet").select_option("climbing")
    class_zone = page.locator("form[action$='/klasser']").get_by_label("Sone").input_value()
    call.get_by_label("Sone").select_option(class_zone)  # the class's zone (its first, as the class form chose)
    call.get_by_label("Klassetrinn").select_option("5-7")
    call.get_by_role("button", name="Send utlysningen").click()
    expect(page.get_by_text("Utlysningen er sendt til partnerne.")).to_be_visible()

    partner = page.context.browser.new_context(locale="nb-NO").new_page()
    login(partner, base, "partner@demo.no")
    partner.goto(base + "/partner/utlysninger")
    axe_check(partner)
    partner.get_by_role("link", name="Klatring").click()
    partner.get_by_label("Tittel").fill("Klatring for 5.–7. trinn")
    partner.get_by_label("Beskrivelse").fill("Prøv klatreveggen med instruktør.")
    partner.get_by_label("Sted").fill("Klatrehallen")
    partner.get_by_label("Fra").fill(today().isoformat())
    partner.get_by_label("Til").fill((today() + timedelta(days=90)).isoformat())
    partner.get_by_role("button", name="Publiser tilbudet").click()
    expect(partner.get_by_text("Takk! Tilbudet er publisert")).to_be_visible()

    phone.goto(f"{base}/onsker/svar/{codes[0]}?sprak=nb")
    expect(phone.get_by_role("link", name="Klatring for 5.–7. trinn")).to_be_visible()
    phone.goto(f"{base}/onsker/svar/{codes[1]}?sprak=ar")
    expect(phone.get_by_role("link", name="Klatring for 5.–7. trinn")).to_be_visible()
    axe_check(phone)
