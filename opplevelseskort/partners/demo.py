"""Demo data for partners: an approved sports club, its staff user (partner@demo.no) and offers; the full demo adds
the clubs, culture houses and volunteer groups of a town of this size, their offers running since last year, and
weekly occasions with places to book."""

from __future__ import annotations

from datetime import date, timedelta

from ..accounts.models import User
from ..core import municipalities
from ..core.clock import local_now, today
from ..core.models import Municipality, Role
from ..demo import DEMO_PASSWORD
from ..extensions import db
from .models import Occasion, Offer, OfferCategory, OfferStatus, Partner, PartnerKind, PartnerStatus
from .services import create_staff_user

DEMO_ORG_NUMBER = "974760673"


DEMO_PARTNER_USER = ("partner@demo.no", "Per Partner")


def demo_partner(muni: Municipality) -> int:
    p = db.session.scalar(db.select(Partner).filter_by(org_number=DEMO_ORG_NUMBER))
    if p is None:
        p = Partner(municipality_id=muni.id, name="Demo idrettslag", org_number=DEMO_ORG_NUMBER,
                    kind=PartnerKind.CLUB, status=PartnerStatus.APPROVED, contact_name="Per Partner",
                    contact_email="partner@demo.no")
        db.session.add(p)
        db.session.flush()
    return p.id


MORE_PARTNERS = [  # name, organisation number, kind, offers: (title, category, ages, companions, price, booking)
    ("Kulturskolen", "964950116", PartnerKind.MUNICIPAL, [
        ("Gitarkurs", OfferCategory.CULTURE, (8, 17), 0, 600, False), ("Teaterverksted", OfferCategory.CULTURE,
                                                                        (10, 17), 0, 500, False)]),
    ("Svømmeklubben Bølgen", "993472158", PartnerKind.CLUB, [
        ("Svømmetrening", OfferCategory.SWIMMING, (6, 15), 1, 700, False)]),
    ("Turlaget", "971299630", PartnerKind.VOLUNTEER_GROUP, [
        ("Familietur i marka", OfferCategory.OUTDOOR, (3, 17), 2, 0, False), ("Klatring inne", OfferCategory.OUTDOOR,
                                                                             (8, 17), 0, 250, True)]),
    ("Bibliotekets ungdomsklubb", "974611988", PartnerKind.VOLUNTEER_GROUP, [
        ("Spillkveld", OfferCategory.EVENTS, (10, 17), 0, 0, False)]),
    ("Håndballklubben", "983964099", PartnerKind.CLUB, [
        ("Håndball for nybegynnere", OfferCategory.SPORT, (6, 14), 0, 900, False)]),
    ("Rideklubben Hov", "991284133", PartnerKind.CLUB, [
        ("Ridetime", OfferCategory.SPORT, (7, 17), 1, 450, True)]),
    ("Ungdommens hus", "976820134", PartnerKind.VOLUNTEER_GROUP, [
        ("Dans og hiphop", OfferCategory.CULTURE, (10, 17), 0, 300, False),
        ("Sommerleir", OfferCategory.HOLIDAY_ACTIVITY, (9, 15), 0, 1800, True)]),
]


def demo_offers(muni: Municipality, *, small: bool = False) -> dict[str, int]:
    """The demo club's staff user, and published offers for the club and two more partners, one with limited
    places (the full demo: eight more partners and their offers, from the start of last year)."""
    email, name = DEMO_PARTNER_USER
    if not db.session.scalar(db.select(User.id).filter_by(email=email)):
        create_staff_user(email, DEMO_PASSWORD, Role.PARTNER, name=name, municipality_id=muni.id,
                          partner_id=demo_partner(muni))

    if db.session.scalar(db.select(Offer.id).filter_by(municipality_id=muni.id).limit(1)):
        return {}
    club = db.session.get(Partner, demo_partner(muni))
    others = []
    for name, org, kind in [("Kino Sentrum", "923609016", PartnerKind.BUSINESS),
                            ("Speidergruppa Nord", "982463718", PartnerKind.VOLUNTEER_GROUP)]:
        p = Partner(municipality_id=muni.id, name=name, org_number=org, kind=kind, status=PartnerStatus.APPROVED,
                    contact_name="Demo", contact_email=f"kontakt{org}@example.org")
        db.session.add(p)
        others.append(p)
    db.session.flush()
    year = today().year
    start, end = date(year if small else year - 1, 1, 1), date(year, 12, 31)
    specs = [
        (club, "Fotballtrening", "Trening for alle, uansett nivå. Ta med joggesko.", OfferCategory.SPORT, 6, 16, 0, 1200,
         {"en": {"title": "Football practice", "description": "Practice for everyone, any level."}}),
        (club, "Svømmekurs", "Lær å svømme trygt.", OfferCategory.SWIMMING, 6, 12, 1, 900, {}),
        (others[0], "Kinobillett", "En film du velger selv.", OfferCategory.CINEMA, 6, 17, 1, 130, {}),
        (others[1], "Vinterleir", "Tre dager med ski, bål og telt.", OfferCategory.HOLIDAY_ACTIVITY, 9, 15, 0, 1500, {}),
    ]
    for partner, title, desc, cat, amin, amax, comp, price, tr in specs:
        offer = Offer(partner_id=partner.id, municipality_id=muni.id, title=title, description=desc, category=cat,
                      age_min=amin, age_max=amax, start_date=start, end_date=end, companions_allowed=comp,
                      price_nok=price, status=OfferStatus.PUBLISHED, translations=tr, address="Sentrum",
                      requires_booking=(title == "Vinterleir"), use_limit=4 if title == "Kinobillett" else None,
                      use_limit_period="month")
        db.session.add(offer)
        db.session.flush()
        if title == "Vinterleir":
            first = local_now().replace(hour=9, minute=0, second=0, microsecond=0)
            first = first + timedelta(days=14)
            db.session.add(Occasion(offer_id=offer.id, starts_at=first, ends_at=first + timedelta(hours=8),
                                    capacity=15, booked=0))
    db.session.flush()
    if not small:
        _more_partners(muni, start, end)
    municipalities.catalogue_changed(muni.id)
    return {"partners": db.session.scalar(db.select(db.func.count(Partner.id)).filter_by(municipality_id=muni.id)),
            "offers": db.session.scalar(db.select(db.func.count(Offer.id)).filter_by(municipality_id=muni.id))}


def _more_partners(muni: Municipality, start: date, end: date) -> None:
    first = local_now().replace(hour=17, minute=0, second=0, microsecond=0) + timedelta(days=2)
    for name, org, kind, offers in MORE_PARTNERS:
        partner = Partner(municipality_id=muni.id, name=name, org_number=org, kind=kind, status=PartnerStatus.APPROVED,
                          contact_name="Demo", contact_email=f"kontakt{org}@example.org")
        db.session.add(partner)
        db.session.flush()
        for title, category, (age_min, age_max), companions, price, booking in offers:
            offer = Offer(partner_id=partner.id, municipality_id=muni.id, title=title, description=f"{title} hos {name}.",
                          category=category, age_min=age_min, age_max=age_max, start_date=start, end_date=end,
                          companions_allowed=companions, price_nok=price, status=OfferStatus.PUBLISHED,
                          translations={}, address=name, requires_booking=booking, use_limit=None,
                          use_limit_period="month")
            db.session.add(offer)
            db.session.flush()
            if booking:  # weekly places for the next six weeks
                db.session.add_all([Occasion(offer_id=offer.id, starts_at=first + timedelta(weeks=w),
                                             ends_at=first + timedelta(weeks=w, hours=2), capacity=12, booked=0)
                                    for w in range(6)])
    db.session.flush()

