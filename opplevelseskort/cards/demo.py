"""Demo households with cards."""

from __future__ import annotations

from datetime import date

from ..core.models import Municipality, User
from ..extensions import db
from . import services
from .models import Child

DEMO_FAMILIES = [
    ("Amina Hassan", "+4791234567", "amina@example.org", "so", [("Ayaan", "Hassan", 2015, 4, "99010101"),
                                                               ("Hodan", "Hassan", 2012, 9, "99010101")]),
    ("Ola Nordmann", "+4792345678", None, "nb", [("Emma", "Nordmann", 2014, 1, "99010201")]),
    ("Olena Kovalenko", None, "olena@example.org", "uk", [("Maksym", "Kovalenko", 2013, 6, "99010302")]),
]


def demo_cards(muni: Municipality) -> None:
    if db.session.scalar(db.select(Child.id).filter_by(municipality_id=muni.id).limit(1)):
        return
    actor = db.session.scalar(db.select(User).filter_by(email="saksbehandler@demo.no"))
    today = services.today()
    for name, phone, email, lang, kids in DEMO_FAMILIES:
        h = services.register_household(
            muni, [services.GuardianInput(name, phone, email, lang)],
            [services.ChildInput(g, f, y, m, zone, "nav", date(today.year, 1, 1), date(today.year, 12, 31), True)
             for g, f, y, m, zone in kids], actor=actor)
        for child in h.children:
            services.issue_card(child, actor=actor)

