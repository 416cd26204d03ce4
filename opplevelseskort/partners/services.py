"""Partners, offers, the catalogue and bookings with a waiting list.
Writes are flushed; the request's boundary (accounts.uow) or the CLI commits."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_babel import gettext as _

from ..accounts import services as accounts
from ..accounts.models import User
from ..core import audit, municipalities, outbox
from ..core.clock import OSLO, local_date, utcnow
from ..core.errors import Conflict, DomainError, NotFound, PermissionDenied
from ..core.hours import OpeningHours
from ..core.images import store_jpeg
from ..core.models import Municipality, OutboxChannel, OutboxMessage, Role
from ..core.permissions import can_access_municipality, scope_to_municipality
from ..core.validation import EMAIL_RE, valid_org_number
from ..extensions import db
from ..zones.models import Zone
from ..zones.services import find_zone
from .models import (
    LimitPeriod,
    Occasion,
    Offer,
    OfferCategory,
    OfferStatus,
    Partner,
    PartnerKind,
    PartnerMember,
    PartnerStatus,
)

log = logging.getLogger(__name__)


@dataclass
class PartnerInput:
    name: str
    org_number: str
    kind: str
    contact_name: str
    contact_email: str
    contact_phone: str = ""
    address: str = ""
    zone: str = ""


def register_partner(municipality: Municipality, data: PartnerInput) -> Partner:
    """A club, business, group or service registers itself; it waits as pending for an admin."""
    errors = []
    org = re.sub(r"\s", "", data.org_number or "")
    if not (data.name or "").strip():
        errors.append(_("Navn mangler."))
    if not valid_org_number(org):
        errors.append(_("«%(value)s» er ikke et gyldig organisasjonsnummer (9 siffer med kontrollsiffer).",
                        value=data.org_number))
    elif db.session.scalar(db.select(Partner.id).filter_by(org_number=org)):
        errors.append(_("Organisasjonsnummeret %(value)s er allerede registrert.", value=org))
    if data.kind not in {k.value for k in PartnerKind}:
        errors.append(_("Velg type organisasjon."))
    if not (data.contact_name or "").strip():
        errors.append(_("Kontaktperson mangler."))
    if not EMAIL_RE.match((data.contact_email or "").strip()):
        errors.append(_("«%(value)s» er ikke en gyldig e-postadresse.", value=data.contact_email))
    zone = None
    if (data.zone or "").strip():
        try:
            zone = find_zone(municipality.id, data.zone)
        except DomainError as exc:
            errors.append(exc.message)
    if errors:
        raise DomainError("partner_invalid", " ".join(errors), errors=errors)
    partner = Partner(municipality_id=municipality.id, name=data.name.strip(), org_number=org,
                      kind=PartnerKind(data.kind), status=PartnerStatus.PENDING, contact_name=data.contact_name.strip(),
                      contact_email=data.contact_email.strip().lower(), contact_phone=(data.contact_phone or "").strip(),
                      address=(data.address or "").strip(), zone_id=zone.id if zone else None)
    db.session.add(partner)
    db.session.flush()
    municipalities.catalogue_changed(municipality.id)
    audit.record(None, "partner.register", "partner", partner.id, municipality_id=municipality.id)
    return partner


# Which status change each status allows: the admin's buttons (`status_actions`) and the services check the same.
STATUS_ACTIONS = {PartnerStatus.PENDING: ("approve", "reject"), PartnerStatus.APPROVED: ("suspend",),
                  PartnerStatus.SUSPENDED: ("approve",), PartnerStatus.REJECTED: ("approve",)}


def status_actions(partner: Partner) -> tuple[str, ...]:
    """The status changes an admin may make to the partner now ("approve", "reject", "suspend")."""
    return STATUS_ACTIONS.get(PartnerStatus(partner.status), ())


def approve_partner(partner: Partner, *, actor: User) -> User | None:
    """Approve a pending partner and invite its first user (the contact person) by e-mail."""
    if "approve" not in status_actions(partner):
        raise DomainError("partner_not_pending", _("Partneren er allerede godkjent."))
    was_suspended = partner.status == PartnerStatus.SUSPENDED
    partner.status = PartnerStatus.APPROVED
    partner.status_reason = ""
    municipalities.catalogue_changed(partner.municipality_id)  # its offers join the catalogue
    audit.record(actor, "partner.approve", "partner", partner.id, municipality_id=partner.municipality_id)
    if was_suspended or db.session.scalar(db.select(PartnerMember.user_id).filter_by(partner_id=partner.id).limit(1)):
        return None
    existing = db.session.scalar(db.select(User.id).filter_by(email=partner.contact_email))
    if existing:
        raise Conflict("email_taken", _("Det finnes allerede en bruker med e-postadressen %(email)s.",
                                        email=partner.contact_email))
    # No password is made up for them, sent or stored in a message: the contact person sets their own through a
    # single-use, expiring link.
    user = create_staff_user(partner.contact_email, accounts.unusable_password(), Role.PARTNER,
                             name=partner.contact_name, municipality_id=partner.municipality_id, partner_id=partner.id,
                             actor=actor)
    link = accounts.password_link(user)
    outbox.enqueue(OutboxChannel.EMAIL, partner.contact_email, _("Velkommen som partner i opplevelseskortet"),
                   _("%(name)s er godkjent. Velg ditt eget passord for %(email)s her (lenken virker én gang, i "
                     "%(hours)d timer): %(link)s", name=partner.name, email=partner.contact_email,
                     hours=current_app.config["PASSWORD_LINK_HOURS"], link=link),
                   kind="partner_invite", ref=f"partner:{partner.id}")
    return user


def invitations(partners: list[Partner]) -> dict[int, OutboxMessage | None]:
    """Each approved partner's latest invitation message (its state shows on the admin's list)."""
    latest = outbox.latest_by_ref([f"partner:{p.id}" for p in partners], kind="partner_invite")
    return {p.id: latest.get(f"partner:{p.id}") for p in partners}


def reject_partner(partner: Partner, reason: str, *, actor: User) -> None:
    """Reject a registration with a reason that is sent to the contact person."""
    if "reject" not in status_actions(partner):
        raise DomainError("partner_not_pending", _("Bare registreringer som venter, kan avvises."))
    if not (reason or "").strip():
        raise DomainError("reason_required", _("Skriv en begrunnelse."))
    partner.status = PartnerStatus.REJECTED
    partner.status_reason = reason.strip()
    municipalities.catalogue_changed(partner.municipality_id)
    outbox.enqueue(OutboxChannel.EMAIL, partner.contact_email, _("Registreringen er ikke godkjent"),
                   _("Registreringen av %(name)s er ikke godkjent. Begrunnelse: %(reason)s", name=partner.name,
                     reason=reason.strip()), kind="partner_reject")
    audit.record(actor, "partner.reject", "partner", partner.id, municipality_id=partner.municipality_id)


def suspend_partner(partner: Partner, reason: str, *, actor: User) -> None:
    """Suspend an approved partner: its offers leave the catalogue and its users cannot check in."""
    if "suspend" not in status_actions(partner):
        raise DomainError("partner_not_approved", _("Bare godkjente partnere kan suspenderes."))
    partner.status = PartnerStatus.SUSPENDED
    partner.status_reason = (reason or "").strip()
    municipalities.catalogue_changed(partner.municipality_id)  # its offers leave the catalogue
    audit.record(actor, "partner.suspend", "partner", partner.id, municipality_id=partner.municipality_id)


def partners_for_admin(actor: User):
    q = db.select(Partner).order_by(Partner.status, Partner.name)
    if actor.municipality_id is not None:
        q = q.where(Partner.municipality_id == actor.municipality_id)
    return list(db.session.scalars(q))


def partners_waiting_count(actor: User) -> int:
    """Partners waiting for approval in the admin's municipality (or every one the admin serves): the dashboard's
    count."""
    q = db.select(db.func.count(Partner.id)).where(Partner.status == PartnerStatus.PENDING)
    return db.session.scalar(scope_to_municipality(q, Partner.municipality_id, actor)) or 0


def _known_partners() -> dict | None:
    """What this request learnt of users' partners (partners' own memo, in the request's WSGI environ: no other
    part fills or reads it)."""
    return request.environ.setdefault("opplevelseskort.partners.partner_of", {}) if has_request_context() else None


def partner_id_of(user: User) -> int | None:
    """The partner organisation a user works for (partner users only). Asked once a request."""
    if user.role != Role.PARTNER:
        return None
    known = _known_partners()
    if known is not None and user.id in known:
        return known[user.id]
    member = db.session.get(PartnerMember, user.id)
    found = member.partner_id if member else None
    if known is not None:
        known[user.id] = found
    return found


def _remember_partner_of(user: User, partner_id: int | None) -> None:
    """A write that tied the user to a partner tells the request's memo."""
    known = _known_partners()
    if known is not None and user.role == Role.PARTNER:
        known[user.id] = partner_id


def create_staff_user(email: str, password: str, role: Role | str, *, name: str = "",
                      municipality_id: int | None = None, partner_id: int | None = None,
                      actor: User | None = None) -> User:
    """Create a staff user (core) and, for a partner user, tie them to their organisation, which must exist in
    their municipality."""
    user = accounts.create_user(email, password, role, name=name, municipality_id=municipality_id, actor=actor)
    attach_partner(user, partner_id)
    return user


def update_staff_user(user: User, *, actor: User, partner_id: int | None | type(...) = ..., **changes) -> User:
    """Change a staff user (core's rules) and their partner tie: a partner user keeps or gets one, any other role
    has none."""
    accounts.update_user(user, actor=actor, **changes)
    attach_partner(user, partner_id)
    return user


def attach_partner(user: User, partner_id) -> None:
    """Tie a partner user to their organisation. `...` keeps the present tie; a user of another role has none.
    The organisation must exist and, for a user bound to a municipality, be one of that municipality's."""
    member = db.session.get(PartnerMember, user.id)
    if partner_id is ...:
        partner_id = member.partner_id if member else None
    if user.role != Role.PARTNER:
        partner_id = None
    if partner_id is None:
        if user.role == Role.PARTNER:
            raise DomainError("partner_required", _("En partnerbruker må høre til en partnerorganisasjon."))
        if member is not None:
            db.session.delete(member)
            db.session.flush()
        known = _known_partners()
        if known is not None:
            known.pop(user.id, None)
        return
    partner = db.session.get(Partner, partner_id)
    if partner is None or (user.municipality_id is not None and partner.municipality_id != user.municipality_id):
        raise DomainError("partner_unknown", _("Fant ikke partnerorganisasjonen i brukerens kommune."))
    if member is None:
        db.session.add(PartnerMember(user_id=user.id, partner_id=partner.id))
    else:
        member.partner_id = partner.id
    db.session.flush()
    _remember_partner_of(user, partner.id)


def can_act_for_partner(user: User, partner_id: int | None, municipality_id: int | None) -> bool:
    """A partner user acts only for their own organisation; admins for those of their own municipality
    (an admin bound to municipality A never acts on B's partners, offers or visits)."""
    if user.role == Role.PARTNER:
        return partner_id is not None and partner_id_of(user) == partner_id
    return user.role == Role.ADMIN and can_access_municipality(user, municipality_id)


def require_active_partner(user: User) -> Partner:
    own = partner_id_of(user)
    partner = db.session.get(Partner, own) if own else None
    if partner is None or partner.status != PartnerStatus.APPROVED:
        raise PermissionDenied("partner_inactive", _("Organisasjonen din er ikke godkjent eller er suspendert."))
    return partner


def offers_of(user: User):
    """The offers a user may manage: a partner's own organisation's only (the one scoping helper)."""
    q = db.select(Offer).order_by(Offer.status, Offer.title)
    if user.role == Role.PARTNER:
        return q.where(Offer.partner_id == partner_id_of(user))
    if user.municipality_id is not None:
        return q.where(Offer.municipality_id == user.municipality_id)
    return q


def get_offer_for_edit(user: User, offer_id: int) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None or not can_act_for_partner(user, offer.partner_id, offer.municipality_id):
        raise NotFound("offer_not_found", _("Fant ikke tilbudet."))
    return offer


OFFER_FIELDS = ("title", "description", "category", "age_min", "age_max", "address", "start_date", "end_date",
                "opening_hours", "companions_allowed", "price_nok", "use_limit", "use_limit_period",
                "requires_booking", "status", "lat", "lon")


def _validate_offer(values: dict) -> list[str]:
    errors = []
    if not (values.get("title") or "").strip():
        errors.append(_("Tittel på bokmål må fylles ut."))
    if values.get("category") not in {c.value for c in OfferCategory}:
        errors.append(_("Velg kategori."))
    amin, amax = values.get("age_min"), values.get("age_max")
    if amin is None or amax is None or amin < 0 or amax < amin or amax > 25:
        errors.append(_("Aldersgruppen må være fra 0 til 25 år, og «fra» kan ikke være større enn «til»."))
    if not values.get("start_date") or not values.get("end_date") or values["end_date"] < values["start_date"]:
        errors.append(_("Perioden må ha en startdato og en sluttdato som ikke er før startdatoen."))
    if (values.get("price_nok") or 0) < 0:
        errors.append(_("Prisen kan ikke være negativ."))
    if values.get("use_limit") is not None and values["use_limit"] < 1:
        errors.append(_("Grensen for bruk må være minst 1."))
    if values.get("status") not in {s.value for s in OfferStatus}:
        errors.append(_("Ukjent status."))
    if (values.get("lat") is None) != (values.get("lon") is None):
        errors.append(_("Kartpunkt trenger både breddegrad og lengdegrad."))
    return errors


def save_offer(user: User, values: dict, translations: dict, *, offer: Offer | None = None,
               zone_text: str = "") -> Offer:
    """Create or update an offer of the user's own organisation; every field valid or nothing changes."""
    partner = require_active_partner(user) if user.role == Role.PARTNER else (
        db.session.get(Partner, offer.partner_id) if offer else None)
    if partner is None:
        raise PermissionDenied("partner_inactive", _("Organisasjonen din er ikke godkjent eller er suspendert."))
    if offer is not None and not can_act_for_partner(user, offer.partner_id, offer.municipality_id):
        raise NotFound("offer_not_found", _("Fant ikke tilbudet."))
    errors = _validate_offer(values)
    values = dict(values)
    if isinstance(values.get("opening_hours"), str | None):  # typed as staff write them: the one hours parser
        try:
            values["opening_hours"] = OpeningHours.parse_text(values.get("opening_hours") or "")
        except DomainError as exc:
            errors.append(exc.message)
    zone = None
    if zone_text.strip():
        try:
            zone = find_zone(partner.municipality_id, zone_text)
        except DomainError as exc:
            errors.append(exc.message)
    if errors:
        raise DomainError("offer_invalid", " ".join(errors), errors=errors)
    if offer is None:
        offer = Offer(partner_id=partner.id, municipality_id=partner.municipality_id)
        db.session.add(offer)
    for name in OFFER_FIELDS:
        if name in values:
            setattr(offer, name, values[name])
    offer.category = OfferCategory(values["category"])
    offer.status = OfferStatus(values["status"])
    offer.use_limit_period = LimitPeriod(values.get("use_limit_period") or "period")
    offer.zone_id = zone.id if zone else None
    offer.translations = {k: v for k, v in (translations or {}).items() if v.get("title") or v.get("description")}
    db.session.flush()
    municipalities.catalogue_changed(offer.municipality_id)
    audit.record(user, "offer.save", "offer", offer.id, municipality_id=offer.municipality_id)
    return offer


def image_key(offer: Offer) -> str:
    return f"offer/{offer.id}.jpg"


def set_offer_image(offer: Offer, data: bytes, *, actor: User) -> None:
    """Store an offer's picture (verified, re-encoded as JPEG without metadata, at most 2 MB)."""
    if not can_act_for_partner(actor, offer.partner_id, offer.municipality_id):
        raise NotFound("offer_not_found", _("Fant ikke tilbudet."))
    store_jpeg(data, image_key(offer))
    offer.has_image = True
    municipalities.catalogue_changed(offer.municipality_id)


def add_occasion(offer: Offer, starts_at: datetime, ends_at: datetime, capacity: int | None, *, actor: User) -> Occasion:
    """Add a dated occasion (with places, if the offer is booked); a suspended partner adds nothing."""
    if not can_act_for_partner(actor, offer.partner_id, offer.municipality_id):
        raise NotFound("offer_not_found", _("Fant ikke tilbudet."))
    if actor.role == Role.PARTNER:
        require_active_partner(actor)
    if ends_at <= starts_at:
        raise DomainError("occasion_invalid", _("Slutt må være etter start."))
    if capacity is not None and capacity < 1:
        raise DomainError("occasion_invalid", _("Antall plasser må være minst 1."))
    occ = Occasion(offer_id=offer.id, starts_at=starts_at, ends_at=ends_at, capacity=capacity, booked=0)
    db.session.add(occ)
    db.session.flush()
    return occ


@dataclass
class CatalogueFilter:
    age: int | None = None
    category: str | None = None
    zone_id: int | None = None
    on: date | None = None
    text: str | None = None
    municipality_id: int | None = None


def age_fits(offer, age: int) -> bool:
    """Whether a child of `age` (whole years, on the day it counts) may use the offer: from age_min to age_max,
    both included; a missing bound does not limit."""
    return (offer.age_min is None or age >= offer.age_min) and (offer.age_max is None or age <= offer.age_max)


def check_age(offer, age: int) -> None:
    if not age_fits(offer, age):
        raise DomainError("age_outside_range", _("Barnet er %(age)d år. Tilbudet er for %(min)d–%(max)d år.",
                                                 age=age, min=offer.age_min or 0, max=offer.age_max or 99))


def age_clause(age: int):
    """`age_fits` in SQL, for the catalogue."""
    return sa.and_(sa.or_(Offer.age_min.is_(None), Offer.age_min <= age),
                   sa.or_(Offer.age_max.is_(None), Offer.age_max >= age))


def upcoming_occasions(offer: Offer) -> list[Occasion]:
    """The offer's dates that have not started yet."""
    now = utcnow()
    return [o for o in offer.occasions if o.starts_at > now]


def catalogue(f: CatalogueFilter, limit: int = 200) -> list[Offer]:
    """Published offers of approved partners, filtered in SQL."""
    today = local_date(utcnow())
    q = (db.select(Offer).join(Partner, Partner.id == Offer.partner_id)
         .where(Offer.status == OfferStatus.PUBLISHED, Partner.status == PartnerStatus.APPROVED,
                Offer.end_date >= today)
         .order_by(Offer.start_date, Offer.title).limit(limit))
    if f.municipality_id:
        q = q.where(Offer.municipality_id == f.municipality_id)
    if f.age is not None:
        q = q.where(age_clause(f.age))
    if f.category:
        q = q.where(Offer.category == f.category)
    if f.zone_id:
        child_zones = db.select(Zone.id).where(Zone.parent_id == f.zone_id)
        q = q.where(sa.or_(Offer.zone_id == f.zone_id, Offer.zone_id.in_(child_zones)))
    if f.on:
        q = q.where(Offer.start_date <= f.on, Offer.end_date >= f.on)
    if f.text:
        like = f"%{f.text.strip().lower()}%"
        q = q.where(sa.or_(sa.func.lower(Offer.title).like(like), sa.func.lower(Offer.description).like(like),
                           sa.func.lower(Partner.name).like(like)))
    return list(db.session.scalars(q))


def public_offer(offer_id: int) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.status not in (OfferStatus.PUBLISHED, OfferStatus.PAUSED) \
            or offer.partner.status != PartnerStatus.APPROVED:
        raise NotFound("offer_not_found", _("Fant ikke tilbudet."))
    return offer


@dataclass(frozen=True)
class OfferDay:
    """An offer's occasions as the door needs them on one (Norwegian) day: whether it is a dated offer at all,
    and that day's occasions."""

    day: date
    dated: bool
    todays: tuple[Occasion, ...]


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants a Norwegian day starts and ends (exclusive)."""
    start = datetime(day.year, day.month, day.day, tzinfo=OSLO)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def offer_day(offer: Offer, at: datetime, known: OfferDay | None = None) -> OfferDay:
    """The offer's day at `at`: `known` when the caller read that day along with the offer (the door does: no lazy
    load of every occasion), else from its occasions."""
    day = local_date(at)
    if known is not None and known.day == day:
        return known
    return OfferDay(day, bool(offer.occasions), tuple(o for o in offer.occasions if local_date(o.starts_at) == day))


def occasion_at(offer: Offer, at: datetime, known: OfferDay | None = None) -> Occasion | None:
    """The offer's occasion on the same (Norwegian) day as `at`, the nearest in time (`known`: see offer_day)."""
    todays = offer_day(offer, at, known).todays
    return min(todays, key=lambda o: abs((o.starts_at - at).total_seconds())) if todays else None


def offer_active_at(offer: Offer, at: datetime, known: OfferDay | None = None) -> bool:
    """Published, partner approved, within the offer's dates, and on a dated offer: an occasion that day
    (`known`: see offer_day)."""
    day = local_date(at)
    if offer.status != OfferStatus.PUBLISHED or offer.partner.status != PartnerStatus.APPROVED:
        return False
    if not (offer.start_date <= day <= offer.end_date):
        return False
    found = offer_day(offer, at, known)
    if found.dated:
        return bool(found.todays)
    return True


def partner_choices(user: User) -> list[tuple[int, str]]:
    """(id, name) of the partners a user may attach staff to: their own municipality's, every one for a global
    admin."""
    q = scope_to_municipality(db.select(Partner.id, Partner.name).order_by(Partner.name), Partner.municipality_id, user)
    return [(row.id, row.name) for row in db.session.execute(q)]


def catalogue_zones(municipality: Municipality | None) -> list[Zone]:
    """The top-level zones families filter the catalogue by."""
    q = db.select(Zone).where(Zone.parent_id.is_(None)).order_by(Zone.name)
    return list(db.session.scalars(q.where(Zone.municipality_id == municipality.id) if municipality else q))

