"""Check-in through the API and the scanner page; the card link; rate limits; OpenAPI."""

from datetime import date

import pytest

from opplevelseskort.accounts import tokens as api_tokens
from opplevelseskort.cards import services as cards
from opplevelseskort.checkin.models import CheckIn
from opplevelseskort.core.models import Role
from opplevelseskort.extensions import db
from opplevelseskort.partners.services import create_staff_user

from .conftest import bearer


def _post(client, raw, **body):
    return client.post("/api/v1/checkins", json=body, headers=bearer(raw))


def test_api_new_then_repeat(client, token, offer, kid_card):
    r = _post(client, token, code=kid_card.short_code, offer_id=offer.id, companions=1)
    assert r.status_code == 201 and r.json["given_name"] == "Sara" and r.json["repeat"] is False
    r2 = _post(client, token, code=cards.card_url(kid_card), offer_id=offer.id)
    assert r2.status_code == 200 and r2.json["id"] == r.json["id"] and r2.json["repeat"] is True


@pytest.mark.parametrize("mutate, code", [("revoke", "card_revoked"), ("expire", "card_expired"),
                                          ("future", "card_not_yet_valid")])
def test_api_refusals_have_stable_codes(client, token, offer, kid_card, users, mutate, code):
    if mutate == "revoke":
        cards.revoke_card(kid_card, "lost", actor=users["caseworker"])
    elif mutate == "expire":
        kid_card.valid_until = date(2026, 1, 2)
        kid_card.valid_from = date(2026, 1, 1)
    else:
        kid_card.valid_from = date(2030, 1, 1)
    db.session.flush()
    r = _post(client, token, code=kid_card.short_code, offer_id=offer.id)
    assert r.status_code == 422 and r.json["error"] == code and r.json["message"]
    assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 0


def test_api_unknown_card_is_422_card_unknown(client, token, offer):
    r = _post(client, token, code="XXXXXXXXX", offer_id=offer.id)
    assert r.status_code == 422 and r.json["error"] == "card_unknown" and r.json["message"]


@pytest.mark.parametrize(("body", "field"), [({"code": 5, "offer_id": 1}, "code"), ({"code": "x"}, "offer_id"),
                                             ({"code": "x", "offer_id": "1"}, "offer_id"),
                                             ({"code": "x", "offer_id": True}, "offer_id"),
                                             ({"code": "x", "offer_id": 1, "companions": "two"}, "companions"),
                                             ({"code": "x", "offer_id": 1, "companions": 21}, "companions"),
                                             ({"code": "", "offer_id": 1}, "code"),
                                             ({"code": "x", "offer_id": 1, "offerid": 2}, "offerid")])
def test_api_bad_body(client, token, body, field):
    r = client.post("/api/v1/checkins", json=body, headers=bearer(token))
    assert r.status_code == 422 and r.json["error"] == "invalid_body"
    assert [f["field"] for f in r.json["fields"]] == [field]
    assert f"«{field}»" in r.json["message"]


def test_api_unknown_offer_is_404(client, token):
    r = client.post("/api/v1/checkins", json={"code": "x", "offer_id": 2**31}, headers=bearer(token))
    assert r.status_code == 404 and r.json["error"] == "offer_not_found"
    r = client.post("/api/v1/checkins", json={"code": "x", "offer_id": 9.0}, headers=bearer(token))
    assert r.status_code == 404 and r.json["error"] == "offer_not_found"  # 9.0 is the integer 9 (JSON Schema)


def test_api_non_json_body(client, token):
    r = client.post("/api/v1/checkins", data="not json", headers=bearer(token))
    assert r.status_code == 422 and r.json["error"] == "invalid_body"


def test_partner_token_refused_on_other_partners_offer(client, offer, kid_card, muni, other_partner_org):
    other = create_staff_user("o@x.no", "gront eple 47", Role.PARTNER, municipality_id=muni.id,
                              partner_id=other_partner_org.id)
    raw = api_tokens.create_token(other, "x")[1]
    r = _post(client, raw, code=kid_card.short_code, offer_id=offer.id)
    assert r.status_code == 403 and r.json["error"] == "offer_forbidden"


def test_analyst_token_cannot_check_in(client, offer, kid_card, users):
    raw = api_tokens.create_token(users["analyst"], "x")[1]
    assert _post(client, raw, code=kid_card.short_code, offer_id=offer.id).status_code == 403


def test_card_validity_endpoint(client, token, kid_card):
    r = client.get(f"/api/v1/cards/{kid_card.short_code}", headers=bearer(token))
    assert r.status_code == 200 and "valid" in r.json
    assert client.get("/api/v1/cards/NOPE", headers=bearer(token)).json["error"] == "card_unknown"


def test_card_lookups_are_rate_limited_per_user(make_app, offer, kid_card, users):
    app = make_app(RATELIMIT_ENABLED=True, CARD_LOOKUP_RATE_LIMIT="3 per minute")
    c = app.test_client()
    raw = api_tokens.create_token(users["partner"], "x")[1]
    codes = [c.get(f"/api/v1/cards/{kid_card.short_code}", headers=bearer(raw)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_scanner_page_typed_code_green_then_revoked_red(client, login_as, offer, kid_card, users, muni):
    from ..factories import make_card

    login_as("partner")
    page = client.get("/skann")
    assert page.status_code == 200 and "Fotball" in page.text
    r = client.post("/skann", data={"offer_id": offer.id, "code": kid_card.short_code, "source": "typed"})
    assert r.status_code == 302
    green = client.get(r.headers["Location"])
    assert "Ja – gyldig kort" in green.text and "Sara" in green.text and "2014" in green.text
    bad = make_card(muni, users, "Ola")
    cards.revoke_card(bad, "lost", actor=users["caseworker"])
    red = client.post("/skann", data={"offer_id": offer.id, "code": bad.short_code, "source": "typed"})
    assert red.status_code == 422 and "Nei – ikke godkjent" in red.text and "Kortet er sperret." in red.text


def test_scanner_repeat_says_already_checked_in(client, login_as, offer, kid_card):
    login_as("partner")
    client.post("/skann", data={"offer_id": offer.id, "code": kid_card.short_code})
    r = client.post("/skann", data={"offer_id": offer.id, "code": kid_card.short_code})
    page = client.get(r.headers["Location"])
    assert "Allerede sjekket inn kl." in page.text


def test_companions_confirmed_after_scan(client, login_as, offer, kid_card):
    login_as("partner")
    r = client.post("/skann", data={"offer_id": offer.id, "code": kid_card.short_code})
    cid = int(r.headers["Location"].split("/")[-1].split("?")[0])
    assert client.post(f"/skann/resultat/{cid}/ledsagere", data={"companions": "1"}).status_code == 302
    assert db.session.get(CheckIn, cid).companions == 1
    client.post(f"/skann/resultat/{cid}/ledsagere", data={"companions": "4"})
    assert db.session.get(CheckIn, cid).companions == 1


def test_card_link_sends_logged_in_partner_to_confirmation(client, login_as, offer, kid_card):
    login_as("partner")
    r = client.get(f"/k/{kid_card.qr_token}")
    assert r.status_code == 302 and "/skann/kort/" in r.headers["Location"]
    confirm = client.get(r.headers["Location"])
    assert "Sara" in confirm.text
    done = client.post(r.headers["Location"], data={"companions": "0"})
    assert done.status_code == 302
    assert db.session.scalar(db.select(CheckIn)).source == "link"


@pytest.mark.parametrize("role", [None, "caseworker", "analyst"])
def test_card_link_is_neutral_for_everyone_else(client, login_as, kid_card, role):
    if role:
        login_as(role)
    r = client.get(f"/k/{kid_card.qr_token}")
    assert r.status_code == 200 and "Sara" not in r.text


def test_visit_log_and_statement_only_own(client, login_as, offer, kid_card, users, muni, other_partner_org):
    from ..conftest import login

    login_as("partner")
    client.post("/skann", data={"offer_id": offer.id, "code": kid_card.short_code})
    month = date.today().strftime("%Y-%m")
    assert "Fotball" in client.get(f"/besok/oppgjor?month={month}").text
    csv = client.get(f"/besok/oppgjor?month={month}&format=csv")
    assert csv.status_code == 200 and "Fotball;1" in csv.data.decode("utf-8-sig")
    assert client.get(f"/besok/oppgjor?month={month}&format=pdf").data.startswith(b"%PDF")
    other = create_staff_user("o@x.no", "gront eple 47", Role.PARTNER, municipality_id=muni.id,
                              partner_id=other_partner_org.id)
    login(client, other)
    assert "Fotball" not in client.get(f"/besok/oppgjor?month={month}&partner={offer.partner_id}").text
    login_as("admin")
    assert "Fotball" in client.get(f"/besok/oppgjor?month={month}&partner={offer.partner_id}").text


@pytest.mark.parametrize("role, status", [("caseworker", 200), ("admin", 200), ("partner", 403), ("volunteer", 403),
                                          ("analyst", 403)])
def test_follow_up_list_for_caseworkers_only(client, login_as, kid_card, role, status):
    login_as(role)
    assert client.get("/oppfolging?weeks=1").status_code == status


def test_openapi_document_is_valid(client):
    from openapi_spec_validator import validate

    doc = client.get("/api/v1/openapi.json").json
    validate(doc)
    assert "/checkins" in doc["paths"]


def test_card_link_without_a_chosen_offer_offers_them_with_one_tap(client, login_as, users, kid_card):
    """The phone's own camera opened the card's QR link before an offer was chosen: pick it right there."""
    from opplevelseskort.checkin.models import CheckIn
    from opplevelseskort.partners import services as partners

    from ..factories import offer_values

    swim = partners.save_offer(users["partner"], offer_values(title="Svømming"), {})
    dance = partners.save_offer(users["partner"], offer_values(title="Dans"), {})
    login_as("partner")
    page = client.get(f"/skann/kort/{kid_card.qr_token}")
    assert page.status_code == 200 and "Svømming" in page.text and "Dans" in page.text
    assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 0
    r = client.post(f"/skann/kort/{kid_card.qr_token}", data={"offer_id": dance.id})
    assert r.status_code == 302 and "/skann/resultat/" in r.headers["Location"]
    visit = db.session.scalar(db.select(CheckIn))
    assert visit.offer_id == dance.id
    # remembered for the next card
    with client.session_transaction() as sess:
        assert sess["scan_offer_id"] == dance.id
    _ = swim


def test_card_link_refuses_an_offer_of_another_partner(client, login_as, users, kid_card, other_partner_org):
    from opplevelseskort.checkin.models import CheckIn
    from opplevelseskort.partners import services as partners
    from opplevelseskort.partners.models import Offer, OfferStatus

    from ..factories import offer_values

    partners.save_offer(users["partner"], offer_values(title="A"), {})
    partners.save_offer(users["partner"], offer_values(title="B"), {})
    theirs = Offer(partner_id=other_partner_org.id, municipality_id=other_partner_org.municipality_id, title="C",
                   category="sport", age_min=0, age_max=25, start_date=offer_values()["start_date"],
                   end_date=offer_values()["end_date"], status=OfferStatus.PUBLISHED)
    db.session.add(theirs)
    db.session.flush()
    login_as("partner")
    r = client.post(f"/skann/kort/{kid_card.qr_token}", data={"offer_id": theirs.id})
    assert r.status_code == 200 and "Hvilket tilbud" in r.text
    assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 0
