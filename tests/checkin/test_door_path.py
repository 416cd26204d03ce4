"""The door's path, readable and lean (issue 38): what it reads is a named `DoorOffer` that carries the offer's day
and whom its access was checked for, what it writes comes back as a named `Visit`, values are passed rather than
left in request-scoped memos for another part to find, and a check-in costs one rate-limiter round-trip."""

from pathlib import Path
from unittest import mock

import opplevelseskort
from opplevelseskort.checkin import services
from opplevelseskort.extensions import db
from opplevelseskort.partners import services as partners

from .conftest import bearer


def test_the_door_offer_carries_its_day_and_the_check_made_for_its_reader(app, users, offer, kid_card):
    door = services.get_offer_for(users["partner"], offer.id)
    assert isinstance(door, services.DoorOffer) and door.checked_for == users["partner"].id
    assert isinstance(door.day, partners.OfferDay) and door.day.dated is False
    with mock.patch.object(partners, "partner_id_of", side_effect=AssertionError("asked again")), \
            mock.patch.object(partners, "offer_day", wraps=partners.offer_day) as day:
        result = services.record_checkin(kid_card.short_code, door, actor=users["partner"])
    assert result.created and all(call.args[2] is door.day for call in day.call_args_list)
    assert isinstance(result.visit, services.Visit) and result.visit.offer_id == offer.id
    assert result.checkin.id == result.visit.id and db.session.get(type(result.checkin), result.visit.id) is not None


def test_a_door_offer_read_for_one_partner_user_is_checked_again_for_another(app, users, offer, kid_card, muni,
                                                                            other_partner_org):
    import pytest

    from opplevelseskort.core.errors import PermissionDenied

    door = services.get_offer_for(users["partner"], offer.id)
    other = partners.create_staff_user("p9@test.no", "gront eple 47", "partner", municipality_id=muni.id,
                                       partner_id=other_partner_org.id)
    with pytest.raises(PermissionDenied):
        services.record_checkin(kid_card.short_code, door, actor=other)


def test_no_part_leaves_a_request_scoped_memo_for_another(app):
    """Request memos filled by one part and read by another are gone: values are passed. A part may keep its own
    (partners remembers a user's partner for the request): each memo's key is named in one module only, and the
    check-in part tells partners nothing to remember."""
    import re

    root = Path(opplevelseskort.__file__).parent
    keys: dict[str, set[str]] = {}
    for p in root.rglob("*.py"):
        for key in re.findall(r"request\.environ\.(?:setdefault|get)\(\"([^\"]+)\"", p.read_text()):
            keys.setdefault(key, set()).add(str(p.relative_to(root)))
    assert keys == {"opplevelseskort.partners.partner_of": {"partners/services.py"}}
    assert "remember_" not in (root / "checkin" / "services.py").read_text()


def test_an_api_check_in_costs_one_rate_limiter_round_trip(make_app, users, offer, kid_card, token):
    """The user's budget is the one counted (their tokens and sessions together): one hit per look-up."""
    from limits.strategies import FixedWindowRateLimiter

    app = make_app(RATELIMIT_ENABLED=True, CARD_LOOKUP_RATE_LIMIT="100 per minute")
    client = app.test_client()
    with mock.patch.object(FixedWindowRateLimiter, "hit", autospec=True, return_value=True) as hit:
        r = client.post("/api/v1/checkins", json={"code": kid_card.short_code, "offer_id": offer.id},
                        headers=bearer(token))
    assert r.status_code == 201
    card_hits = [c for c in hit.call_args_list if c.args[2] == "card-lookup"]
    assert len(card_hits) == 1 and card_hits[0].args[3] == f"user:{users['partner'].id}"


def test_a_users_token_and_session_share_one_card_lookup_budget(make_app, users, offer, kid_card, token):
    from ..conftest import login

    app = make_app(RATELIMIT_ENABLED=True, CARD_LOOKUP_RATE_LIMIT="2 per minute")
    client = app.test_client()
    assert client.get(f"/api/v1/cards/{kid_card.short_code}", headers=bearer(token)).status_code == 200
    browser = login(app.test_client(), users["partner"])
    browser.post("/skann", data={"offer_id": offer.id, "code": kid_card.short_code, "source": "typed"})
    assert client.get(f"/api/v1/cards/{kid_card.short_code}", headers=bearer(token)).status_code == 429
