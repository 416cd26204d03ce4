"""Read models for partners and caseworkers: visit log, monthly statement, unused cards (SQL-grouped)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import abort
from flask_babel import format_date
from flask_babel import gettext as _

from ..accounts.models import User
from ..cards.models import Card, Child, Guardian
from ..core.clock import month_bounds, utcnow
from ..core.errors import DomainError
from ..core.exports import csv_writer
from ..core.i18n import current_locale_code
from ..core.models import Municipality, Role
from ..core.pdf import Document
from ..extensions import db
from ..partners.models import Offer, OfferStatus, Partner, PartnerStatus
from ..partners.services import partner_id_of
from .models import CheckIn, OfflineScan, ScanOutcome
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


@dataclass(frozen=True)
class OfflineLine:
    """An offline scan the statement shows beside the counted visits: a duplicate, a rejection or a flagged visit."""
    scanned_at: datetime
    offer_title: str
    outcome: str
    reason: str | None
    flags: tuple[str, ...]


@dataclass
class Statement:
    """A partner's month as the basis of an invoice to the municipality: who, which period, a reference to quote,
    visits, companions and value per offer and in all. The page, the CSV and the PDF read the same numbers."""
    partner: Partner
    month: str
    first_day: date = date.min
    last_day: date = date.min
    municipality: str = ""
    lines: list[StatementLine] = field(default_factory=list)
    offline: list[OfflineLine] = field(default_factory=list)  # scans from offline scanners not simply counted

    @property
    def reference(self) -> str:
        """Stable for a partner and month, so an invoice and this statement find each other."""
        return f"OK-{self.first_day:%Y%m}-{self.partner.id:04d}"

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
    first = start.astimezone(OSLO).date()
    muni = db.session.get(Municipality, partner.municipality_id)
    st = Statement(partner=partner, month=first.strftime("%Y-%m"), first_day=first,
                   last_day=end.astimezone(OSLO).date() - timedelta(days=1), municipality=muni.name if muni else "")
    for oid, title, price, visits, comps, value in db.session.execute(q):
        st.lines.append(StatementLine(oid, title, int(visits), int(comps), int(price or 0), int(value)))
    st.offline = offline_lines(partner_id, start, end)
    return st


def offline_lines(partner_id: int, start: datetime, end: datetime) -> list[OfflineLine]:
    """The partner's offline scans in the period that were not simply counted: the duplicates (the same child at
    the same offer that day, at another door or phone), the rejections and the visits with flags."""
    rows = db.session.execute(db.select(OfflineScan, Offer.title).outerjoin(Offer, Offer.id == OfflineScan.offer_id)
                              .where(OfflineScan.partner_id == partner_id, OfflineScan.scanned_at >= start,
                                     OfflineScan.scanned_at < end)
                              .order_by(OfflineScan.scanned_at, OfflineScan.id))
    return [OfflineLine(scan.scanned_at, title or "", str(scan.outcome), scan.reason, tuple(scan.flags or ()))
            for scan, title in rows if scan.outcome != ScanOutcome.ACCEPTED or scan.flags]


def month_label(st: Statement) -> str:
    """"november 2026" in the reader's language."""
    return format_date(st.first_day, "LLLL yyyy")


def statement_head(st: Statement) -> list[tuple[str, str]]:
    """What stands above the figures, in the page's language: the invoice's who, when and reference."""
    return [(_("Partner"), st.partner.name), (_("Organisasjonsnummer"), st.partner.org_number or "–"),
            (_("Kommune"), st.municipality),
            (_("Periode"), f"{format_date(st.first_day, 'long')}–{format_date(st.last_day, 'long')}"),
            (_("Referanse"), st.reference)]


def statement_csv(st: Statement) -> str:
    """One row per offer and a sum row; every row names the partner, its organisation number, the period's first
    and last day and the reference, so a spreadsheet or an accounting import needs nothing else."""
    out = io.StringIO()
    w = csv_writer(out, delimiter=";")
    w.writerow([_("Referanse"), _("Partner"), _("Organisasjonsnummer"), _("Fra"), _("Til"), _("Tilbud"), _("Besøk"),
                _("Ledsagere"), _("Ordinær pris (kr)"), _("Verdi (kr)")])
    who = [st.reference, st.partner.name, st.partner.org_number or "", st.first_day.isoformat(),
           st.last_day.isoformat()]
    for line in st.lines:
        w.writerow([*who, line.title, line.visits, line.companions, line.price_nok, line.value_nok])
    w.writerow([*who, _("Sum"), st.total_visits, st.total_companions, "", st.total_value])
    return "\ufeff" + out.getvalue()


def statement_pdf(st: Statement) -> bytes:
    """The statement on A4 (fpdf2, the package's fonts: a partner's or offer's name in any script prints)."""
    lang = current_locale_code()
    title = _("Oppgjør for %(name)s, %(month)s", name=st.partner.name, month=month_label(st))
    doc = Document(title=title, lang=lang)
    doc.add_page()
    margin, width = 18.0, 174.0
    y = doc.text_box(margin, 18, width, title, lang=lang, size=15, bold=True, wrap=True, line_height=7) + 4
    for label, value in statement_head(st):
        doc.text_box(margin, y, 45, label, lang=lang, size=10, bold=True)
        y = doc.text_box(margin + 47, y, width - 47, value, lang=lang, size=10, wrap=True, line_height=5) + 1
    y += 5
    cols = [(_("Tilbud"), 70.0, "start"), (_("Besøk"), 22.0, "end"), (_("Ledsagere"), 26.0, "end"),
            (_("Pris (kr)"), 26.0, "end"), (_("Verdi (kr)"), 30.0, "end")]

    def row(cells: list[str], *, bold: bool = False, shade: bool = False) -> None:
        nonlocal y
        if y > 270:  # a long month goes on to the next page, with the header again
            doc.add_page()
            y = 18.0
            row([c[0] for c in cols], bold=True, shade=True)
        if shade:
            doc.band(margin, y - 1, width, 7, color=(230, 230, 230))
        x = margin
        for (_label, w, align), text in zip(cols, cells, strict=True):
            doc.text_box(x + 1, y, w - 2, text, lang=lang, size=10, bold=bold, align=align)
            x += w
        y += 7
        doc.set_draw_color(180, 180, 180)
        doc.line(margin, y - 1, margin + width, y - 1)

    row([c[0] for c in cols], bold=True, shade=True)
    for line in st.lines:
        row([line.title, str(line.visits), str(line.companions), str(line.price_nok), str(line.value_nok)])
    row([_("Sum"), str(st.total_visits), str(st.total_companions), "", str(st.total_value)], bold=True)
    doc.text_box(margin, y + 4, width, _("Besøk per tilbud. Verdien er ordinær pris ganger antall besøk."),
                 lang=lang, size=9, wrap=True)
    return doc.bytes()


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
