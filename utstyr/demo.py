"""Demo lending central with skis, helmets and a tent kit."""

from __future__ import annotations

from datetime import date

from opplevelseskort.core.clock import today
from opplevelseskort.core.hours import OpeningHours
from opplevelseskort.core.models import Municipality, User
from opplevelseskort.extensions import db

from . import services
from .models import ItemCategory, ItemType, Location


def demo_utstyr(muni: Municipality) -> None:
    if db.session.scalar(db.select(Location.id).filter_by(municipality_id=muni.id).limit(1)):
        return
    loc = Location(municipality_id=muni.id, name="Utlånssentralen", address="Torget 1", contact="utlan@demo.no",
                   solo_age=12, household_cap=6, opening_hours=OpeningHours.parse("mandag 15–19\nonsdag 15–19\nlørdag 12–16"))
    db.session.add(loc)
    volunteer = db.session.scalar(db.select(User).filter_by(email="frivillig@demo.no"))
    if volunteer:
        loc.volunteers.append(volunteer)
    db.session.flush()
    for name, cat, size, n, days, kit, consent, expiry in [
        ("Langrennski", ItemCategory.SKI, "130 cm", 4, 7, [], False, None),
        ("Langrennski", ItemCategory.SKI, "150 cm", 3, 7, [], False, None),
        ("Skøyter", ItemCategory.SKATES, "36", 3, 7, [], False, None),
        ("Sykkelhjelm", ItemCategory.HELMET, "M", 3, 14, [], False, date(today().year + 3, 1, 1)),
        ("Telt", ItemCategory.TENT, "2 personer", 2, 7, ["teltduk", "stenger", "plugger"], True, None),
    ]:
        it = ItemType(municipality_id=muni.id, name=name, category=cat, size=size, default_loan_days=days,
                      kit_items=kit, guardian_consent_required=consent, translations={})
        db.session.add(it)
        db.session.flush()
        services.add_units(it, loc, n, safety_expires_on=expiry)

