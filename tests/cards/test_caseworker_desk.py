"""Caseworkers find people and fill forms without retyping: a child already registered is flagged with its
household, an application's dates come from the scheme's period and its zones from the municipality's list, and
every error on /husstand/ny stands under its own field."""

import re
from datetime import date

from opplevelseskort.cards import applications, households, services
from opplevelseskort.cards.models import Child, Household
from opplevelseskort.core.models import AuditLog
from opplevelseskort.extensions import db

from .test_views_privacy import _household_form


def _count(model):
    return db.session.scalar(db.select(db.func.count(model.id)))


def _field_error(page: str, field_id: str) -> str:
    m = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    return m.group(1) if m else ""


def test_registering_the_same_child_again_warns_and_offers_the_household(client, login_as, zone_set):
    login_as("caseworker")
    assert client.post("/husstand/ny", data=_household_form()).status_code == 302
    first = db.session.scalar(db.select(Household))
    again = client.post("/husstand/ny", data=_household_form(**{"guardians-0-phone": "912 34 567"}))
    assert again.status_code == 200 and "Er barnet allerede registrert?" in again.text
    assert f"/husstand/{first.id}" in again.text and "Emma Nordmann, født 2014" in again.text
    assert _count(Child) == 1  # nothing written on the warning
    assert 'value="Emma"' in again.text  # the form keeps what was typed
    confirmed = client.post("/husstand/ny", data=_household_form(not_duplicate="y"))
    assert confirmed.status_code == 302 and _count(Child) == 2


def test_another_child_or_another_phone_is_no_duplicate(client, login_as, zone_set):
    login_as("caseworker")
    client.post("/husstand/ny", data=_household_form())
    sibling = client.post("/husstand/ny", data=_household_form(**{"children-0-given_name": "Jonas"}))
    assert sibling.status_code == 302
    namesake = client.post("/husstand/ny", data=_household_form(**{"guardians-0-phone": "99999999"}))
    assert namesake.status_code == 302 and _count(Child) == 3


def test_every_household_error_stands_under_its_own_field(client, login_as, zone_set):
    login_as("caseworker")
    page = client.post("/husstand/ny", data=_household_form(**{
        "guardians-0-phone": "12ab", "children-0-given_name": "", "children-0-birth_year": "2000",
        "children-0-zone": "nowhere", "children-1-given_name": "Ola", "children-1-family_name": "",
        "children-1-birth_year": "2016", "children-1-zone": "30010101", "confirmed": ""})).text
    assert "telefonnummer" in _field_error(page, "guardians-0-phone")
    assert "fornavn mangler" in _field_error(page, "children-0-given_name")
    assert "fødselsåret" in _field_error(page, "children-0-birth_year")
    assert "Ukjent sone" in _field_error(page, "children-0-zone")
    assert "etternavn mangler" in _field_error(page, "children-1-family_name")
    assert "bekreft" in _field_error(page, "confirmed")
    assert _field_error(page, "confirmed").count("bekreft") == 1  # said once, not once per child
    assert "email" not in page.split('id="error-summary"')[0][-200:]
    summary = page.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert 'href="#children-0-zone"' in summary and 'href="#guardians-0-phone"' in summary
    assert _count(Household) == 0


def test_form_checks_inside_a_child_speak_the_pages_language(client, login_as, zone_set):
    login_as("caseworker")
    page = client.post("/husstand/ny", data=_household_form(**{"children-0-birth_year": "1900"})).text
    assert "Tall må være mellom 1990 og 2100." in _field_error(page, "children-0-birth_year")
    assert "Number must be" not in page


def test_new_household_form_starts_with_the_schemes_period(client, login_as, muni, zone_set):
    muni.scheme_end = "07-31"
    db.session.commit()
    login_as("caseworker")
    page = client.get("/husstand/ny").text
    start, end = services.scheme_period(muni)
    assert f'value="{start.isoformat()}"' in page and f'value="{end.isoformat()}"' in page
    assert end.month == 7 and end.day == 31 and end >= start


def test_scheme_period_runs_to_the_next_end_of_the_schemes_year(muni):
    muni.scheme_end = "07-31"
    assert services.scheme_period(muni, date(2026, 3, 1)) == (date(2026, 3, 1), date(2026, 7, 31))
    assert services.scheme_period(muni, date(2026, 7, 31)) == (date(2026, 7, 31), date(2026, 7, 31))
    assert services.scheme_period(muni, date(2026, 8, 1)) == (date(2026, 8, 1), date(2027, 7, 31))
    muni.scheme_end = "12-31"
    assert services.scheme_period(muni, date(2026, 11, 30)) == (date(2026, 11, 30), date(2026, 12, 31))


def test_admin_sets_the_schemes_year_end_checked_and_audited(client, login_as, muni):
    login_as("admin")
    base = {"contact_line": "", "sms_sender": "", "default_report_period": "", "support_email": ""}
    bad = client.post("/admin/kommune", data={**base, "scheme_end": "31.02"})
    assert bad.status_code == 422 and "dag og måned" in _field_error(bad.text, "scheme_end")
    assert client.post("/admin/kommune", data={**base, "scheme_end": "31.07"}).status_code == 302
    db.session.refresh(muni)
    assert muni.scheme_end == "07-31"
    assert 'value="31.07"' in client.get("/admin/kommune").text
    assert db.session.scalar(db.select(AuditLog).filter_by(action="municipality.settings"))


def test_application_is_decided_with_the_schemes_period_and_zones_from_the_list(client, login_as, muni, zone_set):
    a = applications.submit_application(muni, households.GuardianInput("Mona", "95555555", None, "nb"), [
        {"given_name": "Sami", "family_name": "Lie", "birth_year": 2015, "zone": zone_set["30010101"].name},
        {"given_name": "Sara", "family_name": "Lie", "birth_year": 2017, "zone": "somewhere else"}], consent=True)
    db.session.commit()
    login_as("caseworker")
    page = client.get(f"/soknader/{a.id}").text
    start, end = services.scheme_period(muni)
    assert f'value="{start.isoformat()}"' in page and f'value="{end.isoformat()}"' in page
    assert "kommaseparert" not in page
    first = page.split('id="zone-0"', 1)[1].split("</select>", 1)[0]
    second = page.split('id="zone-1"', 1)[1].split("</select>", 1)[0]
    assert 'value="30010101" selected' in first  # the family's answer, found in the list
    assert " selected" not in second and "Familien skrev: somewhere else" in page
    assert all(f'value="{code}"' in second for code in zone_set)  # every zone of the municipality to choose from
    r = client.post(f"/soknader/{a.id}", data={"decision": "approve", "eligible_from": start.isoformat(),
                                               "eligible_until": end.isoformat(), "zone-0": "30010101",
                                               "zone-1": "30010102"})
    assert r.status_code == 302
    sara = db.session.scalar(db.select(Child).filter_by(given_name="Sara"))
    assert sara.zone.code == "30010102" and sara.eligible_until == end
