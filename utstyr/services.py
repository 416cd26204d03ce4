"""The equipment pool's rules: checkout, return, maintenance, reservations, reminders, statistics."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from opplevelseskort.accounts.models import User
from opplevelseskort.cards import codes
from opplevelseskort.cards import codes as card_codes
from opplevelseskort.cards import services as cards
from opplevelseskort.cards.models import Card, Child, Guardian
from opplevelseskort.core import audit
from opplevelseskort.core.clock import (
    today,  # noqa: F401  (services.today: the one Norwegian "today")
    utcnow,
)
from opplevelseskort.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from opplevelseskort.core.hours import OpeningHours
from opplevelseskort.core.images import store_jpeg
from opplevelseskort.core.models import Role
from opplevelseskort.core.ratelimit import hit_card_lookup
from opplevelseskort.core.tenancy import current_municipality
from opplevelseskort.extensions import db

from .models import (
    Borrower,
    BorrowerKind,
    ItemType,
    Loan,
    LoanLine,
    Location,
    Reservation,
    ReservationStatus,
    Unit,
    UnitCondition,
    UnitStatus,
    volunteer_location,
)

log = logging.getLogger(__name__)


def save_location(actor: User, values: dict, *, location: Location | None = None,
                  volunteer_emails: list[str] | None = None) -> Location:
    """Create or change a lending location (audited). Volunteers are named by e-mail; unknown ones are refused."""

    volunteers = []
    if volunteer_emails is not None:
        wanted = {email: email.strip().lower() for email in volunteer_emails}
        found = {u.email: u for u in db.session.scalars(db.select(User).where(
            User.email.in_(set(wanted.values())), User.role == Role.VOLUNTEER))}
        volunteers = [found[e] for e in dict.fromkeys(wanted.values()) if e in found]
        unknown = [email for email, e in wanted.items() if e not in found]
        if unknown:
            raise DomainError("volunteers_unknown", _("Ukjente frivillige: %(emails)s", emails=", ".join(unknown)))
    hours = OpeningHours.parse(values.pop("hours", "") or "", values.pop("exceptions", "") or "")
    created = location is None
    if created:
        muni_id = actor.municipality_id or current_municipality().id
        location = Location(municipality_id=muni_id)
        db.session.add(location)
    else:
        require_location(actor, location.id)
    for key, value in values.items():
        setattr(location, key, value)
    location.opening_hours = hours
    if volunteer_emails is not None:
        location.volunteers = volunteers
    db.session.flush()
    audit.record(actor, "location.create" if created else "location.update", "location", location.id,
                 municipality_id=location.municipality_id, name=location.name)
    return location


def locations_for(user: User) -> list[Location]:
    """Volunteers act at their own locations; admins at every location in reach."""
    q = db.select(Location).order_by(Location.name)
    if user.role == Role.VOLUNTEER:
        q = q.join(volunteer_location, volunteer_location.c.location_id == Location.id).where(
            volunteer_location.c.user_id == user.id)
    elif user.municipality_id is not None:
        q = q.where(Location.municipality_id == user.municipality_id)
    return list(db.session.scalars(q))


def require_location(user: User, location_id: int) -> Location:
    loc = next((l for l in locations_for(user) if l.id == location_id), None)  # noqa: E741
    if loc is None:
        raise PermissionDenied("location_forbidden", _("Du kan ikke låne ut fra dette stedet."))
    return loc


def new_label_code() -> str:
    """U + 6 random symbols + a check character (same typo-catching scheme as the cards)."""
    body = "".join(secrets.choice(codes.ALPHABET) for _ in range(6))
    raw = body + codes.ALPHABET[codes._check_value(body)]
    return "U" + raw


def valid_label_code(code: str) -> bool:
    code = codes.normalise(code)
    if len(code) != 8 or not code.startswith("U"):
        return False
    body = code[1:]
    return all(c in codes.VALUE for c in body) and \
        sum((i + 1) * codes.VALUE[c] for i, c in enumerate(body)) % codes.MOD == 0


def unit_by_code(code: str) -> Unit:
    norm = codes.normalise(code)
    if not valid_label_code(norm):
        raise NotFound("unit_unknown", _("Ukjent etikett «%(code)s». Sjekk tegnene.", code=code))
    unit = db.session.scalar(db.select(Unit).filter_by(label_code=norm))
    if unit is None:
        raise NotFound("unit_unknown", _("Ukjent etikett «%(code)s».", code=code))
    return unit


def kits_to_tick(codes_: list[str], *, shown: bool) -> list[tuple[str, list[str]]]:
    """A kit's parts are ticked before it goes out and when it comes back: (label, kit items) for each scanned unit
    that is a kit while its checklist has not been shown yet; none once it has. Unknown labels are left to the
    checkout or return to name."""
    return [] if shown else kit_lists(codes_)


def missing_at_checkout(loan: Loan) -> list[str]:
    """"<label>: <part>, <part>" for each kit that went out without all its parts ticked."""
    out = []
    for line in loan.lines:
        kit = list(line.unit.item_type.kit_items or [])
        absent = [i for i in kit if i not in (line.checklist_out or [])]
        if absent:
            out.append(f"{line.unit.label_code}: {', '.join(absent)}")
    return out


def kit_lists(codes_: list[str]) -> list[tuple[str, list[str]]]:
    """(label, kit items) for each scanned unit that is a kit; unknown labels are left to the checkout to name."""
    kits = []
    for code in codes_:
        try:
            unit = unit_by_code(code)
        except DomainError:
            continue
        if unit.item_type.kit_items:
            kits.append((unit.label_code, list(unit.item_type.kit_items)))
    return kits


def units_at(location: Location, *, status: UnitStatus | None = None, ids: list[int] | None = None) -> list[Unit]:
    q = db.select(Unit).where(Unit.location_id == location.id).order_by(Unit.item_type_id, Unit.id)
    if status is not None:
        q = q.where(Unit.status == status)
    if ids:
        q = q.where(Unit.id.in_(ids))
    return list(db.session.scalars(q))


def item_types(municipality_id: int) -> list[ItemType]:
    return list(db.session.scalars(db.select(ItemType).where(ItemType.municipality_id == municipality_id)
                                   .order_by(ItemType.name, ItemType.size)))


def item_type_for(municipality_id: int, *, name: str, size: str = "", category: str, default_loan_days: int = 7,
                  guardian_consent_required: bool = False, kit_items: list[str] | None = None) -> ItemType:
    """The item type of that name and size in the municipality, made on first use. The database holds one per
    (municipality, name, size); two desks registering the same new type at once get the same row."""
    name, size = name.strip(), (size or "").strip()
    query = db.select(ItemType).filter_by(municipality_id=municipality_id, name=name, size=size)
    found = db.session.scalar(query)
    if found is not None:
        return found
    item_type = ItemType(municipality_id=municipality_id, name=name, size=size, category=category,
                         default_loan_days=default_loan_days, guardian_consent_required=guardian_consent_required,
                         kit_items=[i.strip() for i in (kit_items or []) if i.strip()])
    try:
        with db.session.begin_nested():
            db.session.add(item_type)
            db.session.flush()
    except sa.exc.IntegrityError:  # made meanwhile by another request
        item_type = db.session.scalar(query)
    return item_type


def register_units(location: Location, *, name: str, size: str, category: str, count: int, actor: User,
                   default_loan_days: int = 7, guardian_consent_required: bool = False,
                   kit_items: list[str] | None = None, photo: bytes | None = None,
                   safety_expires_on: date | None = None) -> list[Unit]:
    """New labelled units of a type (made on first use) at a location, with the type's photo if one is given."""
    item_type = item_type_for(location.municipality_id, name=name, size=size, category=category,
                              default_loan_days=default_loan_days,
                              guardian_consent_required=guardian_consent_required, kit_items=kit_items)
    if photo:
        store_jpeg(photo, photo_key(item_type))
        item_type.has_photo = True
    return add_units(item_type, location, count, safety_expires_on=safety_expires_on, actor=actor)


def add_units(item_type: ItemType, location: Location, count: int, *, source: str = "donation",
              acquired_on: date | None = None, safety_expires_on: date | None = None,
              actor: User | None = None) -> list[Unit]:
    """Register `count` new physical units, each with its own label code."""
    if not 1 <= count <= 500:
        raise DomainError("count_invalid", _("Antall må være 1–500."))
    units = [Unit(item_type_id=item_type.id, location_id=location.id, label_code=new_label_code(), source=source,
                  acquired_on=acquired_on or today(), safety_expires_on=safety_expires_on) for _ in range(count)]
    db.session.add_all(units)
    db.session.flush()
    audit.record(actor, "unit.add", "item_type", item_type.id, municipality_id=location.municipality_id, count=count)
    return units


def photo_key(item_type: ItemType) -> str:
    return f"item_type/{item_type.id}.jpg"


def borrower_for_card(card_code: str, municipality_id: int) -> Borrower:
    """The borrower record of a card holder (made on first loan); the card must be valid today."""
    # The card row is locked, so the first loans of a fresh card made at two desks at once make one borrower.
    card = cards.lookup_card(card_code, lock=True, municipality_id=municipality_id)
    cards.assert_card_valid(card, today())
    b = db.session.scalar(db.select(Borrower).filter_by(card_id=card.id))
    if b is None:
        child = card.child
        b = Borrower(municipality_id=card.municipality_id, kind=BorrowerKind.CARD_HOLDER,
                     name=child.given_name or "", card_id=card.id, zone_id=child.zone_id, birth_year=child.birth_year,
                     guardian_consent=True)
        try:
            with db.session.begin_nested():
                db.session.add(b)
                db.session.flush()
        except sa.exc.IntegrityError:  # made meanwhile where the card row could not be locked (SQLite)
            b = db.session.scalar(db.select(Borrower).filter_by(card_id=card.id))
    return b


def resolve_borrower(municipality_id: int, *, card_code: str | None = None,
                     borrower_id: int | None = None) -> Borrower:
    """The borrower a desk or the API means: a card (made a borrower on first loan) or a borrower number, in the
    location's municipality only."""
    if card_code and card_code.strip():
        return borrower_for_card(card_code, municipality_id)
    if borrower_id:
        b = db.session.get(Borrower, borrower_id)
        if b is None or b.municipality_id != municipality_id:
            raise NotFound("borrower_unknown", _("Ukjent låner."))
        return b
    raise DomainError("borrower_missing", _("Skann kortet eller skriv lånernummeret."))


def borrower_in(municipality_id: int, borrower_id: int) -> Borrower | None:
    """A borrower of this municipality by number, or None."""
    b = db.session.get(Borrower, borrower_id)
    return b if b is not None and b.municipality_id == municipality_id else None


def search_borrowers(municipality_id: int, query: str, limit: int = 20) -> list[Borrower]:
    """Borrowers by name, phone (digits, any spacing or +47) or card code, in one municipality."""
    text = (query or "").strip()
    if len(text) < 2 and not text.isdigit():  # one letter matches everyone; a borrower number may be one digit
        return []
    conditions = [Borrower.name.ilike(f"%{text.replace('%', '').replace('_', '')}%")]
    if card_codes.looks_like_short_code(text):
        hit_card_lookup()  # a card code search is a card look-up: same budget as the scanner
        conditions.append(Borrower.card_id.in_(db.select(Card.id).where(
            Card.municipality_id == municipality_id, Card.short_code == card_codes.normalise(text))))
    # a card holder is found by the child's full name and the guardians' phones, as a library desk finds a member
    like = f"%{text.lower().replace('%', '').replace('_', '')}%"
    holders = sa.select(Card.id).join(Child, Child.id == Card.child_id).where(Card.municipality_id == municipality_id)
    conditions.append(Borrower.card_id.in_(holders.where(
        sa.func.lower(Child.given_name + " " + Child.family_name).like(like))))
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 4:
        digits = digits[2:] if digits.startswith("47") and len(digits) == 10 else digits
        conditions.append(sa.func.replace(sa.func.replace(Borrower.phone, " ", ""), "+47", "").contains(digits))
        conditions.append(Borrower.card_id.in_(holders.join(Guardian, Guardian.household_id == Child.household_id)
                                               .where(sa.func.replace(Guardian.phone, "+47", "").contains(digits))))
    if text.isdigit() and int(text) < 2**31:
        conditions.append(Borrower.id == int(text))
    return list(db.session.scalars(db.select(Borrower).where(Borrower.municipality_id == municipality_id,
                                                             sa.or_(*conditions)).order_by(Borrower.name).limit(limit)))


def holder_details(borrowers: list[Borrower]) -> dict[int, tuple[str, str | None]]:
    """For staff at the desk: each card-holder borrower's child's full name and a guardian's phone, in one
    statement (a card holder is stored by given name only)."""
    ids = [b.card_id for b in borrowers if b.card_id]
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Card.id, Child.given_name, Child.family_name, Guardian.phone).join(Child, Child.id == Card.child_id)
        .outerjoin(Guardian, Guardian.household_id == Child.household_id).where(Card.id.in_(ids))
        .order_by(Card.id, Guardian.id)).all()
    out: dict[int, tuple[str, str | None]] = {}
    for card_id, given, family, phone in rows:
        if card_id not in out or (out[card_id][1] is None and phone):
            out[card_id] = (" ".join(p for p in (given, family) if p), phone)
    return {b.id: out[b.card_id] for b in borrowers if b.card_id in out}


@dataclass
class BorrowerHistory:
    current: list[LoanLine]
    past: list[LoanLine]
    reservations: list  # active first, then the latest others


def borrower_history(b: Borrower, past_limit: int = 50) -> BorrowerHistory:
    lines = list(db.session.scalars(db.select(LoanLine).join(Loan).where(Loan.borrower_id == b.id)
                                    .order_by(LoanLine.checked_out_at.desc())))
    reservations = list(db.session.scalars(db.select(Reservation).where(Reservation.borrower_id == b.id)
                                           .order_by((Reservation.status == ReservationStatus.ACTIVE).desc(),
                                                     Reservation.date_from.desc()).limit(past_limit)))
    return BorrowerHistory([ln for ln in lines if ln.returned_at is None],
                           [ln for ln in lines if ln.returned_at is not None][:past_limit], reservations)


def register_borrower(municipality_id: int, *, kind: str, name: str, phone: str | None = None,
                      email: str | None = None, zone_id: int | None = None, responsible: Borrower | None = None,
                      birth_year: int | None = None, guardian_consent: bool = False,
                      actor: User | None = None) -> Borrower:
    """Register a responsible adult, a child under one, or a group (class, club) with minimal data."""
    kind = BorrowerKind(kind)
    if not (name or "").strip():
        raise DomainError("borrower_invalid", _("Navn mangler."))
    if kind in (BorrowerKind.ADULT, BorrowerKind.GROUP) and not ((phone or "").strip() or (email or "").strip()):
        raise DomainError("borrower_invalid", _("Oppgi telefon eller e-post."))
    if kind == BorrowerKind.CHILD and (responsible is None or birth_year is None):
        raise DomainError("borrower_invalid", _("Et barn må ha en ansvarlig voksen og et fødselsår."))
    b = Borrower(municipality_id=municipality_id, kind=kind, name=name.strip(), phone=(phone or "").strip() or None,
                 email=(email or "").strip() or None, zone_id=zone_id, responsible_id=responsible.id if responsible else None,
                 birth_year=birth_year, guardian_consent=guardian_consent)
    db.session.add(b)
    db.session.flush()
    audit.record(actor, "borrower.create", "borrower", b.id, municipality_id=municipality_id)
    return b


def block_borrower(b: Borrower, reason: str, *, actor: User) -> None:
    if not (reason or "").strip():
        raise DomainError("reason_required", _("Skriv en grunn."))
    b.blocked_at, b.blocked_reason = utcnow(), reason.strip()
    audit.record(actor, "borrower.block", "borrower", b.id, municipality_id=b.municipality_id)


def unblock_borrower(b: Borrower, *, actor: User) -> None:
    b.blocked_at, b.blocked_reason = None, None
    audit.record(actor, "borrower.unblock", "borrower", b.id, municipality_id=b.municipality_id)


def _household_key(b: Borrower):
    if b.kind == BorrowerKind.CHILD and b.responsible_id:
        return ("adult", b.responsible_id)
    if b.kind == BorrowerKind.CARD_HOLDER and b.card_id:
        hid = db.session.scalar(db.select(Child.household_id).join(Card, Card.child_id == Child.id)
                                .where(Card.id == b.card_id))
        return ("household", hid) if hid else ("borrower", b.id)
    return ("adult", b.id) if b.kind == BorrowerKind.ADULT else ("borrower", b.id)


def _household_borrower_ids(b: Borrower) -> list[int]:
    key = _household_key(b)
    if key[0] == "adult":
        return list(db.session.scalars(db.select(Borrower.id).where(
            sa.or_(Borrower.id == key[1], Borrower.responsible_id == key[1]))))
    if key[0] == "household":
        return list(db.session.scalars(db.select(Borrower.id).join(Card, Card.id == Borrower.card_id)
                                       .join(Child, Child.id == Card.child_id).where(Child.household_id == key[1])))
    return [b.id]


def _unit_refusal(unit: Unit, on: date) -> DomainError | None:
    reasons = {
        UnitStatus.ON_LOAN: _("%(code)s er allerede lånt ut.", code=unit.label_code),
        UnitStatus.MAINTENANCE: _("%(code)s er til reparasjon.", code=unit.label_code),
        UnitStatus.UNCHECKED: _("%(code)s er levert, men ikke sjekket ennå.", code=unit.label_code),
        UnitStatus.RETIRED: _("%(code)s er tatt ut av bruk.", code=unit.label_code),
        UnitStatus.LOST: _("%(code)s er meldt tapt.", code=unit.label_code),
    }
    if unit.status in reasons:
        return Conflict("unit_not_available", reasons[unit.status], unit=unit.label_code, status=str(unit.status))
    if unit.safety_expires_on is not None and unit.safety_expires_on < on:
        return Conflict("unit_not_available", _("%(code)s er for gammel til å lånes ut (sikkerhetsdato %(date)s).",
                                                code=unit.label_code, date=unit.safety_expires_on.isoformat()),
                        unit=unit.label_code, status="safety_expired")
    return None


def checkout(location: Location, borrower: Borrower, unit_codes: list[str], *, volunteer: User,
             due_on: date | None = None, checklists: dict[str, list[str]] | None = None,
             reservation: Reservation | None = None, late_reason: str | None = None) -> Loan:
    """Lend several units in one loan; any refused unit refuses the whole loan (nothing half-written).

    A loan registered afterwards (the desk was offline, the paper list typed in the next day) may have a due
    date that has passed, with `late_reason` saying why (kept in the audit log): it is overdue at once."""
    if borrower.blocked_at is not None:
        raise DomainError("borrower_blocked", _("Låneren er sperret: %(reason)s", reason=borrower.blocked_reason or ""))
    codes_clean = _scanned_codes(unit_codes)
    on = today()
    units = [unit_by_code(c) for c in codes_clean]
    for unit in units:
        _check_unit_lendable(unit, location, borrower, on)
    _check_borrower_may_take(location, borrower, len(units), on)
    due = due_on or on + timedelta(days=min(u.item_type.default_loan_days for u in units))
    late_reason = (late_reason or "").strip()
    if due < on and not late_reason:
        raise DomainError("due_invalid", _("Innleveringsdatoen har passert. Registreres lånet i etterkant, skriv "
                                           "hvorfor."))
    loan = Loan(borrower_id=borrower.id, location_id=location.id, volunteer_id=volunteer.id, due_on=due,
                reservation_id=reservation.id if reservation else None)
    db.session.add(loan)
    db.session.flush()
    _take_units(loan, units, checklists or {}, codes_clean)
    if reservation is not None:
        reservation.status = ReservationStatus.PICKED_UP
    audit.record(volunteer, "loan.create", "loan", loan.id, municipality_id=location.municipality_id,
                 units=len(units), **({"due_on": due.isoformat(), "late_reason": late_reason} if due < on else {}))
    return loan


def _scanned_codes(unit_codes: list[str]) -> list[str]:
    """The scanned codes, normalised: at least one, none twice."""
    codes_clean = [codes.normalise(c) for c in unit_codes if (c or "").strip()]
    if not codes_clean:
        raise DomainError("no_units", _("Skann minst én enhet."))
    if len(set(codes_clean)) != len(codes_clean):
        raise DomainError("duplicate_unit", _("Samme enhet er skannet to ganger."))
    return codes_clean


def _check_unit_lendable(unit: Unit, location: Location, borrower: Borrower, on: date) -> None:
    """The unit is this location's, free to lend today, and (where its type asks) the child has consent."""
    if unit.location_id != location.id:
        raise Conflict("unit_not_available", _("%(code)s hører til et annet utlånssted.", code=unit.label_code),
                       unit=unit.label_code, status="other_location")
    refusal = _unit_refusal(unit, on)
    if refusal:
        raise refusal
    if unit.item_type.guardian_consent_required and borrower.kind == BorrowerKind.CHILD and \
            not borrower.guardian_consent:
        raise DomainError("guardian_consent_required",
                          _("%(item)s krever samtykke fra foresatt.", item=unit.item_type.display_name()))


def _check_borrower_may_take(location: Location, borrower: Borrower, adding: int, on: date) -> None:
    """A child old enough to borrow alone here, and the household within the location's peak-season cap."""
    if borrower.kind == BorrowerKind.CHILD and location.solo_age is not None and borrower.birth_year is not None:
        if on.year - borrower.birth_year < location.solo_age:
            raise DomainError("too_young_alone", _("Barn under %(age)d år må låne sammen med en voksen.",
                                                   age=location.solo_age))
    _check_household_cap(location, borrower, adding, on)


def _take_units(loan: Loan, units: list[Unit], checklists: dict[str, list[str]], codes_clean: list[str]) -> None:
    """Each unit marked on loan and given a loan line with its kit as ticked. The conditional update and the
    partial unique index (one open line per unit) both make a second, concurrent checkout fail."""
    for unit in units:
        res = db.session.execute(sa.update(Unit).where(Unit.id == unit.id, Unit.status == UnitStatus.AVAILABLE)
                                 .values(status=UnitStatus.ON_LOAN).execution_options(synchronize_session=False))
        if res.rowcount != 1:
            raise Conflict("unit_not_available", _("%(code)s er allerede lånt ut.", code=unit.label_code),
                           unit=unit.label_code, status="on_loan")
        kit = list(unit.item_type.kit_items or [])
        ticked = checklists.get(unit.label_code, kit)
        db.session.add(LoanLine(loan_id=loan.id, unit_id=unit.id, checklist_out=[i for i in kit if i in ticked]))
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        raise Conflict("unit_not_available", _("En av enhetene ble lånt ut samtidig av noen andre."),
                       unit=",".join(codes_clean), status="on_loan") from None
    for unit in units:
        db.session.expire(unit, ["status"])


def _check_household_cap(location: Location, borrower: Borrower, adding: int, on: date) -> None:
    if not location.household_cap or not location.peak_from or not location.peak_until:
        return
    if not (location.peak_from <= on <= location.peak_until):
        return
    ids = _household_borrower_ids(borrower)
    held = db.session.scalar(db.select(sa.func.count(LoanLine.id)).join(Loan, Loan.id == LoanLine.loan_id).where(
        Loan.borrower_id.in_(ids), LoanLine.returned_at.is_(None)))
    if held + adding > location.household_cap:
        raise DomainError("household_cap", _("I høysesongen kan en husstand låne høyst %(n)d enheter.",
                                             n=location.household_cap))


def return_loan(loan: Loan, unit_codes: list[str] | None, *, volunteer: User, condition: str = "good") -> Loan:
    """Return every open unit of a loan, or only those listed, in one condition; nothing open is a refusal."""
    require_location(volunteer, loan.location_id)
    wanted = {codes.normalise(c) for c in unit_codes} if unit_codes else None
    open_lines = [line for line in loan.lines if line.returned_at is None
                  and (wanted is None or line.unit.label_code in wanted)]
    if not open_lines:
        raise DomainError("not_on_loan", _("Ingen enheter å levere."))
    for line in open_lines:
        return_unit(line.unit.label_code, volunteer=volunteer, condition=condition)
    return loan


def return_unit(unit_code: str, *, volunteer: User, condition: str = "good", unchecked: bool = False,
                checklist_in: list[str] | None = None, missing: str = "", lost: bool = False) -> LoanLine:
    """Return one unit: back in stock, to maintenance (needs repair), to the unchecked queue, or written off."""
    unit = unit_by_code(unit_code)
    line = db.session.scalar(db.select(LoanLine).where(LoanLine.unit_id == unit.id, LoanLine.returned_at.is_(None)))
    if line is None:
        raise DomainError("not_on_loan", _("%(code)s er ikke lånt ut.", code=unit.label_code))
    require_location(volunteer, unit.location_id)
    condition = _condition(condition)
    kit = list(unit.item_type.kit_items or [])
    line.returned_at = utcnow()
    line.return_condition = condition
    line.checklist_in = [i for i in kit if i in (checklist_in if checklist_in is not None else kit)]
    absent = [i for i in kit if i not in line.checklist_in]
    line.missing = "; ".join(filter(None, [", ".join(absent), (missing or "").strip()]))
    unit.condition = condition
    if lost:
        unit.status = UnitStatus.LOST
    elif condition == UnitCondition.NEEDS_REPAIR:
        unit.status = UnitStatus.MAINTENANCE
    elif unchecked:
        unit.status = UnitStatus.UNCHECKED
    else:
        unit.status = UnitStatus.AVAILABLE
    db.session.flush()
    audit.record(volunteer, "loan.return", "loan", line.loan_id, unit=unit.label_code, condition=str(condition),
                 status=str(unit.status))
    return line


def _condition(value: str) -> UnitCondition:
    try:
        return UnitCondition(value)
    except ValueError:
        raise DomainError("condition_invalid", _("Ukjent tilstand «%(value)s». Velg god, slitt eller trenger reparasjon.",
                                                 value=str(value)[:40])) from None


def finish_check(unit: Unit, *, volunteer: User, condition: str = "good") -> Unit:
    """Clear a unit from the 'returned, not yet checked' queue."""
    require_location(volunteer, unit.location_id)
    if unit.status != UnitStatus.UNCHECKED:
        raise DomainError("not_unchecked", _("Enheten står ikke i køen."))
    unit.condition = _condition(condition)
    unit.status = UnitStatus.MAINTENANCE if unit.condition == UnitCondition.NEEDS_REPAIR else UnitStatus.AVAILABLE
    return unit


def repaired(unit: Unit, *, volunteer: User) -> Unit:
    """A unit fixed in maintenance comes back into stock."""
    require_location(volunteer, unit.location_id)
    if unit.status != UnitStatus.MAINTENANCE:
        raise DomainError("not_in_maintenance", _("Enheten er ikke til reparasjon."))
    unit.status, unit.condition = UnitStatus.AVAILABLE, UnitCondition.GOOD
    return unit


def retire(unit: Unit, *, volunteer: User, lost: bool = False) -> Unit:
    """Write a unit off (worn out or lost)."""
    require_location(volunteer, unit.location_id)
    unit.status = UnitStatus.LOST if lost else UnitStatus.RETIRED
    audit.record(volunteer, "unit.write_off", "unit", unit.id, status=str(unit.status))
    return unit

