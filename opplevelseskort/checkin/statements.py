"""Read models for partners and caseworkers: visit log, monthly statement, unused cards (SQL-grouped)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import abort
from flask_babel import gettext as _

from ..cards.models import Card, Child, Guardian
from ..core.errors import DomainError
from ..core.exports import csv_writer, pdf_text
from ..core.models import Role, User
from ..core.types import utcnow
from ..extensions import db
from ..partners.models import Offer, OfferStatus, Partner, PartnerStatus
from ..partners.services import partner_id_of
from .models import CheckIn
from .services import OSLO


def offers_for_scanner(user: User) -> list[Offer]:
    """Published offers of the user's own organisation (the scanner's choices)."""
    own = partner_id_of(user)
    if own is None:
        return []
    return list(db.session.scalars(db.select(Offer).where(
        Offer.partner_id == own, Offer.status == OfferStatus.PUBLISHED).order_by(Offer.title)))


def partners_for(user: User) -> list[Partner]:
    if user.role == Role.PARTNER:
        return [db.session.get(Partner, partner_id_of(user))]
    q = db.select(Partner).where(Partner.status != PartnerStatus.PENDING).order_by(Partner.name)
    if user.municipality_id is not None:
        q = q.where(Partner.municipality_id == user.municipality_id)
    return list(db.session.scalars(q))


def partner_scope(user: User, requested: int | None) -> int | None:
    """Partners always see their own organisation; admins choose one (or the first in reach)."""
    if user.role == Role.PARTNER:
        return partner_id_of(user)
    allowed = {p.id for p in partners_for(user)}
    if requested is not None:
        if requested not in allowed:
            abort(404)
        return requested
    return min(allowed) if allowed else None


def month_bounds(month: str) -> tuple[datetime, datetime]:
    try:
        year, mon = (int(x) for x in month.split("-"))
        start = date(year, mon, 1)
    except (ValueError, TypeError):
        raise DomainError("month_invalid", _("Måned må skrives som ÅÅÅÅ-MM, for eksempel 2026-03.")) from None
    end = date(year + (mon == 12), mon % 12 + 1, 1)
    to_utc = lambda d: datetime(d.year, d.month, d.day, tzinfo=OSLO).astimezone(UTC)  # noqa: E731
    return to_utc(start), to_utc(end)


def visit_log(partner_id: int | None, month: str) -> list[CheckIn]:
    """A partner's own check-ins in a month, newest first."""
    start, end = month_bounds(month)
    if partner_id is None:
        return []
    return list(db.session.scalars(db.select(CheckIn).where(
        CheckIn.partner_id == partner_id, CheckIn.at >= start, CheckIn.at < end).order_by(CheckIn.at.desc())))


def offer_titles(offer_ids: set[int]) -> dict[int, str]:
    """Offer titles for a visit log (the log shows names, never numbers)."""
    if not offer_ids:
        return {}
    return dict(db.session.execute(db.select(Offer.id, Offer.title).where(Offer.id.in_(offer_ids))).all())


@dataclass
class StatementLine:
    offer_id: int
    title: str
    visits: int
    companions: int
    price_nok: int
    value_nok: int


@dataclass
class Statement:
    partner: Partner
    month: str
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def total_visits(self) -> int:
        return sum(line.visits for line in self.lines)

    @property
    def total_companions(self) -> int:
        return sum(line.companions for line in self.lines)

    @property
    def total_value(self) -> int:
        return sum(line.value_nok for line in self.lines)


def statement(partner_id: int | None, month: str) -> Statement:
    """Visits per offer in a month, companions and value given (ordinary price × visits), voided excluded."""
    if partner_id is None:
        raise DomainError("partner_missing", _("Velg en partner."))
    start, end = month_bounds(month)
    partner = db.session.get(Partner, partner_id)
    q = (db.select(Offer.id, Offer.title, Offer.price_nok, db.func.count(CheckIn.id),
                   db.func.coalesce(db.func.sum(CheckIn.companions), 0), db.func.coalesce(db.func.sum(CheckIn.value_nok), 0))
         .join(CheckIn, CheckIn.offer_id == Offer.id)
         .where(CheckIn.partner_id == partner_id, CheckIn.voided_at.is_(None), CheckIn.at >= start, CheckIn.at < end)
         .group_by(Offer.id, Offer.title, Offer.price_nok).order_by(Offer.title))
    st = Statement(partner=partner, month=month)
    for oid, title, price, visits, comps, value in db.session.execute(q):
        st.lines.append(StatementLine(oid, title, int(visits), int(comps), int(price or 0), int(value)))
    return st


def statement_csv(st: Statement) -> str:
    out = io.StringIO()
    w = csv_writer(out, delimiter=";")
    w.writerow([_("Partner"), _("Måned"), _("Tilbud"), _("Besøk"), _("Ledsagere"), _("Ordinær pris (kr)"),
                _("Verdi (kr)")])
    for line in st.lines:
        w.writerow([st.partner.name, st.month, line.title, line.visits, line.companions, line.price_nok, line.value_nok])
    w.writerow([st.partner.name, st.month, _("Sum"), st.total_visits, st.total_companions, "", st.total_value])
    return "\ufeff" + out.getvalue()


def statement_pdf(st: Statement) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=_("Oppgjør %(month)s", month=st.month))
    styles = getSampleStyleSheet()
    rows = [[_("Tilbud"), _("Besøk"), _("Ledsagere"), _("Pris (kr)"), _("Verdi (kr)")]]
    cell = styles["BodyText"]
    rows += [[Paragraph(pdf_text(line.title), cell), line.visits, line.companions, line.price_nok, line.value_nok]
             for line in st.lines]
    rows.append([_("Sum"), st.total_visits, st.total_companions, "", st.total_value])
    table = Table(rows, repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                               ("ALIGN", (1, 0), (-1, -1), "RIGHT")]))
    doc.build([Paragraph(_("Oppgjør for %(name)s, %(month)s", name=pdf_text(st.partner.name),
                           month=pdf_text(st.month)), styles["Title"]),
               Spacer(1, 12), table])
    return buf.getvalue()


@dataclass
class UnusedCard:
    card: Card
    child: Child
    guardians: list[Guardian]
    last_used: datetime | None


def unused_cards(user: User, weeks: int, now: datetime | None = None) -> list[UnusedCard]:
    """Active cards in the user's municipality with no check-in for `weeks` weeks (for follow-up)."""
    now = now or utcnow()
    cutoff = now - timedelta(weeks=weeks)
    today = now.astimezone(OSLO).date()
    last = (db.select(CheckIn.card_id, db.func.max(CheckIn.at).label("last_at"))
            .where(CheckIn.voided_at.is_(None)).group_by(CheckIn.card_id).subquery())
    q = (db.select(Card, Child, last.c.last_at)
         .join(Child, Child.id == Card.child_id)
         .outerjoin(last, last.c.card_id == Card.id)
         .where(Card.revoked_at.is_(None), Card.valid_until >= today, Card.valid_from <= today,
                Card.valid_from <= cutoff.date(),
                (last.c.last_at.is_(None)) | (last.c.last_at < cutoff))
         .order_by(last.c.last_at.is_not(None), last.c.last_at, Card.id))
    if user.municipality_id is not None:
        q = q.where(Card.municipality_id == user.municipality_id)
    rows = db.session.execute(q).all()
    household_ids = {child.household_id for _c, child, _l in rows}
    guardians: dict[int, list[Guardian]] = {}
    if household_ids:
        for g in db.session.scalars(db.select(Guardian).where(Guardian.household_id.in_(household_ids))):
            guardians.setdefault(g.household_id, []).append(g)
    return [UnusedCard(card, child, guardians.get(child.household_id, []), last_at) for card, child, last_at in rows]
