"""Registering households, issuing, renewing, replacing and revoking cards."""

from datetime import date

import pytest

from opplevelseskort.cards import codes, households, services
from opplevelseskort.cards.models import Card, CardStatus, Child, Guardian, Household, RevokeReason
from opplevelseskort.core.errors import Conflict, DomainError, NotFound
from opplevelseskort.core.models import AuditLog, OutboxMessage
from opplevelseskort.extensions import db

from ..factories import child_input, guardian_input


def _count(model):
    return db.session.scalar(db.select(db.func.count(model.id)))


def test_household_registration_stores_only_what_the_scheme_needs(household):
    child = household.children[0]
    assert child.zone.code == "30010101" and child.channel == "nav" and child.confirmed_by.email == "caseworker@test.no"
    columns = {c.name for c in Child.__table__.columns} | {c.name for c in Guardian.__table__.columns}
    for forbidden in ("national_id", "fodselsnummer", "income", "benefit", "case_notes", "address"):
        assert not any(forbidden in c for c in columns)
    assert household.guardians[0].phone == "+4791234567"


def test_zone_can_be_picked_by_name(muni, zone_set, users):
    h = households.register_household(muni, [guardian_input()], [child_input(zone="bakken")], actor=users["caseworker"])
    assert h.children[0].zone.code == "30010102"


@pytest.mark.parametrize("kw, fragment", [
    ({"zone": "99999999"}, "Ukjent sone"),
    ({"confirmed": False}, "bekreft"),
    ({"birth_year": 1950}, "fødselsåret"),
    ({"eligible_until": date(2025, 1, 1)}, "slutter før"),
    ({"given_name": ""}, "fornavn mangler"),
])
def test_bad_child_input_writes_nothing(muni, zone_set, users, kw, fragment):
    with pytest.raises(DomainError) as exc:
        households.register_household(muni, [guardian_input()], [child_input(**kw)], actor=users["caseworker"])
    assert fragment in exc.value.message
    assert _count(Household) == 0 and _count(Child) == 0


@pytest.mark.parametrize("kw, fragment", [
    ({"phone": "12ab"}, "telefonnummer"),
    ({"email": "not-an-email", "phone": None}, "e-postadresse"),
    ({"email": None, "phone": None}, "telefon eller e-post"),
])
def test_bad_guardian_contact_writes_nothing(muni, zone_set, users, kw, fragment):
    with pytest.raises(DomainError) as exc:
        households.register_household(muni, [guardian_input(**kw)], [child_input()], actor=users["caseworker"])
    assert fragment in exc.value.message
    assert _count(Household) == 0


def test_issue_card_defaults_to_eligibility_period_and_one_companion(child, users):
    card = services.issue_card(child, actor=users["caseworker"], valid_from=date(2026, 1, 1))
    assert card.valid_until == date(2026, 12, 31) and card.companions == 1
    assert codes.is_valid_short_code(card.short_code)
    assert card.qr_token != card.family_token


def test_second_active_card_is_refused(card, child, users):
    with pytest.raises(Conflict) as exc:
        services.issue_card(child, actor=users["caseworker"])
    assert exc.value.code == "card_active_exists"


def test_database_refuses_second_active_card_even_without_the_service(card, child):
    from sqlalchemy.exc import IntegrityError

    dup = Card(child_id=child.id, municipality_id=child.municipality_id, qr_token=codes.new_token(),
               short_code=codes.new_short_code(), family_token=codes.new_token(), valid_from=date(2026, 1, 1),
               valid_until=date(2026, 2, 1), companions=1)
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(dup)
            db.session.flush()


def test_status_is_derived_from_dates(card):
    assert services.card_status(card, date(2025, 12, 31)) == CardStatus.NOT_YET_VALID
    assert services.card_status(card, date(2026, 6, 1)) == CardStatus.ACTIVE
    assert services.card_status(card, date(2027, 1, 1)) == CardStatus.EXPIRED


@pytest.mark.parametrize("on, code", [(date(2027, 1, 1), "card_expired"), (date(2025, 6, 1), "card_not_yet_valid")])
def test_assert_valid_gives_stable_codes(card, on, code):
    with pytest.raises(DomainError) as exc:
        services.assert_card_valid(card, on)
    assert exc.value.code == code


def test_revoked_code_never_works_again(card, users):
    services.revoke_card(card, RevokeReason.MISUSE, actor=users["caseworker"])
    with pytest.raises(DomainError) as exc:
        services.assert_card_valid(services.lookup_card(card.short_code), date(2026, 6, 1))
    assert exc.value.code == "card_revoked"


def test_replace_lost_card_revokes_old_and_links_new(card, users):
    new = services.replace_lost_card(card, actor=users["caseworker"])
    assert card.revoked_reason == RevokeReason.LOST and card.revoked_at is not None
    assert new.replaces_id == card.id and new.valid_until == card.valid_until
    assert new.short_code != card.short_code and new.qr_token != card.qr_token


def test_renew_extends_validity(card, users):
    services.renew_card(card, date(2027, 6, 30), actor=users["caseworker"])
    assert card.valid_until == date(2027, 6, 30) and card.child.eligible_until == date(2027, 6, 30)
    with pytest.raises(DomainError):
        services.renew_card(card, date(2027, 1, 1), actor=users["caseworker"])


def test_lookup_accepts_url_token_and_short_code(card):
    assert services.lookup_card(f"https://kort.example/k/{card.qr_token}") is card
    assert services.lookup_card(card.qr_token) is card
    assert services.lookup_card(codes.format_short_code(card.short_code).lower()) is card


@pytest.mark.parametrize("bad", ["", "hello", "https://x/k/short", "AAAAAAAAA"])
def test_unknown_or_mistyped_codes_are_card_unknown(card, bad):
    with pytest.raises(NotFound) as exc:
        services.lookup_card(bad)
    assert exc.value.code == "card_unknown"


def test_truncated_qr_token_is_unknown(card):
    with pytest.raises(NotFound):
        services.lookup_card(card.qr_token[:-3])


def test_family_token_does_not_work_as_card_code(card):
    with pytest.raises(NotFound):
        services.lookup_card(card.family_token)


def test_child_age_uses_birth_month():
    c = Child(birth_year=2014, birth_month=5)
    assert services.child_age(c, date(2026, 4, 30)) == 11
    assert services.child_age(c, date(2026, 5, 1)) == 12


def test_send_link_queues_email_and_sms_in_guardians_language(card, users, household):
    household.guardians[0].preferred_language = "en"
    n = services.send_card_link(card, actor=users["caseworker"])
    assert n == 2
    msgs = list(db.session.scalars(db.select(OutboxMessage)))
    assert {m.channel for m in msgs} == {"email", "sms"}
    assert all(card.family_token in m.body and m.locale == "en" for m in msgs)
    assert all(card.qr_token not in m.body for m in msgs)


def test_changes_are_audited(card, users):
    services.revoke_card(card, "lost", actor=users["caseworker"])
    actions = set(db.session.scalars(db.select(AuditLog.action)))
    assert {"household.create", "child.create", "card.issue", "card.revoke"} <= actions


def test_children_are_found_by_a_guardians_phone_and_email(client, login_as, muni, zone_set, users):
    from ..factories import household

    h = household(muni, users, given_name="Aksel", family_name="Berg")
    login_as("caseworker")
    for q in ("912 34 567", "+4791234567", "KARI@example.org", "aksel berg"):
        page = client.get("/barn", query_string={"q": q}).text
        assert f'/husstand/{h.id}"' in page, q
    assert f'/husstand/{h.id}"' not in client.get("/barn", query_string={"q": "98765432"}).text
