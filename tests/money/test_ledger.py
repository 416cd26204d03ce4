"""Activity money (issue 40, items 1-5): grants without applications, a double-entry ledger whose invariants the
database holds, the register of providers, reserve/settle/release, and no overspend under concurrency. After every
scenario the books are checked (tests/money/conftest.py: legs sum to zero, kept balances equal their legs, and
bean-check accepts the export)."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from opplevelseskort.core.errors import Conflict, DomainError, PermissionDenied
from opplevelseskort.extensions import db
from opplevelseskort.money import ledger, services
from opplevelseskort.money.models import Account, AccountKind, Leg, MoneyReservationStatus, Transfer
from opplevelseskort.partners import services as partners

from ..factories import make_card, offer_values
from .conftest import BANK_ACCOUNT, check


def _child_account(card) -> Account:
    return db.session.scalar(sa.select(Account).where(Account.kind == AccountKind.CHILD,
                                                      Account.child_id == card.child_id))


def test_every_child_in_scope_is_granted_once_per_period_with_the_zones_top_up(muni, users, zone_set):
    from opplevelseskort.zones.models import Zone

    low_reach = db.session.scalar(sa.select(Zone).where(Zone.code == "30010101"))
    scheme = services.create_scheme(muni, services.SchemeInput("Fritidskortet", 100_000, age_min=6, age_max=17,
                                                               topup_ore=50_000, topup_zone_ids=(low_reach.id,)),
                                    actor=users["admin"])
    sara = make_card(muni, users, "Sara", birth_year=2014)  # in 30010101 (the factory's zone)
    make_card(muni, users, "Baby", birth_year=2024)  # too young for the scheme
    assert services.grant(scheme, on=date(2026, 3, 1)) == 1
    assert services.grant(scheme, on=date(2026, 3, 2)) == 0  # once per child, scheme and period
    account = _child_account(sara)
    assert (account.balance, account.period, account.period_end) == (150_000, "2026", date(2026, 12, 31))
    assert services.available(sara.child_id, date(2026, 3, 1)) == 150_000
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():  # the database holds "once"
        db.session.add(Account(municipality_id=muni.id, kind=AccountKind.CHILD, scheme_id=scheme.id,
                               child_id=sara.child_id, period="2026", balance=0, reserved=0))
        db.session.flush()


def test_reserve_settle_for_less_release_void_and_each_reservation_resolves_once(scheme, kid, priced):
    services.grant(scheme)
    first = services.reserve(kid.child_id, priced, 30_000)
    assert services.available(kid.child_id) == 70_000  # available = balance less reservations
    services.settle(first.id, 20_000)  # delivered for less: the rest is the child's again
    assert services.available(kid.child_id) == 80_000 and first.status == MoneyReservationStatus.SETTLED
    with pytest.raises(Conflict):
        services.settle(first.id)
    with pytest.raises(Conflict):
        services.void(first.id)
    second = services.reserve(kid.child_id, priced, 10_000)
    services.void(second.id)
    assert services.available(kid.child_id) == 80_000
    with pytest.raises(ledger.NotEnoughMoney):
        services.reserve(kid.child_id, priced, 80_001)
    payable = db.session.scalar(sa.select(Account).where(Account.kind == AccountKind.PAYABLE))
    assert payable.balance == 20_000


def test_a_visit_settles_the_childs_reservation_and_the_schedule_voids_an_old_one(scheme, kid, priced, users):
    from opplevelseskort.checkin import services as checkin

    services.grant(scheme)
    held = services.reserve(kid.child_id, priced, 10_000)
    visit = checkin.record_checkin(kid.short_code, priced, actor=users["partner"])
    assert visit.created and db.session.get(type(held), held.id).status == MoneyReservationStatus.SETTLED
    stale = services.reserve(kid.child_id, priced, 5_000)
    assert services.expire_reservations(on=stale.expires_on) == 0
    assert services.expire_reservations(on=stale.expires_on + timedelta(days=1)) == 1
    assert services.available(kid.child_id) == 90_000


def test_money_lapses_at_the_periods_end_by_a_transfer_and_the_account_closes_at_zero(scheme, kid, priced):
    services.grant(scheme, on=date(2026, 3, 1))
    held = services.reserve(kid.child_id, priced, 10_000)
    assert services.lapse(on=date(2027, 1, 1)) == 0  # a reservation still open: the account waits
    services.void(held.id)
    assert services.lapse(on=date(2027, 1, 1)) == 1
    account = _child_account(kid)
    assert account.balance == 0 and account.closed_at is not None
    lapsed = db.session.scalar(sa.select(Account).where(Account.kind == AccountKind.LAPSED))
    assert lapsed.balance == 100_000
    assert services.lapse(on=date(2027, 1, 2)) == 0


def test_top_ups_and_corrections_are_transfers_of_their_own_with_a_reason(scheme, kid, users):
    services.grant(scheme)
    account = _child_account(kid)
    services.adjust(account, 25_000, "Søsken i samme klubb", actor=users["admin"])
    services.adjust(account, -5_000, "Feil beløp", actor=users["admin"])
    assert account.balance == 120_000
    with pytest.raises(DomainError) as exc:
        services.adjust(account, 1_000, " ", actor=users["admin"])
    assert exc.value.code == "reason_required"
    with pytest.raises(ledger.NotEnoughMoney):
        services.adjust(account, -200_000, "For mye", actor=users["admin"])
    kinds = db.session.scalars(sa.select(Transfer.kind).order_by(Transfer.id)).all()
    assert [str(k) for k in kinds] == ["grant", "topup", "correction"]


def test_the_database_refuses_what_the_books_must_never_hold(muni, scheme, kid):
    services.grant(scheme)
    account = _child_account(kid)
    for statement in (sa.update(Account).where(Account.id == account.id).values(balance=-1),
                      sa.update(Account).where(Account.id == account.id).values(reserved=account.balance + 1),
                      sa.update(Account).where(Account.id == account.id).values(closed_at=sa.func.now())):
        with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
            db.session.execute(statement)
    transfer_id = db.session.scalar(sa.select(Transfer.id))
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(Leg(transfer_id=transfer_id, account_id=account.id, debit=True, amount=0))
        db.session.flush()
    db.session.expire_all()


@pytest.mark.pg
def test_postgresql_holds_balanced_transfers_and_immutable_postings(muni, scheme, kid):
    services.grant(scheme)
    leg = db.session.scalar(sa.select(Leg))
    for statement in (sa.update(Leg).where(Leg.id == leg.id).values(amount=leg.amount + 1),
                      sa.delete(Leg).where(Leg.id == leg.id),
                      sa.update(Transfer).values(memo="changed")):
        with pytest.raises(sa.exc.DBAPIError, match="never changed"), db.session.begin_nested():
            db.session.execute(statement)
    account = _child_account(kid)
    with pytest.raises(sa.exc.DBAPIError, match="does not balance"), db.session.begin_nested():
        transfer = Transfer(municipality_id=muni.id, kind="correction", memo="one-legged")
        db.session.add(transfer)
        db.session.flush()
        db.session.add(Leg(transfer_id=transfer.id, account_id=account.id, debit=False, amount=100))
        db.session.flush()
        db.session.execute(sa.text("SET CONSTRAINTS ledger_leg_balanced IMMEDIATE"))  # what COMMIT would check
    db.session.execute(sa.text("SET CONSTRAINTS ledger_leg_balanced IMMEDIATE"))  # the real ones balance
    db.session.execute(sa.text("SET CONSTRAINTS ledger_leg_balanced DEFERRED"))
    db.session.expire_all()


def test_only_a_registered_partner_takes_money_and_a_registration_is_checked(users, partner_org, scheme, kid):
    offer = partners.save_offer(users["partner"], offer_values(price_nok=100), {})
    services.grant(scheme)
    with pytest.raises(PermissionDenied):
        services.reserve(kid.child_id, offer, 10_000)
    with pytest.raises(DomainError) as exc:
        services.register_partner(partner_org, org_number="123456789", account_number="12345678901",
                                  contact_email="nobody", repayment_accepted=False, actor=users["admin"])
    assert len(exc.value.details["errors"]) == 4  # every problem named at once
    services.register_partner(partner_org, org_number=partner_org.org_number, account_number=BANK_ACCOUNT,
                              contact_email="kasserer@klubb.no", repayment_accepted=True, actor=users["admin"])
    assert services.reserve(kid.child_id, offer, 10_000).amount == 10_000
    services.suspend_registration(partner_org, actor=users["admin"])
    with pytest.raises(PermissionDenied):
        services.reserve(kid.child_id, offer, 10_000)


@pytest.mark.parametrize(("number", "valid"), [("86011117947", True), ("86011117948", False), ("8601111794", False),
                                               ("1234.56.78903", True)])
def test_account_numbers_are_checked_with_modulus_11(number, valid):
    assert services.valid_account_number(number) is valid


@pytest.mark.pg
def test_twenty_parallel_reservations_of_100_kr_on_1000_kr_exactly_ten_succeed(app, committing, muni, users,
                                                                              partner_org, zone_set, tmp_path):
    scheme = services.create_scheme(muni, services.SchemeInput("Fritidskortet", 100_000), actor=users["admin"])
    services.register_partner(partner_org, org_number=partner_org.org_number, account_number=BANK_ACCOUNT,
                              contact_email="kasserer@klubb.no", repayment_accepted=True, actor=users["admin"])
    offer = partners.save_offer(users["partner"], offer_values(price_nok=100), {})
    card = make_card(muni, users, "Sara", birth_year=2014)
    services.grant(scheme)
    db.session.commit()
    child_id, offer_id = card.child_id, offer.id
    barrier, outcomes = threading.Barrier(20), []

    def run():
        with app.app_context():
            from opplevelseskort.partners.models import Offer

            barrier.wait()
            try:
                services.reserve(child_id, db.session.get(Offer, offer_id), 10_000)
                db.session.commit()
                outcomes.append("ok")
            except ledger.NotEnoughMoney:
                db.session.rollback()
                outcomes.append("not_enough_money")
            except Exception as exc:  # noqa: BLE001 - anything else is the failure this test looks for
                db.session.rollback()
                outcomes.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["not_enough_money"] * 10 + ["ok"] * 10, outcomes
    db.session.expire_all()
    account = _child_account(card)
    assert (account.balance, account.reserved) == (100_000, 100_000)
    check(muni, tmp_path)


@pytest.mark.sqlite  # the SQLite pass; PostgreSQL runs the parallel one above
def test_reservations_one_after_another_stop_at_the_balance(scheme, kid, priced):
    services.grant(scheme)
    results = []
    for _ in range(12):
        try:
            services.reserve(kid.child_id, priced, 10_000)
            results.append("ok")
        except ledger.NotEnoughMoney:
            results.append("not_enough_money")
    assert results == ["ok"] * 10 + ["not_enough_money"] * 2
