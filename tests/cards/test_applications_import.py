"""Guardians' applications and bulk import of households."""

from datetime import date

import pytest

from opplevelseskort.cards import applications
from opplevelseskort.cards import households as services
from opplevelseskort.cards.models import Application, Card, Child, Household
from opplevelseskort.core.errors import DomainError, ImportFailed
from opplevelseskort.core.models import OutboxMessage
from opplevelseskort.extensions import db


def _apply_form(**over):
    data = {"name": "Mona Lie", "phone": "95555555", "email": "", "preferred_language": "ar", "zone": "30010101",
            "children-0-given_name": "Sami", "children-0-family_name": "Lie", "children-0-birth_year": "2015",
            "children-0-birth_month": "2", "consent": "y"}
    data.update(over)
    return data


def test_guardian_applies_and_caseworker_approves(client, login_as, zone_set, muni):
    r = client.post("/sok-om-kort", data=_apply_form())
    assert r.status_code == 200 and "Søknaden er sendt" in r.text
    a = db.session.scalar(db.select(Application))
    assert a.status == "pending" and a.children[0]["given_name"] == "Sami"
    login_as("caseworker")
    r = client.post(f"/soknader/{a.id}", data={"decision": "approve", "eligible_from": "2026-01-01",
                                               "eligible_until": "2026-12-31", "zones": ""})
    assert r.status_code == 302
    db.session.expire_all()
    a = db.session.get(Application, a.id)
    assert a.status == "approved"
    child = db.session.scalar(db.select(Child).filter_by(given_name="Sami"))
    assert child.channel == "application" and child.cards[0].revoked_at is None
    sms = db.session.scalar(db.select(OutboxMessage).filter_by(kind="card_link"))
    assert sms.locale == "ar" and child.cards[0].family_token in sms.body


def test_application_without_consent_stores_nothing(client, zone_set):
    r = client.post("/sok-om-kort", data=_apply_form(consent=""))
    assert r.status_code == 422 and "samtykke" in r.text
    assert db.session.scalar(db.select(db.func.count(Application.id))) == 0


def test_application_with_bad_phone_stores_nothing(client, zone_set):
    r = client.post("/sok-om-kort", data=_apply_form(phone="abc"))
    assert r.status_code == 422 and "telefonnummer" in r.text
    assert db.session.scalar(db.select(db.func.count(Application.id))) == 0


def test_rejection_sends_reason_in_guardians_language(muni, zone_set, users):
    a = applications.submit_application(muni, services.GuardianInput("Mona", "95555555", None, "pl"),
                                        [{"given_name": "Sami", "family_name": "Lie", "birth_year": 2015}],
                                        consent=True)
    with pytest.raises(DomainError):
        applications.reject_application(a, "", actor=users["caseworker"])
    applications.reject_application(a, "Bor i en annen kommune", actor=users["caseworker"])
    msg = db.session.scalar(db.select(OutboxMessage).filter_by(kind="application_rejected"))
    assert msg.locale == "pl" and "Bor i en annen kommune" in msg.body
    assert "Gmina napisała po norwesku: «Bor i en annen kommune»" in msg.body  # said, in Polish, that it is Norwegian
    assert db.session.scalar(db.select(db.func.count(Household.id))) == 0


HEADER = ";".join(applications.IMPORT_COLUMNS)


def _row(**kw):
    base = dict(guardian_name="Kari", guardian_phone="91234567", guardian_email="", guardian_language="nb",
                given_name="Emma", family_name="Nordmann", birth_year="2014", birth_month="5", gender="girl",
                zone="30010101", channel="nav", eligible_from="2026-01-01", eligible_until="2026-12-31")
    base.update(kw)
    return ";".join(base[c] for c in applications.IMPORT_COLUMNS)


def test_import_groups_children_by_guardian(muni, zone_set, users):
    data = "\n".join([HEADER, _row(), _row(given_name="Jon", birth_year="2016"),
                      _row(guardian_phone="92222222", given_name="Ali", family_name="Ahmed")])
    preview = applications.import_households(muni, data, actor=users["caseworker"])
    assert (preview.households, preview.children, preview.cards) == (2, 3, 3)
    assert db.session.scalar(db.select(db.func.count(Card.id))) == 3


def test_dry_run_writes_nothing(muni, zone_set, users):
    data = "\n".join([HEADER, _row()])
    preview = applications.import_households(muni, data, actor=users["caseworker"], dry_run=True)
    assert preview.children == 1
    assert db.session.scalar(db.select(db.func.count(Child.id))) == 0


@pytest.mark.parametrize("row, fragment", [
    (_row(zone="nowhere"), "Linje 3: Ukjent sone"),
    (_row(guardian_phone="x1", guardian_email=""), "Linje 3"),
    (_row(birth_year="abc"), "Linje 3: «birth_year» må være et heltall. (fant «abc»)"),
    (_row(eligible_from="01.01.2026"), "Linje 3: «eligible_from» må være en dato (ÅÅÅÅ-MM-DD). (fant «01.01.2026»)"),
    (_row(gender="kanskje"), "Linje 3: ukjent kjønn «kanskje». Bruk en av: girl (jente)"),
    (_row(birth_month="13"), "Linje 3: «birth_month» kan være høyst 12."),
    ("too;few;columns", "Linje 3: forventet 13 kolonner"),
])
def test_import_error_lists_row_numbers_and_writes_nothing(muni, zone_set, users, row, fragment):
    data = "\n".join([HEADER, _row(), row])
    with pytest.raises(ImportFailed) as exc:
        applications.import_households(muni, data, actor=users["caseworker"])
    assert any(fragment in e for e in exc.value.errors), exc.value.errors
    assert db.session.scalar(db.select(db.func.count(Child.id))) == 0


def test_malformed_header_is_refused(muni, zone_set, users):
    with pytest.raises(ImportFailed) as exc:
        applications.import_households(muni, "name,phone\nx,y\n", actor=users["caseworker"])
    assert exc.value.errors[0].startswith("Linje 1")


def test_duplicates_are_reported_not_doubled(muni, zone_set, users):
    data = "\n".join([HEADER, _row()])
    applications.import_households(muni, data, actor=users["caseworker"])
    preview = applications.import_households(muni, data, actor=users["caseworker"])
    assert preview.children == 0 and len(preview.duplicates) == 1
    assert db.session.scalar(db.select(db.func.count(Card.id))) == 1


def test_import_page_preview_and_template(client, login_as, zone_set):
    import io

    login_as("caseworker")
    tpl = client.get("/barn/import/mal.csv")
    assert tpl.status_code == 200 and HEADER in tpl.data.decode("utf-8-sig")
    r = client.post("/barn/import", data={"file": (io.BytesIO(("\n".join([HEADER, _row()])).encode()), "h.csv"),
                                          "dry_run": "y"}, content_type="multipart/form-data")
    assert r.status_code == 302 and "/barn/import/jobb/" in r.headers["Location"]  # the import is a job
    r = client.get(r.headers["Location"])
    assert r.status_code == 200 and "Forhåndsvisning" in r.text
    assert db.session.scalar(db.select(db.func.count(Child.id))) == 0


def test_cli_import_with_progress(app, muni, zone_set, users, tmp_path):
    f = tmp_path / "h.csv"
    f.write_text("\n".join([HEADER, _row()]), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["cards", "import", str(f), "--municipality", "3001",
                                                "--actor", "caseworker@test.no"])
    assert result.exit_code == 0, result.output
    assert "Imported 1 households" in result.output
    _ = date


def test_the_downloadable_template_imports_as_it_is(client, login_as, zone_set):
    import io

    login_as("caseworker")
    template = client.get("/barn/import/mal.csv").data
    assert b"30010101" in template and b"jente" in template and b"NAV" in template
    r = client.post("/barn/import", content_type="multipart/form-data",
                    data={"file": (io.BytesIO(template), "mal.csv"), "dry_run": ""}, follow_redirects=True)
    assert r.status_code == 200, r.text
    assert db.session.scalar(db.select(db.func.count(Child.id))) == 1


def test_norwegian_words_are_accepted_beside_the_codes(muni, zone_set, users):
    text = ("guardian_name;guardian_phone;guardian_email;guardian_language;given_name;family_name;birth_year;"
            "birth_month;gender;zone;channel;eligible_from;eligible_until\n"
            "Kari;91234567;;nb;Emma;Nordmann;2014;5;Jente;30010101;NAV;2026-01-01;2026-12-31\n"
            "Kari;91234567;;nb;Ola;Nordmann;2016;3;gutt;30010101;barnevern;2026-01-01;2026-12-31\n")
    applications.import_households(muni, text, actor=users["caseworker"])
    kids = {c.given_name: c for c in db.session.scalars(db.select(Child))}
    assert kids["Emma"].gender == "girl" and kids["Emma"].channel == "nav"
    assert kids["Ola"].gender == "boy" and kids["Ola"].channel == "child_welfare"


def test_an_unknown_value_error_lists_what_is_allowed(muni, zone_set, users):
    text = ("guardian_name;guardian_phone;guardian_email;guardian_language;given_name;family_name;birth_year;"
            "birth_month;gender;zone;channel;eligible_from;eligible_until\n"
            "Kari;91234567;;nb;Emma;Nordmann;2014;5;pike;30010101;kommunen;2026-01-01;2026-12-31\n")
    with pytest.raises(ImportFailed) as exc:
        applications.import_households(muni, text, actor=users["caseworker"])
    joined = " ".join(exc.value.errors)
    assert "ukjent kjønn «pike». Bruk en av: girl (jente), boy (gutt), other (annet)" in joined
    assert "ukjent kanal «kommunen». Bruk en av: nav (NAV)" in joined


def test_after_a_dry_run_one_button_imports_the_same_file(client, login_as, users, zone_set):
    import io
    import re

    from ..conftest import login

    login_as("caseworker")
    template = client.get("/barn/import/mal.csv").data
    r = client.post("/barn/import", content_type="multipart/form-data",
                    data={"file": (io.BytesIO(template), "mal.csv"), "dry_run": "y"}, follow_redirects=True)
    assert r.status_code == 200 and "Importer denne filen nå" in r.text
    assert db.session.scalar(db.select(db.func.count(Child.id))) == 0
    upload = re.search(r'name="upload" value="([0-9a-f]+)"', r.text).group(1)
    other = client.application.test_client()
    login(other, users["admin"])
    assert "for gammel" in other.post("/barn/import", data={"upload": upload}).text
    r = client.post("/barn/import", data={"upload": upload})
    assert r.status_code == 302
    assert db.session.scalar(db.select(db.func.count(Child.id))) == 1
    assert "er registrert med kort" in client.get(r.headers["Location"]).text
    assert "for gammel" in client.post("/barn/import", data={"upload": upload}).text  # used once


def test_a_refused_import_job_shows_every_problem_and_writes_nothing(client, login_as, zone_set):
    import io

    login_as("caseworker")
    bad = "\n".join([HEADER, _row(birth_year="abc"), _row(zone="nowhere")])
    r = client.post("/barn/import", content_type="multipart/form-data",
                    data={"file": (io.BytesIO(bad.encode()), "h.csv"), "dry_run": ""})
    r = client.get(r.headers["Location"])
    assert r.status_code == 422
    assert "Linje 2: «birth_year» må være et heltall." in r.text and "Linje 3: Ukjent sone" in r.text
    assert db.session.scalar(db.select(db.func.count(Child.id))) == 0


def test_only_its_starter_follows_an_import_job(client, login_as, users, zone_set):
    import io

    from ..conftest import login

    login_as("caseworker")
    r = client.post("/barn/import", content_type="multipart/form-data",
                    data={"file": (io.BytesIO("\n".join([HEADER, _row()]).encode()), "h.csv"), "dry_run": "y"})
    url = r.headers["Location"]
    run_id = int(url.rsplit("/", 1)[1])
    status = client.get(f"/jobber/{run_id}.json").json
    assert status["status"] == "done" and status["finished"] is True and status["done"] == status["total"] > 0
    other = client.application.test_client()
    login(other, users["analyst"])
    assert other.get(f"/jobber/{run_id}.json").status_code == 404
    from opplevelseskort.accounts.services import create_user

    stranger = create_user("cw-2@test.no", "gront eple 47", "caseworker", municipality_id=users["caseworker"].municipality_id)
    login(other, stranger)
    assert other.get(url).status_code == 404


def test_kept_uploads_are_deleted_after_24_hours(muni, users):
    from datetime import timedelta

    from opplevelseskort.cards import jobs as card_jobs
    from opplevelseskort.core import files
    from opplevelseskort.core.types import utcnow

    files.put(card_jobs.upload_key(users["caseworker"].id, "abc"), b"guardian_name;...", "text/csv")
    files.put("offer/1.jpg", b"jpeg", "image/jpeg")
    assert card_jobs.delete_kept_uploads(now=utcnow() + timedelta(hours=23)) == {"deleted": 0}
    assert card_jobs.delete_kept_uploads(now=utcnow() + timedelta(hours=25)) == {"deleted": 1}
    assert files.get(card_jobs.upload_key(users["caseworker"].id, "abc")) is None
    assert files.get("offer/1.jpg") is not None


@pytest.mark.parametrize("lang", ["ar", "so", "ti", "uk"])
def test_the_language_for_messages_defaults_to_the_page_language(client, zone_set, lang):
    import re

    page = client.get(f"/sok-om-kort?sprak={lang}").text
    select = re.search(r'<select[^>]*name="preferred_language".*?</select>', page, re.S).group(0)
    assert re.search(rf'<option selected value="{lang}"|<option value="{lang}" selected', select), select[:300]
