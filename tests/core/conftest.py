"""Shared by the tenancy sweep and the fuzz test: a populated municipality A, outsiders, and every URL of the
app filled in with A's ids."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from opplevelseskort.accounts import tokens as api_tokens
from opplevelseskort.cards import applications, households, signing
from opplevelseskort.cards import services as cards
from opplevelseskort.checkin import services as checkin
from opplevelseskort.core.models import Role
from opplevelseskort.extensions import db
from opplevelseskort.partners import bookings
from opplevelseskort.partners import services as partners
from opplevelseskort.partners.models import Partner, PartnerStatus
from opplevelseskort.partners.services import create_staff_user

from ..conftest import PASSWORD
from ..factories import child_input, guardian_input, offer_values

MARKERS = ("Hemmeligsen", "99887766", "kontakt@klubb-a.no", "Lånerhemmelig", "foresatt-a@example.org")
VOLATILE = {("user_account", "last_login_at"), ("api_token", "last_used_at")}
SKIP = {"static", "accounts.login", "accounts.logout", "core.set_language",
        # The family's secret link is the family's key: whoever holds it acts for the family, by design.
        "portal.family_card", "portal.family_card_qr", "portal.family_card_pdf", "portal.family_book",
        "portal.family_cancel"}
# Endpoints that create the caller's own data (a token of one's own, a lending location of one's own
# municipality): the change itself is not a leak; markers and audit rows about A are still checked.
# "reports.refresh" queues a rebuild of the caller's own municipality's figures (a job_run row of B, not of A)
OWN_WRITES = {"accounts.tokens", "utstyr.locations", "/mine-tilbud/ny", "reports.refresh"}
# A partner of the same municipality may look a card up (to check it in at its own offers).
SAME_MUNICIPALITY_OK = {("partner-A2", "api.card_validity")}


@pytest.fixture
def world(muni, other_muni, zone_set, users, partner_org, other_partner_org):
    from utstyr import reservations
    from utstyr import services as utstyr
    from utstyr.models import ItemType, Location

    partner_org.contact_email = "kontakt@klubb-a.no"
    h = households.register_household(muni, [guardian_input(phone="99887766", email="foresatt-a@example.org")],
                                 [child_input(given_name="Hemmeligsen")], actor=users["caseworker"])
    card = cards.issue_card(h.children[0], actor=users["caseworker"], valid_from=date(2026, 1, 1),
                            valid_until=date(2030, 12, 31))
    offer = partners.save_offer(users["partner"], offer_values(requires_booking=False), {})
    start = datetime.now(UTC) + timedelta(days=3)
    occ = partners.add_occasion(offer, start, start + timedelta(hours=2), 5, actor=users["partner"])
    booking = bookings.book(occ, card, actor=None)
    drop_in = partners.save_offer(users["partner"], offer_values(title="Svømming"), {})
    visit = checkin.record_checkin(card.short_code, drop_in, actor=users["partner"]).checkin
    appl = applications.submit_application(muni, guardian_input(name="Søker A"), [
        {"given_name": "Hemmeligsen", "family_name": "A", "birth_year": 2015, "birth_month": 3, "zone": "30010101"}],
        consent=True)
    loc = Location(municipality_id=muni.id, name="Sentralen A")
    loc.volunteers.append(users["volunteer"])
    skis = ItemType(municipality_id=muni.id, name="Ski", category="ski", size="130 cm", default_loan_days=7)
    db.session.add_all([loc, skis])
    db.session.flush()
    units = utstyr.add_units(skis, loc, 2)
    borrower = utstyr.register_borrower(muni.id, kind="adult", name="Lånerhemmelig", phone="41414141")
    loan = utstyr.checkout(loc, borrower, [units[0].label_code], volunteer=users["volunteer"])
    reservation = reservations.reserve(loc, borrower, skis, 1, date.today() + timedelta(days=10),
                                 date.today() + timedelta(days=11), actor=users["volunteer"])
    token = api_tokens.create_token(users["caseworker"], "a")[0]
    from opplevelseskort.core.models import JobRun, JobStatus

    job = JobRun(kind="household_import", actor_id=users["caseworker"].id, municipality_id=muni.id,
                 status=JobStatus.FAILED, params={"upload": "x", "dry_run": True}, errors=["Linje 2: Hemmeligsen"])
    db.session.add(job)
    from opplevelseskort.core import outbox as core_outbox
    from opplevelseskort.core.models import OutboxStatus

    message = core_outbox.enqueue("sms", "99887766", "", "Lenken til kortet", ref=f"card:{card.id}")
    message.status = OutboxStatus.UNCERTAIN

    partner_b = Partner(municipality_id=other_muni.id, name="Klubb B", org_number="910000001",
                        status=PartnerStatus.APPROVED)
    db.session.add(partner_b)
    db.session.flush()
    outsiders = {}
    for role in Role:
        outsiders[f"{role.value}-B"] = create_staff_user(
            f"{role.value}-b@test.no", PASSWORD, role, municipality_id=other_muni.id,
            partner_id=partner_b.id if role == Role.PARTNER else None)
    outsiders["partner-A2"] = create_staff_user("partner-a2@test.no", PASSWORD, Role.PARTNER, municipality_id=muni.id,
                                                partner_id=other_partner_org.id)
    from opplevelseskort.money.models import Settlement

    settlement = Settlement(municipality_id=muni.id, partner_id=partner_org.id, month="2026-01", status="draft",
                            total_ore=0)
    db.session.add(settlement)
    db.session.flush()
    from opplevelseskort.money import services as money

    scheme = money.create_scheme(muni, money.SchemeInput("Aktivitetspenger", 50_000), actor=users["admin"])
    from opplevelseskort.wishes import calls as wish_calls
    from opplevelseskort.wishes import services as wishes

    wish_round = wishes.open_round(muni, wishes.RoundInput("Ønsker", date.today(), date.today() + timedelta(days=9)),
                                   actor=users["admin"])
    wish_class = wishes.add_class(wish_round, school="Byskolen", name="5B", grade_band="5-7",
                                  zone_id=zone_set["30010101"].id, pupils=2, languages=["ar"], actor=users["admin"])
    wish_call = wish_calls.create_call(wish_round, activity="climbing", zone_id=zone_set["30010101"].id,
                                       grade_band="5-7", times=[], text="", actor=users["admin"])
    ids = {"user_id": users["caseworker"].id, "settlement_id": settlement.id, "scheme_id": scheme.id,
           "round_id": wish_round.id, "class_id": wish_class.id, "call_id": wish_call.id, "answer_id": 2**31 - 3,
           "zone_id": zone_set["30010101"].id,
           "partner_id": partner_org.id,
           "offer_id": offer.id, "occasion_id": occ.id, "booking_id": booking.id, "checkin_id": visit.id,
           "card_id": card.id, "household_id": h.id, "child_id": h.children[0].id, "app_id": appl.id,
           "token_id": token.id, "unit_id": units[0].id, "borrower_id": borrower.id, "type_id": skis.id,
           "loan_id": loan.id, "location_id": loc.id, "reservation_id": reservation.id,
           "run_id": job.id, "message_id": message.id, "passkey_id": 2**31 - 2}
    strings = {"token": card.family_token, "code": card.short_code, "filename": "css/app.css", "name": "entra",
               "municipality": muni.number, "collection_id": "opptak-2026-grunnkrets", "feature_id": "30010101",
               "number": muni.number, "kid": signing.rotate_key(muni).kid, "device_id": "device-1",
               "pass_type_id": "pass.no.test", "serial": "serial-1", "year": "2026", "verdict": "godkjenn"}
    form = {"reason": "x", "card_code": card.short_code, "code": card.short_code, "companions": "0",
            "borrower_id": str(borrower.id), "unit_codes": units[1].label_code, "unit_code": units[0].label_code,
            "offer_id": str(offer.id), "location": str(loc.id), "item_type_id": str(skis.id), "quantity": "1",
            "date_from": (date.today() + timedelta(days=1)).isoformat(),
            "date_to": (date.today() + timedelta(days=2)).isoformat(), "condition": "good", "valid_until": "2031-01-01",
            "revoke_reason": "lost", "name": "Endret", "role": "admin", "active": "y", "municipality_id": "0",
            "title": "Endret", "category": "sport", "age_min": "0", "age_max": "18", "start_date": "2026-01-01",
            "end_date": "2030-12-31", "status": "published", "use_limit_period": "period", "level": "grunnkrets",
            "decision": "approve", "eligible_from": "2026-01-01", "eligible_until": "2026-12-31",
            "starts_at": "2031-01-01T10:00", "ends_at": "2031-01-01T12:00", "capacity": "3"}
    return {"ids": ids, "strings": strings, "form": form, "outsiders": outsiders, "muni": muni}


def snapshot():
    out = {}
    for table in db.metadata.sorted_tables:
        if table.name == "audit_log":
            continue
        cols = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
        rows = db.session.execute(sa.select(*cols).order_by(*table.primary_key.columns)).all()
        out[table.name] = [tuple(map(repr, r)) for r in rows]
    return out


ACTIONS = {"partners.partner_action": ["godkjenn", "avvis", "suspender"],
           "utstyr.unit_action": ["sjekket", "reparert", "kasser"]}


def all_urls(app, world, skip=SKIP):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in skip:
            continue
        for action in ACTIONS.get(rule.endpoint, [None]):
            values = {}
            for arg in rule.arguments:
                if arg == "action":
                    values[arg] = action
                elif arg in world["ids"]:
                    values[arg] = world["ids"][arg]
                else:
                    values[arg] = world["strings"][arg]
            url = rule.rule
            for arg, value in values.items():
                url = re.sub(rf"<(?:[a-z]+:)?{arg}>", str(value), url)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule.endpoint, method, url


