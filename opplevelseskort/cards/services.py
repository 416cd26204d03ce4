"""Cards: households, eligibility, issuing, renewal, replacement, the family's link, privacy and retention."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, load_only

from ..accounts.models import User
from ..core import audit, municipalities, outbox
from ..core.clock import today, utcnow
from ..core.errors import Conflict, DomainError, NotFound
from ..core.i18n import force_locale
from ..core.models import Municipality, OutboxChannel, OutboxMessage, OutboxStatus, Role
from ..core.permissions import can_access_municipality
from ..core.ratelimit import hit_card_lookup
from ..extensions import db
from ..zones.models import Zone
from ..zones.services import zones_of
from . import ages, codes, signing
from . import pdf as printing
from .models import Card, CardStatus, Child, Gender, Guardian, Household, RevokeReason, WalletPass

log = logging.getLogger(__name__)


def _locks() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"  # SQLite has no row locks (its writes are serial)


@functools.cache
def _card_query(column: str, lock: bool, row_lock: bool):
    """A card with its child by one of its codes, built once per kind (the door's hot path)."""
    if not lock:
        return db.select(Card).options(joinedload(Card.child)).where(getattr(Card, column) == sa.bindparam("code"))
    # the locked look-up is the door's and the lending desk's: only what their rules read is loaded
    q = (db.select(Card).where(getattr(Card, column) == sa.bindparam("code"))
         .options(load_only(Card.id, Card.child_id, Card.municipality_id, Card.valid_from, Card.valid_until,
                            Card.revoked_at, Card.companions),
                  joinedload(Card.child).load_only(Child.id, Child.municipality_id, Child.given_name, Child.birth_year,
                                                   Child.birth_month, Child.gender, Child.zone_id)))
    return q.with_for_update(of=Card) if row_lock else q


def _code_of(code: str) -> tuple[str, str] | None:
    """Which column a scanned or typed code names, and its value: the URL in the QR, the raw QR token, or the
    short code. A short code that cannot be one (a typo its check character shows) is refused here."""
    text = (code or "").strip()
    if text.startswith((signing.PREFIX, signing.ROTATING_PREFIX)):  # a signed code (a card's or a phone's QR)
        return "short_code", signing.card_number_of(text)
    if "/k/" in text:
        text = text.split("/k/", 1)[1].split("?", 1)[0].split("#", 1)[0].strip("/")
    if codes.TOKEN_RE.match(text):
        return "qr_token", text
    if codes.looks_like_short_code(text):
        if not codes.is_valid_short_code(text):
            raise NotFound("card_unknown", _("Koden finnes ikke. Den ser feilskrevet ut: sjekk tegnene og prøv igjen."))
        return "short_code", codes.normalise(text)
    return None


def _unknown_card() -> NotFound:
    # A card of another municipality is as unknown as one that does not exist.
    return NotFound("card_unknown", _("Ukjent kort."))


def lookup_card(code: str, *, lock: bool = False, municipality_id: int | None = None) -> Card:
    """Find a card by the URL in its QR, the raw QR token, or the short code typed by staff.

    With lock=True the card row is locked (SELECT ... FOR UPDATE on PostgreSQL) for the caller's transaction.
    """

    hit_card_lookup()  # every door that resolves a card code shares one budget
    found = _code_of(code)
    card = db.session.scalar(_card_query(found[0], lock, _locks()), {"code": found[1]}) if found else None
    if card is None or (municipality_id is not None and card.municipality_id != municipality_id):
        raise _unknown_card()
    return card


@dataclass(slots=True, frozen=True)
class DoorChild:
    id: int
    municipality_id: int
    given_name: str
    birth_year: int
    birth_month: int | None
    gender: Gender | None
    zone_id: int | None


@dataclass(slots=True, frozen=True)
class DoorCard:
    """What the door's rules read of a card and its child, as plain values (the attributes a `Card` has)."""

    id: int
    child_id: int
    municipality_id: int
    valid_from: date
    valid_until: date
    revoked_at: datetime | None
    companions: int
    child: DoorChild


_DOOR_CARD = ("id", "child_id", "municipality_id", "valid_from", "valid_until", "revoked_at", "companions")


_DOOR_CHILD = ("id", "municipality_id", "given_name", "birth_year", "birth_month", "gender", "zone_id")


@functools.cache
def _door_card_query(column: str, row_lock: bool):
    c, ch = Card.__table__, Child.__table__
    q = (sa.select(*[c.c[n] for n in _DOOR_CARD], *[ch.c[n] for n in _DOOR_CHILD])
         .select_from(c.join(ch, ch.c.id == c.c.child_id)).where(c.c[column] == sa.bindparam("code")))
    return q.with_for_update(of=c) if row_lock else q


def door_card(code: str, *, municipality_id: int) -> DoorCard:
    """The door's look-up: the card and its child by any of its codes, the card row locked for the caller's
    transaction, as plain values from one Core statement (the check-in's hot path). Same budget and same answers
    as `lookup_card`."""
    hit_card_lookup()
    found = _code_of(code)
    row = db.session.connection().execute(_door_card_query(found[0], _locks()), {"code": found[1]}).first() \
        if found else None
    if row is None or row[2] != municipality_id:
        raise _unknown_card()
    n = len(_DOOR_CARD)
    return DoorCard(*row[:n], child=DoorChild(*row[n:]))


def door_card_by_number(number: str, *, municipality_id: int) -> DoorCard | None:
    """The card with this card number and its child, locked like `door_card`, or None: for a signed code whose
    signature was verified (no guess, so no look-up budget spent)."""
    row = db.session.connection().execute(_door_card_query("short_code", _locks()), {"code": number}).first()
    if row is None or row[2] != municipality_id:
        return None
    n = len(_DOOR_CARD)
    return DoorCard(*row[:n], child=DoorChild(*row[n:]))


def find_card_by_family_token(token: str | None) -> Card | None:
    """The card behind a family's secret link, or None."""
    token = (token or "").strip()
    return db.session.scalar(db.select(Card).filter_by(family_token=token)) if codes.TOKEN_RE.match(token) else None


def card_by_family_token(token: str) -> Card:
    card = find_card_by_family_token(token)
    if card is None:
        raise NotFound("card_unknown", _("Ukjent kort."))
    return card


def current_card(child: Child, on: date) -> tuple[Card | None, CardStatus | None]:
    """The child's card that matters today and its status: the valid one if any, else the newest."""
    cards = sorted(child.cards, key=lambda c: (c.issued_at, c.id), reverse=True)
    for card in cards:
        if card_status(card, on) == CardStatus.ACTIVE:
            return card, CardStatus.ACTIVE
    return (cards[0], card_status(cards[0], on)) if cards else (None, None)


def card_status(card: Card, on: date) -> CardStatus:
    """Active, expired or not yet valid from the dates; revoked when revoked."""
    if card.revoked_at is not None:
        return CardStatus.REVOKED
    if on < card.valid_from:
        return CardStatus.NOT_YET_VALID
    if on > card.valid_until:
        return CardStatus.EXPIRED
    return CardStatus.ACTIVE


def assert_card_valid(card: Card, on: date) -> None:
    """Raise with a stable code unless the card is usable on the given day."""
    status = card_status(card, on)
    if status == CardStatus.REVOKED:
        raise DomainError("card_revoked", _("Kortet er sperret."))
    if status == CardStatus.EXPIRED:
        raise DomainError("card_expired", _("Kortet gikk ut %(date)s.", date=card.valid_until.strftime("%d.%m.%Y")))
    if status == CardStatus.NOT_YET_VALID:
        raise DomainError("card_not_yet_valid", _("Kortet gjelder fra %(date)s.",
                                                  date=card.valid_from.strftime("%d.%m.%Y")))


def child_age(child: Child, on: date) -> int:
    """Age in whole years from birth year and (if known) month."""
    age = on.year - child.birth_year
    if child.birth_month and on.month < child.birth_month:
        age -= 1
    return age


def card_url(card: Card) -> str:
    """The URL inside the QR code: it opens nothing about the child for anyone but partner staff."""
    return municipalities.public_url(f"/k/{card.qr_token}")


def family_url(card: Card, locale: str | None = None) -> str:
    """The family's secret link to the card page (a different secret from the QR), in the guardian's language."""
    suffix = f"?sprak={locale}" if locale and locale != "nb" else ""
    return municipalities.public_url(f"/kort/{card.family_token}{suffix}")


def scheme_period(municipality: Municipality, on: date | None = None) -> tuple[date, date]:
    """The card scheme's period from `on` (today): to the next end of the scheme's year, which the municipality
    sets (31.12 for the calendar year, 31.07 for the school year); that day itself included."""
    on = on or today()
    month, day = (int(x) for x in (municipality.scheme_end or "12-31").split("-"))
    end = date(on.year, month, day)
    return on, end if end >= on else date(on.year + 1, month, day)


def card_face(card: Card) -> printing.CardFace:
    """What the printed card shows (the child's first name only), its QR the signed code."""
    return printing.CardFace(card.child.given_name or "", card.valid_until, card.companions,
                             codes.format_short_code(card.short_code), card_url(card), signed_code(card))


def signed_code(card: Card) -> str:
    """The card's signed code (cards.signing) with the child's age band today: what its QR carries, on paper and
    on the family's page, for a scanner with or without a network."""
    return signing.sign_card(card, age_band=age_band_of(card))


def age_band_of(card: Card) -> str:
    """The child's age band today: what a signed code says of the child's age."""
    return ages.age_band(child_age(card.child, today()))


def family_contact(municipality_id: int, locale: str | None = None) -> str:
    """Whom a family calls: the municipality's line for families in their language (bokmål where it has none),
    else its support e-mail."""
    muni = db.session.get(Municipality, municipality_id)
    return (muni.contact_line_in(locale) or muni.support_email) if muni else ""


def guardian_language(card: Card) -> str:
    """The language the family reads: the first guardian's preferred language, else bokmål."""
    guardians = card.child.household.guardians if card.child and card.child.household else []
    return guardians[0].preferred_language if guardians and guardians[0].preferred_language else "nb"


def handover_sheets(cards: list[Card], *, actor: User) -> bytes:
    """The printable hand-over sheets for these cards (one page each, in each family's language), audited like
    showing the link: the sheet carries the family's secret link."""
    sheets = []
    for card in cards:
        if card.revoked_at is not None:
            raise DomainError("card_revoked", _("Kortet er sperret."))
        lang = guardian_language(card)
        sheets.append(printing.HandOver(card_face(card), family_url(card, lang), lang,
                                        family_contact(card.municipality_id, lang)))
        audit.record(actor, "card.handover_sheet", "card", card.id, municipality_id=card.municipality_id)
    return printing.handover_pdf(sheets)


def new_family_link(card: Card, *, actor: User) -> str:
    """A new secret link for the family's card page; the old one stops working at once (a link shared by mistake).
    The card's QR for the door stays the same, so a printed card still works."""
    if card.revoked_at is not None:
        raise DomainError("card_revoked", _("Kortet er sperret."))
    card.family_token = codes.new_token()
    db.session.flush()
    audit.record(actor, "card.new_link", "card", card.id, municipality_id=card.municipality_id)
    return family_url(card, guardian_language(card))


def unrevoked_card(child: Child) -> Card | None:
    """The child's card that has not been revoked (at most one, by the database), whether or not it is valid
    today. "Valid today" is `card_status(...) == CardStatus.ACTIVE`; an "active child" (reports) visited in a
    period: three different things, three names."""
    return db.session.scalar(db.select(Card).where(Card.child_id == child.id, Card.revoked_at.is_(None)))


def issue_card(child: Child, *, actor: User | None, valid_from: date | None = None, valid_until: date | None = None,
               companions: int = 1, replaces: Card | None = None) -> Card:
    """Issue a card (validity defaults to the eligibility period); one active card per child."""
    valid_from = valid_from or max(today(), child.eligible_from)
    valid_until = valid_until or child.eligible_until
    if valid_until < valid_from:
        raise DomainError("validity_invalid", _("Kortet kan ikke slutte før det starter."))
    if not 0 <= companions <= 5:
        raise DomainError("companions_invalid", _("Antall ledsagere må være 0–5."))
    if unrevoked_card(child) is not None:
        raise Conflict("card_active_exists", _("Barnet har allerede et aktivt kort."))
    card = Card(child_id=child.id, municipality_id=child.municipality_id, qr_token=codes.new_token(),
                short_code=codes.new_short_code(), family_token=codes.new_token(), valid_from=valid_from,
                valid_until=valid_until, companions=companions, issued_by_id=actor.id if actor else None,
                replaces_id=replaces.id if replaces else None)
    try:
        with db.session.begin_nested():
            db.session.add(card)
            db.session.flush()
    except IntegrityError:
        raise Conflict("card_active_exists", _("Barnet har allerede et aktivt kort.")) from None
    audit.record(actor, "card.issue", "card", card.id, municipality_id=child.municipality_id, child_id=child.id)
    log.info("card %s issued", card.id)
    return card


def unused_short_codes(n: int) -> list[str]:
    """`n` new short codes, none of them taken (checked against the database in one statement per round)."""
    chosen: set[str] = set()
    while len(chosen) < n:
        fresh = {codes.new_short_code() for _ in range(n - len(chosen))} - chosen
        taken = set(db.session.scalars(db.select(Card.short_code).where(Card.short_code.in_(fresh)))) if fresh else set()
        chosen |= fresh - taken
    return list(chosen)


def revoke_card(card: Card, reason: RevokeReason | str, *, actor: User | None) -> Card:
    """Revoke a card with a reason; a revoked code never works again."""
    reason = RevokeReason(reason)
    if card.revoked_at is not None:
        raise DomainError("card_already_revoked", _("Kortet er allerede sperret."))
    card.revoked_at = utcnow()
    card.revoked_reason = reason
    signing.revoke(card)  # its signed codes too, for scanners that check them offline
    # its wallet passes change (voided): a wallet that registered fetches them again
    db.session.execute(sa.update(WalletPass).where(WalletPass.card_id == card.id).values(updated_at=utcnow()))
    db.session.flush()
    audit.record(actor, "card.revoke", "card", card.id, municipality_id=card.municipality_id, reason=str(reason))
    return card


def replace_lost_card(card: Card, *, actor: User) -> Card:
    """Revoke a lost card and issue a new code linked to it, with the same validity and companions."""
    if card.revoked_at is not None and card.revoked_reason != RevokeReason.LOST:
        raise DomainError("card_already_revoked", _("Kortet er allerede sperret."))
    if card.revoked_at is None:
        revoke_card(card, RevokeReason.LOST, actor=actor)
    child = db.session.get(Child, card.child_id)
    new = issue_card(child, actor=actor, valid_from=max(today(), card.valid_from), valid_until=card.valid_until,
                     companions=card.companions, replaces=card)
    audit.record(actor, "card.replace", "card", new.id, municipality_id=card.municipality_id, old_card=card.id)
    return new


def renew_card(card: Card, valid_until: date, *, actor: User) -> Card:
    """Extend a card's validity (and the child's eligibility with it)."""
    if card.revoked_at is not None:
        raise DomainError("card_revoked", _("Kortet er sperret."))
    if valid_until <= card.valid_until:
        raise DomainError("validity_invalid", _("Ny sluttdato må være etter %(date)s.",
                                                date=card.valid_until.strftime("%d.%m.%Y")))
    child = db.session.get(Child, card.child_id)
    card.valid_until = valid_until
    if child.eligible_until < valid_until:
        child.eligible_until = valid_until
    audit.record(actor, "card.renew", "card", card.id, municipality_id=card.municipality_id,
                 valid_until=valid_until.isoformat())
    return card


def send_card_link(card: Card, *, actor: User | None) -> int:
    """Queue the family's link to every guardian, by e-mail and SMS, in each guardian's language."""
    child = db.session.get(Child, card.child_id)
    household = db.session.get(Household, child.household_id) if child.household_id else None
    if household is None or not household.guardians:
        raise DomainError("no_guardian", _("Ingen foresatt å sende til."))
    sent = 0
    for g in household.guardians:
        link = family_url(card, g.preferred_language)
        with force_locale(g.preferred_language):
            subject = _("Opplevelseskortet til %(name)s", name=child.given_name)
            body = _("Hei! Her er opplevelseskortet til %(name)s. Åpne lenken og vis QR-koden når dere kommer: "
                     "%(link)s", name=child.given_name, link=link)
        if g.email:
            outbox.enqueue(OutboxChannel.EMAIL, g.email, subject, body, kind="card_link", locale=g.preferred_language,
                           ref=f"card:{card.id}")
            sent += 1
        if g.phone:
            outbox.enqueue(OutboxChannel.SMS, g.phone, subject, body, kind="card_link", locale=g.preferred_language,
                           ref=f"card:{card.id}")
            sent += 1
    audit.record(actor, "card.send_link", "card", card.id, municipality_id=card.municipality_id, messages=sent)
    return sent


@dataclass(frozen=True)
class ImportOutreach:
    """How an import's families get their card links: sent by message, or on paper."""
    families: int  # households the import registered that hold a card
    to_send: int  # of those, with a phone or e-mail and no card link queued yet
    sent: int  # with a card link queued or sent
    unreachable: int  # with neither phone nor e-mail: their hand-over sheets are printed
    delivered: int = 0  # the import's card-link messages: sent
    waiting: int = 0  # queued or being sent
    failed: int = 0  # failed, or uncertain after a crash (staff check them on the household page)


def _import_cards(import_run_id: int):
    """The unrevoked cards of the households an import registered (Card, Household)."""
    return (db.select(Card).join(Child, Child.id == Card.child_id).join(Household, Household.id == Child.household_id)
            .where(Household.import_run_id == import_run_id, Card.revoked_at.is_(None)))


def _reachable():
    return db.exists().where(Guardian.household_id == Household.id,
                             sa.or_(Guardian.phone.is_not(None), Guardian.email.is_not(None)))


def _link_queued():
    return db.exists().where(OutboxMessage.ref == sa.literal("card:") + sa.cast(Card.id, sa.String),
                             OutboxMessage.kind == "card_link")


def import_outreach(import_run_id: int) -> ImportOutreach:
    """Families of an import by how their link reaches them (counted in the database, whatever the import's size)."""
    def families(*where) -> int:
        q = _import_cards(import_run_id).where(*where).with_only_columns(db.func.count(db.distinct(Household.id)))
        return db.session.scalar(q) or 0

    by_status = dict(db.session.execute(
        _import_cards(import_run_id).join(OutboxMessage, sa.and_(
            OutboxMessage.ref == sa.literal("card:") + sa.cast(Card.id, sa.String), OutboxMessage.kind == "card_link"))
        .with_only_columns(OutboxMessage.status, db.func.count(OutboxMessage.id)).group_by(OutboxMessage.status)).all())
    return ImportOutreach(families(), families(_reachable(), ~_link_queued()), families(_link_queued()),
                          families(~_reachable()), delivered=by_status.get(OutboxStatus.SENT, 0),
                          waiting=by_status.get(OutboxStatus.PENDING, 0) + by_status.get(OutboxStatus.SENDING, 0),
                          failed=by_status.get(OutboxStatus.FAILED, 0) + by_status.get(OutboxStatus.UNCERTAIN, 0))


def send_import_links(import_run_id: int, *, actor: User, progress: Callable[[int, int], None] | None = None) -> int:
    """Queue the card link of every family an import registered that has a phone or e-mail and has not been sent
    it yet, each guardian in their own language (`send_card_link`). Returns the number of families."""
    ids = list(db.session.scalars(_import_cards(import_run_id).where(_reachable(), ~_link_queued())
                                  .with_only_columns(Card.id).order_by(Card.id)))
    families: set[int] = set()
    for done, card_id in enumerate(ids, start=1):
        card = db.session.get(Card, card_id)
        send_card_link(card, actor=actor)
        families.add(card.child.household_id)
        if progress:
            progress(done, len(ids))
    return len(families)


SHEETS_PER_PDF = 100  # about ten seconds of work: a larger import prints its sheets in parts


def import_unreachable_cards(import_run_id: int, part: int = 1) -> list[Card]:
    """The cards of an import's families that have neither phone nor e-mail (their sheets go on paper), part
    `part` (from 1) of SHEETS_PER_PDF cards."""
    q = (_import_cards(import_run_id).where(~_reachable()).order_by(Household.id, Card.id)
         .options(joinedload(Card.child).joinedload(Child.household).selectinload(Household.guardians)))
    return list(db.session.scalars(q.offset((max(part, 1) - 1) * SHEETS_PER_PDF).limit(SHEETS_PER_PDF)))


def import_unreachable_count(import_run_id: int) -> int:
    """How many cards (sheets) the families without phone or e-mail need."""
    return db.session.scalar(_import_cards(import_run_id).where(~_reachable()).with_only_columns(
        db.func.count(Card.id))) or 0


def link_messages(cards: list[Card]) -> dict[int, list]:
    """The card-link messages of each card, newest first: how the family's link fared (sent, waiting, failed)."""
    refs = {f"card:{c.id}": c.id for c in cards}
    out: dict[int, list] = {c.id: [] for c in cards}
    if refs:
        for m in db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.ref.in_(list(refs)))
                                    .order_by(OutboxMessage.id.desc())):
            out[refs[m.ref]].append(m)
    return out


def resend_link_message(message_id: int, *, actor: User) -> Card:
    """A caseworker checked a card-link message whose sending was interrupted (or failed) and sends it again,
    under the same Message-ID (audited). Another municipality's message is not found."""
    msg = db.session.get(OutboxMessage, message_id)
    card_id = int(msg.ref.split(":", 1)[1]) if msg is not None and (msg.ref or "").startswith("card:") else None
    card = db.session.get(Card, card_id) if card_id else None
    if card is None or actor.role not in (Role.CASEWORKER, Role.ADMIN) \
            or not can_access_municipality(actor, card.municipality_id):
        raise NotFound("message_not_found", _("Fant ikke meldingen."))
    outbox.resend(msg)
    audit.record(actor, "message.resend", "outbox_message", msg.id, municipality_id=card.municipality_id)
    return card


def show_family_link(card: Card, *, actor: User) -> str:
    """The family's link, for a caseworker to copy, print or show when no message reaches the family (audited)."""
    if card.revoked_at is not None:
        raise DomainError("card_revoked", _("Kortet er sperret."))
    audit.record(actor, "card.show_link", "card", card.id, municipality_id=card.municipality_id)
    return family_url(card, guardian_language(card))


def zones_by_name(municipality: Municipality) -> list[Zone]:
    """The municipality's zones for a caseworker to pick from, by name."""
    return list(db.session.scalars(zones_of(municipality.id).order_by(None).order_by(Zone.name)))

