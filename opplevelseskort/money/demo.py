"""Demo activity money: the demo municipality's scheme (1,000 kr a year for children 6-17, 500 kr more in three
zones), granted to every card holder through the grant run; the partners with valid numbers on the register; some
bookings' worth of reservations, most of them settled (the partners are owed), a few voided. Seeded; running it
again adds nothing."""

from __future__ import annotations

import random

import sqlalchemy as sa

from ..accounts.models import User
from ..core.clock import today
from ..core.models import Municipality, Role
from ..core.validation import valid_org_number
from ..demo import DEMO_SEED
from ..extensions import db
from ..partners.models import Offer, OfferStatus, Partner
from ..zones.models import Zone
from . import services, settlements
from .models import Account, AccountKind, MoneyRegistration, Scheme

DEMO_ACCOUNT = "86011117947"
DEMO_MUNICIPALITY_ORG = "964338531"  # a number with a valid check digit: the buyer on the demo's EHF invoices
SCHEME_NAME = "Aktivitetspenger"


def demo_money(muni: Municipality, *, small: bool = False) -> dict[str, int]:
    if db.session.scalar(sa.select(Scheme.id).where(Scheme.municipality_id == muni.id)):
        return {}
    rng = random.Random(DEMO_SEED + 40)
    muni.org_number = muni.org_number or DEMO_MUNICIPALITY_ORG
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@demo.no"))
    zones = db.session.scalars(sa.select(Zone.id).where(Zone.municipality_id == muni.id, Zone.level == "grunnkrets")
                               .order_by(Zone.code)).all()
    scheme = services.create_scheme(muni, services.SchemeInput(
        SCHEME_NAME, 100_000, age_min=6, age_max=17, topup_ore=50_000,
        topup_zone_ids=tuple(rng.sample(list(zones), min(3, len(zones))))), actor=admin)
    partners = db.session.scalars(sa.select(Partner).where(Partner.municipality_id == muni.id).order_by(Partner.id)).all()
    for partner in partners:
        if valid_org_number(partner.org_number) and not db.session.scalar(
                sa.select(MoneyRegistration.id).where(MoneyRegistration.partner_id == partner.id)):
            services.register_partner(partner, org_number=partner.org_number, account_number=DEMO_ACCOUNT,
                                      contact_email=f"okonomi{partner.id}@demo.no", repayment_accepted=True,
                                      actor=admin)
    granted = services.grant(scheme, actor=admin)
    priced = [o for o in db.session.scalars(sa.select(Offer).where(Offer.status == OfferStatus.PUBLISHED,
                                                                   Offer.price_nok > 0).order_by(Offer.id))
              if services.takes_money(o.partner_id)]
    children = db.session.scalars(sa.select(Account.child_id).where(Account.kind == AccountKind.CHILD,
                                                                    Account.scheme_id == scheme.id)
                                  .order_by(Account.child_id)).all()
    reservations = settled = 0
    for child_id in rng.sample(list(children), min(len(children), 12 if small else 160)) if priced else []:
        offer = rng.choice(priced)
        if services.available(child_id) < offer.price_nok * 100:
            continue  # more than the child has: no booking
        held = services.reserve(child_id, offer, offer.price_nok * 100)
        reservations += 1
        roll = rng.random()
        if roll < 0.7:  # the child came: the partner is owed (a fifth of them delivered for less)
            services.settle(held.id, held.amount * 3 // 4 if roll < 0.14 else None)
            settled += 1
        elif roll < 0.8:
            services.void(held.id)
    finance = db.session.scalar(sa.select(User).where(User.role == Role.FINANCE, User.municipality_id == muni.id))
    approved = 0
    for partner in {o.partner_id: o.partner for o in priced}.values():  # this month so far, approved and paid
        made = settlements.make(partner, today().strftime("%Y-%m"), actor=finance)
        if made.total_ore:
            settlements.approve(made, actor=finance)
            approved += 1
    return {"children granted activity money": granted, "money reservations": reservations,
            "settled": settled, "settlements approved": approved}
