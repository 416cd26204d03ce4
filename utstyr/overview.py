"""What the pool's people are told and shown: due-date reminders, overdue loans, unmet demand, the year's
statistics, what families can borrow, and a child's own loans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from opplevelseskort.accounts.models import User
from opplevelseskort.cards.models import Card
from opplevelseskort.core import outbox
from opplevelseskort.core.clock import (
    local_date,
    today,  # noqa: F401  (services.today: the one Norwegian "today")
    utcnow,
)
from opplevelseskort.core.i18n import force_locale
from opplevelseskort.core.models import OutboxChannel, Role
from opplevelseskort.extensions import db

from .models import (
    Borrower,
    BorrowerKind,
    ItemCategory,
    ItemType,
    Loan,
    LoanLine,
    Location,
    Unit,
    UnitStatus,
    UnmetDemand,
)
from .reservations import available
from .services import locations_for


def _contacts(b: Borrower) -> list[tuple[str | None, str | None, str]]:
    if b.kind == BorrowerKind.CARD_HOLDER and b.card_id:
        card = db.session.get(Card, b.card_id)
        h = card.child.household if card and card.child else None
        return [(g.email, g.phone, g.preferred_language) for g in (h.guardians if h else [])]
    target = b.responsible if b.kind == BorrowerKind.CHILD and b.responsible else b
    return [(target.email, target.phone, "nb")]


def send_reminders(now: datetime | None = None) -> tuple[int, int]:
    """Due-tomorrow and overdue reminders through the outbox, each sent once per loan."""
    now = now or utcnow()
    on = local_date(now)
    open_loans = db.select(Loan).where(Loan.id.in_(db.select(LoanLine.loan_id).where(LoanLine.returned_at.is_(None))))
    due_soon = db.session.scalars(open_loans.where(Loan.due_on == on + timedelta(days=1),
                                                   Loan.reminded_due_at.is_(None))).all()
    overdue = db.session.scalars(open_loans.where(Loan.due_on < on, Loan.reminded_overdue_at.is_(None))).all()
    for kind, loans in (("due_soon", due_soon), ("overdue", overdue)):
        for loan in loans:
            for email, phone, lang in _contacts(loan.borrower):
                with force_locale(lang):
                    if kind == "due_soon":
                        subject = _("Husk å levere utstyret i morgen")
                        body = _("Hei! Utstyret du lånte fra %(place)s skal leveres %(date)s.",
                                 place=loan.location.name, date=loan.due_on.strftime("%d.%m.%Y"))
                    else:
                        subject = _("Utstyret skulle vært levert")
                        body = _("Hei! Utstyret du lånte fra %(place)s skulle vært levert %(date)s. "
                                 "Lever det så snart du kan.", place=loan.location.name,
                                 date=loan.due_on.strftime("%d.%m.%Y"))
                if email:
                    outbox.enqueue(OutboxChannel.EMAIL, email, subject, body, kind=f"loan_{kind}", locale=lang)
                if phone:
                    outbox.enqueue(OutboxChannel.SMS, phone, subject, body, kind=f"loan_{kind}", locale=lang)
            if kind == "due_soon":
                loan.reminded_due_at = now
            else:
                loan.reminded_overdue_at = now
    return len(due_soon), len(overdue)


def overdue_lines(user: User, on: date | None = None) -> list[LoanLine]:
    on = on or today()
    loc_ids = [l.id for l in locations_for(user)]  # noqa: E741
    return list(db.session.scalars(db.select(LoanLine).join(Loan, Loan.id == LoanLine.loan_id).where(
        LoanLine.returned_at.is_(None), Loan.due_on < on, Loan.location_id.in_(loc_ids)).order_by(Loan.due_on)))


def record_unmet_demand(location: Location, *, category: str, size: str = "", item_type: ItemType | None = None,
                        volunteer: User) -> UnmetDemand:
    """A borrower asked for something we did not have: two taps for the volunteer."""
    row = UnmetDemand(location_id=location.id, category=ItemCategory(category), size=(size or "").strip()[:40],
                      item_type_id=item_type.id if item_type else None, recorded_by_id=volunteer.id)
    db.session.add(row)
    db.session.flush()
    return row


def statistics_for(user: User, year: int) -> dict:
    """The statistics a user may see: an analyst's municipality, else the locations the user acts at."""
    if user.role == Role.ANALYST:
        ids = list(db.session.scalars(db.select(Location.id).where(Location.municipality_id == user.municipality_id)))
    else:
        ids = [loc.id for loc in locations_for(user)]
    return statistics(ids, year)


def statistics(location_ids: list[int], year: int) -> dict:
    """Loans per category and month, utilisation (days on loan per unit), never-lent units, unmet demand."""
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    month = sa.func.extract("month", LoanLine.checked_out_at)
    per_cat = db.session.execute(
        db.select(ItemType.category, month.label("m"), sa.func.count(LoanLine.id))
        .join(Unit, Unit.id == LoanLine.unit_id).join(ItemType, ItemType.id == Unit.item_type_id)
        .where(Unit.location_id.in_(location_ids), LoanLine.checked_out_at >= start, LoanLine.checked_out_at < end)
        .group_by(ItemType.category, month).order_by(ItemType.category, month)).all()
    lines = db.session.execute(
        db.select(Unit.id, Unit.label_code, LoanLine.checked_out_at, LoanLine.returned_at)
        .join(LoanLine, LoanLine.unit_id == Unit.id)
        .where(Unit.location_id.in_(location_ids), LoanLine.checked_out_at < end)).all()
    now = utcnow()
    days: dict[str, float] = {}
    for _uid, code, out_at, back_at in lines:
        lo = max(out_at, start)
        hi = min(back_at or now, end)
        days[code] = days.get(code, 0) + max(0.0, (hi - lo).total_seconds() / 86400)
    never = list(db.session.scalars(db.select(Unit.label_code).where(
        Unit.location_id.in_(location_ids), Unit.status.not_in([UnitStatus.RETIRED, UnitStatus.LOST]),
        ~sa.exists().where(LoanLine.unit_id == Unit.id)).order_by(Unit.label_code)))
    unmet = db.session.execute(
        db.select(UnmetDemand.category, UnmetDemand.size, sa.func.count(UnmetDemand.id))
        .where(UnmetDemand.location_id.in_(location_ids), UnmetDemand.at >= start, UnmetDemand.at < end)
        .group_by(UnmetDemand.category, UnmetDemand.size).order_by(sa.func.count(UnmetDemand.id).desc())).all()
    return {"per_category_month": [(str(c), int(m), n) for c, m, n in per_cat],
            "utilisation_days": dict(sorted(days.items())), "never_lent": never,
            "unmet": [(str(c), s, n) for c, s, n in unmet]}


def public_availability(locale: str = "nb") -> list[dict]:
    """What can be borrowed where, by type and size, and how many are free today."""
    on = today()
    rows = db.session.execute(
        db.select(Location, ItemType, sa.func.count(Unit.id))
        .join(Unit, Unit.location_id == Location.id).join(ItemType, ItemType.id == Unit.item_type_id)
        .where(Unit.status.not_in([UnitStatus.RETIRED, UnitStatus.LOST]))
        .group_by(Location.id, ItemType.id).order_by(Location.name, ItemType.name, ItemType.size)).all()
    out = []
    for loc, it, total in rows:
        out.append({"location": loc, "item": it.display_name(locale), "category": str(it.category),
                    "total": total, "free": available(loc.id, it.id, on, on), "type": it})
    return out


def metric_counts() -> list[tuple[str, int]]:
    """Units ever lent: the highest loan line id (cheap at any size, and only grows)."""
    return [("loan_line", db.session.scalar(db.select(db.func.max(LoanLine.id))) or 0)]


def loans_due_count(user: User) -> int:
    """Units due today or overdue at the user's locations (the dashboard's count)."""
    loc_ids = [loc.id for loc in locations_for(user)]
    return db.session.scalar(db.select(db.func.count(LoanLine.id)).join(Loan, Loan.id == LoanLine.loan_id).where(
        LoanLine.returned_at.is_(None), Loan.due_on <= today(), Loan.location_id.in_(loc_ids or [0]))) or 0


@dataclass(frozen=True)
class FamilyLoanLine:
    item: str  # the item type's name in the reader's language, with its size
    place: str  # the lending central
    due_on: date
    returned_on: date | None

    @property
    def overdue(self) -> bool:
        """Still out after its due date (in Norwegian time)."""
        return self.returned_on is None and self.due_on < today()


def loans_of_child(child_id: int, locale: str, *, returned_limit: int = 10) -> tuple[list[FamilyLoanLine],
                                                                                   list[FamilyLoanLine]]:
    """What a child has on loan (oldest due first) and what was returned (newest first), through any of the
    child's cards: the family's own record on the card page."""
    rows = db.session.execute(
        db.select(LoanLine.returned_at, Loan.due_on, ItemType, Location.name)
        .join(Loan, Loan.id == LoanLine.loan_id).join(Borrower, Borrower.id == Loan.borrower_id)
        .join(Card, Card.id == Borrower.card_id).join(Unit, Unit.id == LoanLine.unit_id)
        .join(ItemType, ItemType.id == Unit.item_type_id).join(Location, Location.id == Loan.location_id)
        .where(Card.child_id == child_id)).all()
    lines = [FamilyLoanLine(it.display_name(locale), place, due, local_date(back) if back else None)
             for back, due, it, place in rows]
    out = sorted((line for line in lines if line.returned_on is None), key=lambda line: line.due_on)
    back = sorted((line for line in lines if line.returned_on), key=lambda line: line.returned_on, reverse=True)
    return out, back[:returned_limit]

