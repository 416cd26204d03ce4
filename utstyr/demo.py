"""Demo lending central with skis, helmets and a tent kit. The full demo adds two winters and summers of loans:
made and returned through the lending services (their rules apply), then dated back to when they happened, with a
few loans out now and one overdue, so the volunteer's desk and the borrowers' histories are not empty."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from opplevelseskort.accounts.models import User
from opplevelseskort.cards.models import Card, Child
from opplevelseskort.core.clock import today
from opplevelseskort.core.hours import OpeningHours
from opplevelseskort.core.models import Municipality
from opplevelseskort.demo import DEMO_SEED
from opplevelseskort.extensions import db

from . import services
from .models import ItemCategory, ItemType, Loan, LoanLine, Location, Unit, UnitStatus

PAST_LOANS = 160


def demo_utstyr(muni: Municipality, *, small: bool = False) -> dict[str, int]:
    if db.session.scalar(db.select(Location.id).filter_by(municipality_id=muni.id).limit(1)):
        return {}
    loc = Location(municipality_id=muni.id, name="Utlånssentralen", address="Torget 1", contact="utlan@demo.no",
                   solo_age=12, household_cap=6, opening_hours=OpeningHours.parse("mandag 15–19\nonsdag 15–19\nlørdag 12–16"))
    db.session.add(loc)
    volunteer = db.session.scalar(db.select(User).filter_by(email="frivillig@demo.no"))
    if volunteer:
        loc.volunteers.append(volunteer)
    db.session.flush()
    more = 3 if not small else 1  # the full demo's central has three times the stock
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
        services.add_units(it, loc, n * more, safety_expires_on=expiry)
    if not small and volunteer is not None:
        _history(muni, loc, volunteer)
    return {"units to lend": db.session.scalar(db.select(db.func.count(Unit.id)).filter_by(location_id=loc.id)),
            "loans": db.session.scalar(db.select(db.func.count(Loan.id)).filter_by(location_id=loc.id))}


def _season_day(rng: random.Random, year: int, category: ItemCategory, last: date) -> date:
    """Skis and skates in winter, helmets and tents in summer."""
    months = [1, 2, 3, 12] if category in (ItemCategory.SKI, ItemCategory.SKATES) else [5, 6, 7, 8]
    while True:
        day = date(year, rng.choice(months), rng.randint(1, 28))
        if day < last:
            return day
        year -= 1


def _history(muni: Municipality, loc: Location, volunteer: User) -> None:
    rng = random.Random(DEMO_SEED + 2)
    on = today()
    old_enough = list(db.session.execute(
        sa.select(Card.short_code).join(Child, Child.id == Card.child_id)
        .where(Child.municipality_id == muni.id, Child.birth_year <= on.year - loc.solo_age).order_by(Card.id)
    ).scalars())
    units = list(db.session.scalars(db.select(Unit).where(Unit.location_id == loc.id).order_by(Unit.id)))
    for n in range(PAST_LOANS + 6):
        unit = units[n % len(units)]
        if unit.status != UnitStatus.AVAILABLE:
            continue
        borrower = services.borrower_for_card(rng.choice(old_enough), muni.id)
        loan = services.checkout(loc, borrower, [unit.label_code], volunteer=volunteer)
        if n >= PAST_LOANS:  # out now; the first of them past its due date
            if n == PAST_LOANS:
                loan.due_on = on - timedelta(days=3)
            continue
        services.return_loan(loan, None, volunteer=volunteer)
        day = _season_day(rng, on.year - rng.randint(0, 1), unit.item_type.category, on)
        out = datetime(day.year, day.month, day.day, 16, tzinfo=UTC)
        back = out + timedelta(days=rng.randint(2, unit.item_type.default_loan_days + 2))
        loan.created_at, loan.due_on = out, day + timedelta(days=unit.item_type.default_loan_days)
        db.session.execute(sa.update(LoanLine).where(LoanLine.loan_id == loan.id)
                           .values(checked_out_at=out, returned_at=back))
    db.session.flush()
