"""Say "queued" until it is sent: every page that reports a message shows its real state (queued, sent, failed
with the reason), and the page's state changes when the outbox delivers (a signed list of ids, polled)."""

import re

from opplevelseskort.cards import applications, households
from opplevelseskort.cards import services as cards
from opplevelseskort.core import outbox
from opplevelseskort.core.models import OutboxMessage, OutboxStatus
from opplevelseskort.extensions import db


def _token(page: str) -> str:
    return re.search(r'data-message-status-url="/meldinger/status\.json\?t=([^"]+)"', page).group(1)


def test_household_page_states_follow_the_outbox(client, login_as, card, monkeypatch):
    cards.send_card_link(card, actor=None)
    db.session.commit()
    login_as("caseworker")
    page = client.get(f"/husstand/{card.child.household_id}").text
    assert page.count('data-final="false"') >= 1 and "venter på sending" in page
    token = _token(page)
    before = client.get(f"/meldinger/status.json?t={token}").json["messages"]
    assert before and all(m["status"] == "pending" and m["text"] == "venter på sending" for m in before.values())

    monkeypatch.setattr(outbox, "_send_email", lambda msg: None)
    monkeypatch.setattr(outbox, "_send_sms", lambda msg: (_ for _ in ()).throw(ConnectionError("gateway down")))
    outbox.deliver_pending()
    db.session.commit()
    after = client.get(f"/meldinger/status.json?t={token}").json["messages"]
    by_status = {m["status"] for m in after.values()}
    assert "sent" in by_status or "pending" in by_status
    texts = " ".join(m["text"] for m in after.values())
    assert "sendt " in texts or "venter på nytt forsøk (ConnectionError: gateway down)" in texts
    assert any(m["final"] for m in after.values() if m["status"] == "sent")


def test_a_forged_or_foreign_token_names_no_message(client, login_as, card):
    cards.send_card_link(card, actor=None)
    db.session.commit()
    login_as("partner")
    ids = [m.id for m in db.session.scalars(db.select(OutboxMessage))]
    assert client.get("/meldinger/status.json?t=[1,2,3]").json == {"messages": {}}
    assert client.get(f"/meldinger/status.json?t={ids}").json == {"messages": {}}
    assert client.get("/meldinger/status.json").json == {"messages": {}}


def test_flashes_say_queued_not_sent(client, login_as, household, users):
    login_as("caseworker")
    child = household.children[0]
    r = client.post(f"/barn/{child.id}/kort", data={"valid_from": "", "valid_until": "", "companions": "1"},
                    follow_redirects=True)
    assert "står i kø" in r.text and "er sendt til de foresatte" not in r.text


def test_application_answer_state_shows_on_the_application(client, login_as, muni, zone_set):
    a = applications.submit_application(muni, households.GuardianInput("Mona", "95555555", None, "pl"),
                                        [{"given_name": "Sami", "family_name": "Lie", "birth_year": 2015}],
                                        consent=True)
    db.session.commit()
    login_as("caseworker")
    r = client.post(f"/soknader/{a.id}", data={"decision": "reject", "reason": "Bor i en annen kommune"})
    assert r.headers["Location"].endswith(f"/soknader/{a.id}")
    page = client.get(r.headers["Location"]).text
    assert "står i kø" in page and "Svaret til familien" in page and "venter på sending" in page
    msg = db.session.scalar(db.select(OutboxMessage).filter_by(kind="application_rejected"))
    msg.status, msg.last_error = OutboxStatus.FAILED, "554 rejected"
    db.session.commit()
    assert "kom ikke fram (554 rejected)" in client.get(f"/soknader/{a.id}").text


def test_partner_invitation_and_user_link_states_on_the_admin_lists(client, login_as, muni, users):
    from opplevelseskort.partners.models import Partner

    p = Partner(municipality_id=muni.id, name="Klatreklubben", org_number="123456785", contact_name="Kim",
                contact_email="kim@klatre.no")
    db.session.add(p)
    db.session.commit()
    login_as("admin")
    r = client.post(f"/admin/partnere/{p.id}/godkjenn", follow_redirects=True)
    assert "står i kø" in r.text
    assert "Invitasjon:" in r.text and "venter på sending" in r.text.split("Klatreklubben", 1)[1]
    invite = db.session.scalar(db.select(OutboxMessage).filter_by(kind="partner_invite"))
    assert invite.ref == f"partner:{p.id}"
    invite.status = OutboxStatus.SENT
    db.session.commit()
    assert "Invitasjon:</span> <span class=\"message-state message-sent\"" in client.get("/admin/partnere").text
    from opplevelseskort.accounts import services as accounts

    newcomer = accounts.create_user("ny@test.no", accounts.unusable_password(), "caseworker", municipality_id=muni.id)
    accounts.send_password_link(newcomer, actor=users["admin"])
    db.session.commit()
    row = client.get("/admin/brukere").text.split("ny@test.no", 1)[1].split("</tr>", 1)[0]
    assert "Lenke for passord:" in row and "venter på sending" in row
