"""Caseworker pages, the family's page, the neutral QR page, privacy export/delete and retention."""

import json
from datetime import UTC, date, datetime
from urllib.parse import urlparse

import pytest

from opplevelseskort.cards import households, services
from opplevelseskort.cards.models import Card, Child, Guardian, Household
from opplevelseskort.core.models import AuditLog, Role
from opplevelseskort.extensions import db


def _household_form(**over):
    data = {
        "guardians-0-name": "Kari Nordmann", "guardians-0-phone": "91234567", "guardians-0-email": "",
        "guardians-0-preferred_language": "pl", "guardians-1-name": "", "guardians-1-preferred_language": "nb",
        "channel": "school", "eligible_from": "2026-01-01", "eligible_until": "2026-12-31", "confirmed": "y",
        "children-0-given_name": "Emma", "children-0-family_name": "Nordmann", "children-0-birth_year": "2014",
        "children-0-birth_month": "3", "children-0-gender": "", "children-0-zone": "30010102",
    }
    for i in (1, 2, 3):
        data.update({f"children-{i}-given_name": "", f"children-{i}-gender": ""})
    data.update(over)
    return data


def test_caseworker_registers_household_through_the_form(client, login_as, zone_set):
    login_as("caseworker")
    r = client.post("/husstand/ny", data=_household_form())
    assert r.status_code == 302, r.text
    child = db.session.scalar(db.select(Child))
    assert child.zone.code == "30010102" and child.channel == "school"
    assert db.session.scalar(db.select(Guardian)).preferred_language == "pl"


def test_form_with_unknown_zone_shows_error_and_writes_nothing(client, login_as, zone_set):
    login_as("caseworker")
    r = client.post("/husstand/ny", data=_household_form(**{"children-0-zone": "nowhere"}))
    assert r.status_code == 422 and "Ukjent sone" in r.text
    assert db.session.scalar(db.select(db.func.count(Household.id))) == 0


@pytest.mark.parametrize("role, expected", [("caseworker", 200), ("admin", 200), ("partner", 403),
                                            ("volunteer", 403), ("analyst", 403)])
def test_only_caseworkers_and_admins_search_children(client, login_as, household, role, expected):
    login_as(role)
    r = client.get("/barn?q=emma")
    assert r.status_code == expected
    if expected == 200:
        assert "Nordmann" in r.text


def test_viewing_a_household_is_audited(client, login_as, household):
    login_as("caseworker")
    assert client.get(f"/husstand/{household.id}").status_code == 200
    assert db.session.scalar(db.select(AuditLog).filter_by(action="child.view",
                                                           object_id=str(household.children[0].id)))


def test_caseworker_of_other_municipality_gets_404(client, household, other_muni):
    from opplevelseskort.accounts import services as accounts

    from ..conftest import login

    other = accounts.create_user("cw2@test.no", "gront eple 47", Role.CASEWORKER, municipality_id=other_muni.id)
    login(client, other)
    assert client.get(f"/husstand/{household.id}").status_code == 404
    assert "Emma" not in client.get("/barn?q=Nordmann").text


def test_issue_card_from_page_sends_link(client, login_as, household):
    login_as("caseworker")
    child = household.children[0]
    r = client.post(f"/barn/{child.id}/kort", data={"valid_until": "", "companions": "2"})
    assert r.status_code == 302
    card = db.session.scalar(db.select(Card).filter_by(child_id=child.id))
    assert card.companions == 2
    from opplevelseskort.core.models import OutboxMessage

    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 2


def test_family_page_shows_card_without_login_and_is_not_indexable(client, card):
    r = client.get(urlparse(services.family_url(card)).path)
    assert r.status_code == 200
    assert "Emma" in r.text and "Nordmann" not in r.text  # given name only
    assert r.headers["X-Robots-Tag"].startswith("noindex") and r.headers["Referrer-Policy"] == "no-referrer"
    assert 'name="robots" content="noindex' in r.text
    for word in ("inntekt", "fattig", "lavinntekt", "støtte", "barnevern"):
        assert word not in r.text.lower()
    assert "NAV" not in r.text  # the channel that brought the family is never shown


def test_family_page_qr_is_the_signed_card_code(client, card, muni):
    from unittest import mock

    from opplevelseskort.cards import signing
    from opplevelseskort.core.qr import qr_svg

    made = []
    real = signing.sign_card
    with mock.patch.object(signing, "sign_card", side_effect=lambda *a, **k: made.append(real(*a, **k)) or made[-1]):
        r = client.get(urlparse(services.family_url(card)).path + "/qr.svg")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    (code,) = made
    assert code.startswith("OK1:") and r.data == qr_svg(code, "Q")  # the page's QR is the signed code, at Q
    keys = {k.kid: k.public_key for k in signing.keys_of(muni.id, (signing.SigningKeyStatus.ACTIVE,))}
    claims = signing.verify(code, keys)
    assert claims.card_number == card.short_code and claims.age_band == "10-12"  # born 2014: the band, not the year


def test_family_pdf_is_a_wallet_size_pdf(client, card):
    r = client.get(urlparse(services.family_url(card)).path + "/kort.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    import re

    width = float(re.search(rb"/MediaBox \[ ?0 0 ([\d.]+)", r.data).group(1))
    assert abs(width - 85.6 / 25.4 * 72) < 0.1  # 85.6 mm wide


@pytest.mark.parametrize("suffix", ["x", "", "AAAA"])
def test_tampered_or_truncated_family_link_is_404(client, card, suffix):
    token = card.family_token[:-4] + suffix
    assert client.get(f"/kort/{token}").status_code == 404


def test_qr_link_shows_the_same_neutral_page_for_valid_and_unknown_codes(client, card):
    a = client.get(f"/k/{card.qr_token}")
    b = client.get("/k/" + "x" * 32)
    assert a.status_code == b.status_code == 200
    assert a.text.replace(card.qr_token, "TOKEN") == b.text.replace("x" * 32, "TOKEN")
    assert "Emma" not in a.text


def test_export_contains_everything_and_is_audited(client, login_as, card, household):
    login_as("caseworker")
    r = client.get(f"/husstand/{household.id}/eksport.json")
    data = json.loads(r.data)
    assert data["children"][0]["given_name"] == "Emma"
    assert data["children"][0]["cards"][0]["short_code"] == card.short_code
    assert data["guardians"][0]["phone"] == "+4791234567"
    assert db.session.scalar(db.select(AuditLog).filter_by(action="household.export"))


def test_delete_household_removes_children_cards_and_guardians(client, login_as, card, household):
    login_as("caseworker")
    hid = household.id
    assert client.post(f"/husstand/{hid}/slett", data={}).status_code == 302
    assert db.session.get(Household, hid) is not None  # not without confirmation
    assert client.post(f"/husstand/{hid}/slett", data={"confirm": "yes"}).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(Child.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Card.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Guardian.id))) == 0


def test_retention_with_time_moved_forward_keeps_no_name_or_contact(app, card, household):
    assert households.run_retention(months=24, now=datetime(2027, 6, 1, tzinfo=UTC)) == 0  # not yet
    n = households.run_retention(months=24, now=datetime(2029, 2, 1, tzinfo=UTC))
    assert n == 1
    db.session.expire_all()
    child = db.session.scalar(db.select(Child))
    assert child.given_name is None and child.family_name is None and child.household_id is None
    assert child.zone_id is not None and child.birth_year == 2014
    assert db.session.scalar(db.select(db.func.count(Guardian.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Household.id))) == 0


def test_retention_cli(app, card):
    result = app.test_cli_runner().invoke(args=["retention", "run", "--months", "0"])
    assert result.exit_code == 0 and "anonymised" in result.output


def test_zone_from_address_through_local_stand_in(app, muni, zone_set):
    """A local HTTP server answers in Kartverket's documented shape."""
    import http.server
    import threading

    from opplevelseskort.cards import address

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"adresser": [{"adressetekst": "Bakkeveien 1",
                                             "representasjonspunkt": {"epsg": "EPSG:4258", "lat": 59.905,
                                                                      "lon": 10.015}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app.config["ADDRESS_API_URL"] = f"http://127.0.0.1:{server.server_port}"
        assert address.zone_for_address(muni, "Bakkeveien 1").code == "30010102"
    finally:
        server.shutdown()
        app.config["ADDRESS_API_URL"] = "http://127.0.0.1:9"


def test_address_lookup_down_gives_clear_error(app, muni, zone_set):
    from opplevelseskort.cards import address
    from opplevelseskort.core.errors import DomainError

    app.config["ADDRESS_API_URL"] = "http://127.0.0.1:9"
    with pytest.raises(DomainError) as exc:
        address.zone_for_address(muni, "Bakkeveien 1")
    assert exc.value.code == "address_lookup_failed"
    _ = date


def test_caseworker_can_show_the_family_link_once_and_it_is_audited(client, login_as, card):
    from opplevelseskort.cards.services import family_url
    from opplevelseskort.core.models import AuditLog

    login_as("caseworker")
    assert client.get(f"/kort/{card.id}/lenke").status_code == 405
    r = client.post(f"/kort/{card.id}/lenke")
    assert r.status_code == 200
    assert card.family_token in r.text and "<svg" in r.text and "copy-link.js" in r.text
    assert r.headers["Cache-Control"] == "private, no-store"
    assert db.session.scalar(db.select(AuditLog).filter_by(action="card.show_link", object_id=str(card.id)))
    assert family_url(card) .split("?")[0] in r.text


def test_another_municipality_cannot_show_the_link(client, card, other_muni):
    from opplevelseskort.accounts import services as accounts

    from ..conftest import login

    other = accounts.create_user("cw-b@test.no", "gront eple 47", "caseworker", municipality_id=other_muni.id)
    login(client, other)
    assert client.post(f"/kort/{card.id}/lenke").status_code == 404


def test_household_page_shows_how_the_link_fared(client, login_as, card, monkeypatch):
    from opplevelseskort.cards import services as cards
    from opplevelseskort.core import outbox

    cards.send_card_link(card, actor=None)
    db.session.flush()

    def fail(msg):
        raise ConnectionError("gateway down")

    monkeypatch.setattr(outbox, "_send_sms", fail)
    monkeypatch.setattr(outbox, "_send_email", lambda msg: None)
    outbox.deliver_pending()
    login_as("caseworker")
    page = client.get(f"/husstand/{card.child.household_id}")
    assert "sendt" in page.text and "venter på nytt forsøk (ConnectionError: gateway down)" in page.text
    r = client.post(f"/kort/{card.id}/send")
    assert r.status_code == 302
    page = client.get(f"/husstand/{card.child.household_id}")
    assert "venter på sending" in page.text


def test_revoking_needs_a_reason_and_a_confirmation(client, login_as, card):
    login_as("caseworker")
    for data in ({}, {"reason": "lost"}, {"confirm": "y"}, {"reason": "", "confirm": "y"}):
        r = client.post(f"/kort/{card.id}/sperr", data=data, follow_redirects=True)
        assert r.status_code == 200
        assert db.session.get(Card, card.id).revoked_at is None, data
    assert "Bekreft at kortet skal sperres." in client.post(f"/kort/{card.id}/sperr", data={"reason": "lost"},
                                                             follow_redirects=True).text
    r = client.post(f"/kort/{card.id}/sperr", data={"reason": "lost", "confirm": "y"})
    assert r.status_code == 302 and db.session.get(Card, card.id).revoked_at is not None


def test_household_page_puts_revoking_apart_behind_a_disclosure(client, login_as, card):
    login_as("caseworker")
    page = client.get(f"/husstand/{card.child.household_id}").text
    assert '<details class="danger-zone">' in page and 'name="confirm"' in page
    assert page.index("Forny") < page.index("danger-zone")


def test_approving_an_application_starts_from_the_zones_the_family_gave(client, login_as, zone_set, muni):
    from opplevelseskort.cards import applications

    a = applications.submit_application(muni, households.GuardianInput("Mona", "95555555", "", "nb"), [
        {"given_name": "Sami", "family_name": "Lie", "birth_year": 2015, "birth_month": 2, "zone": "30010102"},
        {"given_name": "Sara", "family_name": "Lie", "birth_year": 2017, "birth_month": 4, "zone": "30010201"}],
        consent=True)
    db.session.flush()
    login_as("caseworker")
    page = client.get(f"/soknader/{a.id}").text
    first = page.split('id="zone-0"', 1)[1].split("</select>", 1)[0]
    second = page.split('id="zone-1"', 1)[1].split("</select>", 1)[0]
    assert 'value="30010102" selected' in first and 'value="30010201" selected' in second


def test_the_children_list_says_an_expired_card_has_expired(client, login_as, household, users):
    """The list shows each child's card status from the one card rule (cards.services.card_status), not from
    `revoked_at` alone: an expired card never reads "Aktivt til <a past date>"."""
    child = household.children[0]
    services.issue_card(child, actor=users["caseworker"], valid_from=date(2020, 1, 1), valid_until=date(2020, 12, 31))
    db.session.flush()
    login_as("caseworker")
    r = client.get("/barn")
    assert r.status_code == 200
    assert "Aktivt til" not in r.text and "Utløpt" in r.text


def test_one_address_look_up_for_a_household_whose_children_have_no_zone(client, login_as, zone_set, monkeypatch):
    """The zone of the household's address is looked up once (in the service), not once per child in the view."""
    from opplevelseskort.cards import address

    calls = []

    def look_up(muni, text):
        calls.append(text)
        return zone_set["30010102"]

    monkeypatch.setattr(address, "zone_for_address", look_up)
    login_as("caseworker")
    data = _household_form(**{"children-0-zone": "", "address": "Bakkeveien 1", "children-1-given_name": "Nora",
                              "children-1-family_name": "Nordmann", "children-1-birth_year": "2016",
                              "children-1-zone": ""})
    r = client.post("/husstand/ny", data=data)
    assert r.status_code == 302, r.text
    assert calls == ["Bakkeveien 1"]
    assert {c.zone.code for c in db.session.scalars(db.select(Child))} == {"30010102"}


def test_opening_a_household_page_audits_each_child_through_the_service(app, household, users):
    before = db.session.scalar(db.select(db.func.count(AuditLog.id)).filter_by(action="child.view"))
    households.get_household(household.id, actor=users["caseworker"])
    after = db.session.scalar(db.select(db.func.count(AuditLog.id)).filter_by(action="child.view"))
    assert after - before == len(household.children)
    with pytest.raises(services.NotFound):
        households.get_household(household.id, actor=users["partner"])


def test_an_uncertain_link_message_is_shown_and_sent_again_by_staff(client, login_as, card, users, other_muni):
    """A message whose sending was interrupted is shown as "maybe sent"; the caseworker checks and sends it again
    (same Message-ID, audited); another municipality's caseworker cannot."""
    from opplevelseskort.accounts import services as accounts
    from opplevelseskort.core import outbox
    from opplevelseskort.core.models import OutboxMessage, OutboxStatus

    from ..conftest import login

    msg = outbox.enqueue("sms", "91234567", "", "Lenken", ref=f"card:{card.id}")
    msg.status = OutboxStatus.UNCERTAIN
    db.session.flush()
    first = msg.message_id
    login_as("caseworker")
    page = client.get(f"/husstand/{card.child.household_id}").text
    assert "kanskje sendt" in page and f"/melding/{msg.id}/send-igjen" in page
    outsider = client.application.test_client()
    login(outsider, accounts.create_user("cw-x@test.no", "gront eple 47", "caseworker", municipality_id=other_muni.id))
    assert outsider.post(f"/melding/{msg.id}/send-igjen").status_code == 404
    assert db.session.get(OutboxMessage, msg.id).status == OutboxStatus.UNCERTAIN
    r = client.post(f"/melding/{msg.id}/send-igjen")
    assert r.status_code == 302
    assert msg.status == OutboxStatus.PENDING and msg.message_id == first
    assert db.session.scalar(db.select(AuditLog).filter_by(action="message.resend", object_id=str(msg.id)))


def test_a_blocked_card_says_so_and_a_replaced_card_says_a_new_one_was_sent(client, muni, zone_set, users):
    """A revoked card's page shows no QR, no code and no PDF, never why; the municipality's contact line (or a
    plain "contact the municipality") says whom to ask. The QR and the PDF of a revoked card are not found."""
    from opplevelseskort.cards import services as card_services
    from opplevelseskort.core import municipalities

    from ..factories import make_card

    municipalities.update_municipality_settings(muni, actor=users["admin"], contact_line="Ring servicetorget på 69 19 60 00.",
                                      sms_sender="", default_report_period="", support_email="")
    blocked = make_card(muni, users, "Sperret")
    card_services.revoke_card(blocked, "misuse", actor=users["caseworker"])
    page = client.get(f"/kort/{blocked.family_token}").text
    assert "Kortet er sperret." in page and "Ring servicetorget på 69 19 60 00." in page
    assert "qr.svg" not in page and "kort.pdf" not in page and blocked.short_code[:3] not in page.split("<main")[1]
    assert "misbruk" not in page.lower() and "misuse" not in page
    assert client.get(f"/kort/{blocked.family_token}/qr.svg").status_code == 404
    assert client.get(f"/kort/{blocked.family_token}/kort.pdf").status_code == 404
    lost = make_card(muni, users, "Mistet")
    card_services.replace_lost_card(lost, actor=users["caseworker"])
    page = client.get(f"/kort/{lost.family_token}?sprak=en").text
    assert "This card has been replaced by a new one, which has been sent to you." in page and "qr.svg" not in page
