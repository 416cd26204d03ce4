"""API tokens have scopes and an end: each token names what it may do and when it expires; a token without the
scope gets 403 naming the scope it lacks, as the OpenAPI document says; a token list per user with last use,
expiry and revoke."""

import pytest

from opplevelseskort.accounts import tokens as api_tokens
from opplevelseskort.accounts.models import ApiToken
from opplevelseskort.core.errors import DomainError
from opplevelseskort.core.models import AuditLog
from opplevelseskort.extensions import db
from opplevelseskort.partners import services as partners

from ..factories import make_card, offer_values


def _auth(raw):
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def door(users, muni, zone_set):
    offer = partners.save_offer(users["partner"], offer_values(), {})
    card = make_card(muni, users, "Sara")
    db.session.commit()
    return offer, card


def test_a_token_without_the_scope_gets_403_naming_it(client, users, door):
    offer, card = door
    _token, raw = api_tokens.create_token(users["partner"], "skanner", scopes=["cards:read"], days=30)
    db.session.commit()
    r = client.post("/api/v1/checkins", json={"offer_id": offer.id, "code": card.short_code}, headers=_auth(raw))
    assert r.status_code == 403 and r.json["error"] == "scope_missing" and r.json["scope"] == "checkin"
    assert client.get(f"/api/v1/cards/{card.short_code}", headers=_auth(raw)).status_code == 200
    _token, both = api_tokens.create_token(users["partner"], "dør", scopes=["checkin", "cards:read"], days=30)
    db.session.commit()
    r = client.post("/api/v1/checkins", json={"offer_id": offer.id, "code": card.short_code}, headers=_auth(both))
    assert r.status_code == 201


def test_a_token_stops_working_when_it_expires(client, users, door, frozen_clock):
    _offer, card = door
    _token, raw = api_tokens.create_token(users["partner"], "kort", scopes=["cards:read"], days=30)
    db.session.commit()
    assert client.get("/api/v1/me", headers=_auth(raw)).status_code == 200
    frozen_clock.move(days=29)
    assert client.get("/api/v1/me", headers=_auth(raw)).status_code == 200
    frozen_clock.move(days=2)
    r = client.get("/api/v1/me", headers=_auth(raw))
    assert r.status_code == 401


def test_scopes_stay_within_the_role_and_lifetimes_are_chosen(users):
    with pytest.raises(DomainError) as exc:
        api_tokens.create_token(users["volunteer"], "x", scopes=["reports"])
    assert exc.value.code == "token_invalid" and "scopes" in exc.value.details["fields"]
    with pytest.raises(DomainError) as exc:
        api_tokens.create_token(users["volunteer"], "x", scopes=["loans"], days=10_000)
    assert "days" in exc.value.details["fields"]
    token, _raw = api_tokens.create_token(users["admin"], "alt")
    assert token.scopes == ["checkin", "cards:read", "loans", "reports"]
    entry = db.session.scalar(db.select(AuditLog).filter_by(action="token.create", object_id=str(token.id)))
    assert entry.details["scopes"] == token.scopes and entry.details["days"] == 90


def test_the_token_page_makes_scoped_tokens_and_lists_them(client, login_as, users):
    login_as("partner")
    page = client.get("/api-nokler").text
    assert 'value="checkin"' in page and 'value="cards:read"' in page and 'value="reports"' not in page
    r = client.post("/api-nokler", data={"name": "Resepsjonen", "scopes": ["cards:read"], "days": "30"})
    assert r.status_code == 200 and "Kopier nøkkelen nå" in r.text
    listed = r.text.split("Dine nøkler", 1)[1]
    assert "Resepsjonen" in listed and "Se om et kort gjelder" in listed and "Sjekke inn kort" not in listed
    refused = client.post("/api-nokler", data={"name": "Alt", "scopes": ["reports"], "days": "30"})
    assert refused.status_code == 422 and 'id="scopes-error"' in refused.text
    token = db.session.scalar(db.select(ApiToken).filter_by(name="Resepsjonen"))
    assert client.post(f"/api-nokler/{token.id}/trekk-tilbake").status_code == 302
    assert "Trukket tilbake" in client.get("/api-nokler").text


def test_the_openapi_document_names_each_endpoints_scope(client):
    doc = client.get("/api/v1/openapi.json").json
    wanted = {("/checkins", "post"): "checkin", ("/cards/{code}", "get"): "cards:read", ("/loans", "post"): "loans",
              ("/loans/{loan_id}/return", "post"): "loans", ("/reports/uptake", "get"): "reports"}
    for (path, method), scope in wanted.items():
        item = doc["paths"][path][method]
        assert item["security"] == [{"bearer": [scope]}] and item["x-required-scope"] == scope
        assert "scope_missing" in str(item["responses"]["403"])
    assert "security" not in doc["paths"]["/me"]["get"]  # any valid token
