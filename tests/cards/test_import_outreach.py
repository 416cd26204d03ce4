"""After a bulk import the families get their card links: sent through the outbox in each guardian's language,
and, for families with neither phone nor e-mail, one printable PDF of hand-over sheets."""

import io
import re
import shutil
import subprocess

import pytest

from opplevelseskort.cards import applications
from opplevelseskort.cards.models import Card, Child, Household
from opplevelseskort.core.models import AuditLog, OutboxMessage
from opplevelseskort.extensions import db


def _row(**kw):
    base = dict(guardian_name="Kari", guardian_phone="", guardian_email="", guardian_language="nb",
                given_name="Emma", family_name="Nordmann", birth_year="2014", birth_month="5", gender="",
                zone="30010101", channel="nav", eligible_from="2026-01-01", eligible_until="2026-12-31")
    base.update(kw)
    return ";".join(base[c] for c in applications.IMPORT_COLUMNS)


FILE = "\n".join([
    ";".join(applications.IMPORT_COLUMNS),
    _row(guardian_name="Amal Haddad", guardian_phone="91111111", guardian_language="ar", given_name="Yara",
         family_name="Haddad"),
    _row(guardian_name="Amal Haddad", guardian_phone="91111111", guardian_language="ar", given_name="Omar",
         family_name="Haddad", birth_year="2016"),
    _row(guardian_name="Olena Koval", guardian_email="olena@example.org", guardian_language="uk",
         given_name="Taras", family_name="Koval"),
    _row(guardian_name="Saba Tesfay", guardian_language="ti", given_name="Lia", family_name="Tesfay"),
    _row(guardian_name="Saba Tesfay", guardian_language="ti", given_name="Noah", family_name="Tesfay",
         birth_year="2017"),
    _row(guardian_name="Ali Nur", guardian_language="so", given_name="Hodan", family_name="Nur", zone="30010102"),
])


def _import(client):
    r = client.post("/barn/import", content_type="multipart/form-data",
                    data={"file": (io.BytesIO(FILE.encode()), "h.csv"), "dry_run": ""})
    url = r.headers["Location"]
    return int(url.rsplit("/", 1)[1]), client.get(url)


def test_import_accepts_families_without_contact_one_household_per_guardian(client, login_as, zone_set):
    login_as("caseworker")
    _run, page = _import(client)
    assert page.status_code == 200
    assert db.session.scalar(db.select(db.func.count(Child.id))) == 6
    assert db.session.scalar(db.select(db.func.count(Household.id))) == 4  # Haddad, Koval, Tesfay, Nur
    tesfay = db.session.scalar(db.select(Child).filter_by(given_name="Noah")).household
    assert sorted(c.given_name for c in tesfay.children) == ["Lia", "Noah"]


def test_result_page_offers_to_send_links_and_counts_families_without_contact(client, login_as, zone_set):
    login_as("caseworker")
    run_id, page = _import(client)
    assert "Send kortlenkene til 2 familier" in page.text
    assert "2 familier har verken telefon eller e-post" in page.text
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id)).filter_by(kind="card_link")) == 0

    r = client.post(f"/barn/import/jobb/{run_id}/send-lenker")
    assert r.status_code == 302
    done = client.get(r.headers["Location"])  # the sending job, run; back to the import with what it did
    assert done.status_code == 302
    back = client.get(done.headers["Location"]).text
    assert "Kortlenkene sendes til 2 familier." in back and "Lenkene er lagt i kø til 2 familier." in back
    assert "Send kortlenkene" not in back  # nothing left to send
    assert "Meldinger: 0 sendt, 3 venter, 0 kom ikke fram." in back  # queued, not yet sent: said so

    messages = db.session.scalars(db.select(OutboxMessage).filter_by(kind="card_link")).all()
    by_recipient = {}
    for m in messages:
        by_recipient.setdefault(m.recipient, []).append(m)
    assert sorted(by_recipient) == ["+4791111111", "olena@example.org"] or sorted(by_recipient) == [
        "91111111", "olena@example.org"]
    assert len(messages) == 3  # one per child: Yara and Omar by SMS, Taras by e-mail
    for m in messages:
        card = db.session.get(Card, int(m.ref.split(":")[1]))
        assert card.family_token in m.body
    assert {m.locale for m in messages} == {"ar", "uk"}
    assert any("Вітаємо" in m.body or "Привіт" in m.body or "картк" in m.body.lower() for m in messages
               if m.locale == "uk")

    again = client.post(f"/barn/import/jobb/{run_id}/send-lenker")  # a second press sends nothing twice
    client.get(client.get(again.headers["Location"]).headers["Location"])
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id)).filter_by(kind="card_link")) == 3


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils")
def test_sheets_for_families_without_contact_in_one_pdf(client, login_as, zone_set, tmp_path):
    login_as("caseworker")
    run_id, _page = _import(client)
    r = client.post(f"/barn/import/jobb/{run_id}/ark.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    (tmp_path / "a.pdf").write_bytes(r.data)
    info = subprocess.run(["pdfinfo", str(tmp_path / "a.pdf")], capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+3\b", info), info  # Lia, Noah (Tesfay) and Hodan (Nur); none for the reachable
    text = subprocess.run(["pdftotext", str(tmp_path / "a.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Lia" in text and "Noah" in text and "Hodan" in text and "Yara" not in text and "Taras" not in text
    assert "ካርድ" in text  # Tigrinya for the Tesfay family
    sheets = db.session.scalar(db.select(db.func.count(AuditLog.id)).filter_by(action="card.handover_sheet"))
    assert sheets == 3


def test_only_the_importer_or_an_admin_sends_or_prints(client, login_as, users, zone_set, other_muni):
    from opplevelseskort.accounts import services as accounts

    from ..conftest import login

    login_as("caseworker")
    run_id, _page = _import(client)
    other = client.application.test_client()
    login(other, accounts.create_user("cw-b@test.no", "gront eple 47", "caseworker", municipality_id=other_muni.id))
    assert other.post(f"/barn/import/jobb/{run_id}/send-lenker").status_code == 404
    assert other.post(f"/barn/import/jobb/{run_id}/ark.pdf").status_code == 404
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id)).filter_by(kind="card_link")) == 0


def test_a_dry_run_offers_no_sending(client, login_as, zone_set):
    login_as("caseworker")
    r = client.post("/barn/import", content_type="multipart/form-data",
                    data={"file": (io.BytesIO(FILE.encode()), "h.csv"), "dry_run": "y"})
    run_id = int(r.headers["Location"].rsplit("/", 1)[1])
    page = client.get(r.headers["Location"]).text
    assert "Send kortlenkene" not in page and "verken telefon" not in page
    assert client.post(f"/barn/import/jobb/{run_id}/send-lenker").status_code == 404


def test_many_sheets_print_in_parts(client, login_as, zone_set, monkeypatch):
    from opplevelseskort.cards import services

    monkeypatch.setattr(services, "SHEETS_PER_PDF", 2)
    login_as("caseworker")
    run_id, page = _import(client)
    assert "Skriv ut ark 1–2 (PDF)" in page.text and "Skriv ut ark 3–3 (PDF)" in page.text
    assert len(services.import_unreachable_cards(run_id, 2)) == 1
    r = client.post(f"/barn/import/jobb/{run_id}/ark.pdf?del=2")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    sheets = db.session.scalar(db.select(db.func.count(AuditLog.id)).filter_by(action="card.handover_sheet"))
    assert sheets == 1


def test_after_a_real_import_the_next_upload_is_a_preview_again(client, login_as, zone_set):
    import re

    login_as("caseworker")
    _run, page = _import(client)
    box = re.search(r'<input[^>]*name="dry_run"[^>]*>', page.text).group(0)
    assert "checked" in box  # the safe choice stays the default (issue 35: it was left unticked)
