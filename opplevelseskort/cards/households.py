"""Households and their children: registration (one or many, all or nothing), what a caseworker may look up,
and the family's rights: an export of what is kept, deletion, and anonymisation when the retention time is out
(flushed; the request's boundary or the job commits)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..core import audit
from ..core.clock import local_date, today, utcnow
from ..core.errors import DomainError, NotFound
from ..core.models import AuditLog, Municipality, Role
from ..core.permissions import can_access_municipality, scope_to_municipality
from ..core.validation import EMAIL_RE
from ..extensions import db
from ..zones.models import Zone
from ..zones.services import find_zone
from . import address as addresses
from . import codes
from .models import Card, Channel, Child, Gender, Guardian, Household
from .services import unused_short_codes

PHONE_RE = re.compile(r"^\+?[0-9]{8,15}$")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PossibleDuplicate:
    household_id: int
    child_name: str
    birth_year: int


def possible_duplicates(municipality: Municipality, guardians: list[GuardianInput],
                        children: list[ChildInput]) -> list[PossibleDuplicate]:
    """Children already registered with the same given and family name and birth year, in a household with one of
    these guardians' phone numbers: probably the same child (the caseworker is offered that household)."""
    phones = {p for p in (normalise_phone(g.phone) for g in guardians) if p}
    if not phones or not children:
        return []
    wanted = {(c.given_name.strip().lower(), c.family_name.strip().lower(), c.birth_year) for c in children}
    rows = db.session.execute(
        db.select(Child.household_id, Child.given_name, Child.family_name, Child.birth_year)
        .join(Guardian, Guardian.household_id == Child.household_id)
        .where(Child.municipality_id == municipality.id, Child.anonymised_at.is_(None), Guardian.phone.in_(phones),
               sa.func.lower(Child.given_name).in_({w[0] for w in wanted}))).all()
    found = {PossibleDuplicate(hid, f"{given} {family}", year) for hid, given, family, year in rows
             if (given.lower(), family.lower(), year) in wanted}
    return sorted(found, key=lambda d: (d.household_id, d.child_name))


@dataclass
class GuardianInput:
    name: str
    phone: str | None = None
    email: str | None = None
    preferred_language: str = "nb"


@dataclass
class ChildInput:
    given_name: str
    family_name: str
    birth_year: int | None
    birth_month: int | None
    zone: str
    channel: str
    eligible_from: date | None
    eligible_until: date | None
    confirmed: bool
    gender: str | None = None


def normalise_phone(phone: str | None) -> str | None:
    p = re.sub(r"[\s().-]", "", phone or "")
    if not p:
        return None
    if p.startswith("00"):
        p = "+" + p[2:]
    if re.fullmatch(r"[0-9]{8}", p):
        p = "+47" + p
    return p


def guardian_problems(g: GuardianInput, where: str, *, contact_required: bool = True) -> list[tuple[str, str]]:
    """(field, message) for each problem with a guardian's input. `contact_required=False` (an import: a school's
    or NAV's list may have no contact) lets a guardian without phone or e-mail through; their family gets the
    hand-over sheet on paper."""
    problems = []
    if not (g.name or "").strip():
        problems.append(("name", _("%(where)s: navn mangler.", where=where)))
    phone = normalise_phone(g.phone)
    if phone and not PHONE_RE.match(phone):
        problems.append(("phone", _("%(where)s: «%(value)s» er ikke et gyldig telefonnummer.", where=where,
                                    value=g.phone)))
    email = (g.email or "").strip()
    if email and not EMAIL_RE.match(email):
        problems.append(("email", _("%(where)s: «%(value)s» er ikke en gyldig e-postadresse.", where=where,
                                    value=email)))
    if not phone and not email and contact_required:
        problems.append(("phone", _("%(where)s: oppgi telefon eller e-post.", where=where)))
    if g.preferred_language not in current_app.config["SUPPORTED_LOCALES"]:
        problems.append(("preferred_language", _("%(where)s: ukjent språk «%(value)s».", where=where,
                                                 value=g.preferred_language)))
    return problems


def validate_guardian(g: GuardianInput, where: str, *, contact_required: bool = True) -> list[str]:
    return [message for _field, message in guardian_problems(g, where, contact_required=contact_required)]


def child_problems(municipality_id: int, c: ChildInput, where: str, *,
                   find: Callable[[int, str], Zone] = find_zone) -> tuple[list[tuple[str, str]], Zone | None]:
    """(field, message) for each problem with a child's input, and the child's zone (`find`: the zone lookup,
    e.g. an import's memo of it). The fields are the child's own and the household's: channel, eligible_from,
    eligible_until, confirmed."""
    problems = []
    zone = None
    if not (c.given_name or "").strip():
        problems.append(("given_name", _("%(where)s: fornavn mangler.", where=where)))
    if not (c.family_name or "").strip():
        problems.append(("family_name", _("%(where)s: etternavn mangler.", where=where)))
    this_year = today().year
    if c.birth_year is None or not (this_year - 25 <= c.birth_year <= this_year):
        problems.append(("birth_year", _("%(where)s: fødselsåret må være mellom %(a)d og %(b)d.", where=where,
                                         a=this_year - 25, b=this_year)))
    if c.birth_month is not None and not 1 <= c.birth_month <= 12:
        problems.append(("birth_month", _("%(where)s: fødselsmåned må være 1–12.", where=where)))
    try:
        zone = find(municipality_id, c.zone)
    except DomainError as exc:
        problems.append(("zone", _("%(where)s: %(message)s", where=where, message=exc.message)))
    if c.channel not in {ch.value for ch in Channel}:
        problems.append(("channel", _("%(where)s: ukjent kanal «%(value)s». Bruk en av: %(allowed)s.", where=where,
                                      value=c.channel, allowed="nav (NAV), child_welfare (barnevern), school (skole), "
                                      "health_nurse (helsesykepleier), introduction (introduksjonsprogram), "
                                      "application (søknad), other (annet)")))
    if c.gender and c.gender not in {g.value for g in Gender}:
        problems.append(("gender", _("%(where)s: ukjent kjønn «%(value)s». Bruk en av: %(allowed)s, eller la feltet "
                                     "stå tomt.", where=where, value=c.gender,
                                     allowed="girl (jente), boy (gutt), other (annet)")))
    if not c.eligible_from or not c.eligible_until:
        problems.append(("eligible_from" if not c.eligible_from else "eligible_until",
                         _("%(where)s: perioden for rett til kort mangler.", where=where)))
    elif c.eligible_until < c.eligible_from:
        problems.append(("eligible_until", _("%(where)s: perioden slutter før den starter.", where=where)))
    if not c.confirmed:
        problems.append(("confirmed", _("%(where)s: bekreft at kommunens kriterier er oppfylt.", where=where)))
    return problems, zone


def validate_child(municipality_id: int, c: ChildInput, where: str, *, find: Callable[[int, str], Zone] = find_zone):
    """Return (errors, zone) for one child's input (`find`: the zone lookup, e.g. an import's memo of it)."""
    problems, zone = child_problems(municipality_id, c, where, find=find)
    return [message for _field, message in problems], zone


def register_household(municipality: Municipality, guardians: list[GuardianInput], children: list[ChildInput], *,
                       actor: User, address: str | None = None,
                       find: Callable[[int, str], Zone] = find_zone) -> Household:
    """Register guardians and eligible children; every field valid or nothing is written. A child without a
    zone gets the zone of the household's address (looked up once for the household)."""
    # each problem as (part, index, field, message): ("guardian", 0, "phone", …), ("child", 1, "zone", …),
    # ("household", None, "address", …), so a form can put it under its own field
    problems: list[tuple[str, int | None, str, str]] = []
    if address and address.strip() and any(not c.zone.strip() for c in children):
        try:
            found = addresses.zone_for_address(municipality, address).code
        except DomainError as exc:
            problems.append(("household", None, "address", exc.message))
        else:
            children = [c if c.zone.strip() else replace(c, zone=found) for c in children]
    if not guardians:
        problems.append(("household", None, "guardians", _("Registrer minst én foresatt.")))
    if not children:
        problems.append(("household", None, "children", _("Registrer minst ett barn.")))
    for i, g in enumerate(guardians):
        problems += [("guardian", i, f, m) for f, m in guardian_problems(g, _("Foresatt %(n)d", n=i + 1))]
    zones = []
    for i, c in enumerate(children):
        found_problems, zone = child_problems(municipality.id, c, _("Barn %(n)d", n=i + 1), find=find)
        problems += [("child", i, f, m) for f, m in found_problems]
        zones.append(zone)
    if problems:
        errors = [message for *_where, message in problems]
        raise DomainError("household_invalid", " ".join(errors), errors=errors, problems=problems)
    household = Household(municipality_id=municipality.id, created_by_id=actor.id)
    db.session.add(household)
    for g in guardians:
        household.guardians.append(Guardian(name=g.name.strip(), phone=normalise_phone(g.phone),
                                            email=(g.email or "").strip() or None,
                                            preferred_language=g.preferred_language))
    db.session.flush()
    for c, zone in zip(children, zones, strict=True):
        child = Child(household_id=household.id, municipality_id=municipality.id, given_name=c.given_name.strip(),
                      family_name=c.family_name.strip(), birth_year=c.birth_year, birth_month=c.birth_month,
                      gender=Gender(c.gender) if c.gender else None, zone_id=zone.id, channel=Channel(c.channel),
                      eligible_from=c.eligible_from, eligible_until=c.eligible_until, confirmed_by_id=actor.id)
        db.session.add(child)
        db.session.flush()
        audit.record(actor, "child.create", "child", child.id, municipality_id=municipality.id)
    audit.record(actor, "household.create", "household", household.id, municipality_id=municipality.id)
    return household


def get_household(household_id: int, *, actor: User, audit_view: bool = True) -> Household:
    """A household for a caseworker or admin of its municipality; opening its page is a view of every child
    in it (audited)."""
    household = db.session.get(Household, household_id)
    if household is None or actor.role not in (Role.CASEWORKER, Role.ADMIN) \
            or not can_access_municipality(actor, household.municipality_id):
        raise NotFound("household_not_found", _("Fant ikke husstanden."))
    if audit_view:
        for child in household.children:
            audit.record(actor, "child.view", "child", child.id, municipality_id=child.municipality_id)
    return household


def get_child(child_id: int, *, actor: User, audit_view: bool = True) -> Child:
    """A child's record for a caseworker or admin of its municipality; every view is audited."""
    child = db.session.get(Child, child_id)
    if child is None or child.anonymised_at is not None or not can_access_municipality(actor, child.municipality_id):
        raise NotFound("child_not_found", _("Fant ikke barnet."))
    if audit_view:
        audit.record(actor, "child.view", "child", child.id, municipality_id=child.municipality_id)
    return child


def search_children(actor: User, text: str, limit: int = 50) -> list[Child]:
    """Caseworkers and admins search children of their municipality by name, short card code, or a guardian's
    phone or e-mail."""
    text = (text or "").strip()
    q = (db.select(Child).where(Child.anonymised_at.is_(None)).order_by(Child.family_name, Child.given_name)
         .options(selectinload(Child.cards), joinedload(Child.zone)))  # the list shows each one's card and zone
    q = scope_to_municipality(q, Child.municipality_id, actor)
    if text:
        like = f"%{text.lower()}%"
        code = codes.normalise(text)
        found = [db.func.lower(Child.given_name).like(like), db.func.lower(Child.family_name).like(like),
                 db.func.lower(Child.given_name + " " + Child.family_name).like(like),
                 Child.id.in_(db.select(Card.child_id).where(Card.short_code == code))]
        guardians = db.select(Guardian.household_id)
        if "@" in text:  # a guardian's e-mail
            found.append(Child.household_id.in_(guardians.where(db.func.lower(Guardian.email) == text.lower())))
        phone = normalise_phone(text)
        if phone and PHONE_RE.match(phone):  # a guardian's phone, however it was typed
            found.append(Child.household_id.in_(guardians.where(Guardian.phone == phone)))
        q = q.where(db.or_(*found))
    rows = list(db.session.scalars(q.limit(limit)))
    audit.record(actor, "child.search", "child", None, municipality_id=actor.municipality_id, results=len(rows))
    return rows


def register_households_bulk(municipality: Municipality, groups: list[tuple[GuardianInput, list[ChildInput]]],
                             zone_of: Callable[[str], Zone], *, actor: User, import_run_id: int | None = None) -> int:
    """Register checked households and issue each child a card, a batch at a time in a handful of statements: the
    rows and audit entries `register_household` and `issue_card` write one by one (an import's second pass, whose
    first pass ran `validate_guardian` and `validate_child` on every row). Returns the number of cards issued."""
    now = utcnow()
    tables = {m: m.__table__ for m in (Household, Guardian, Child, Card, AuditLog)}

    def insert(model, rows: list[dict]) -> list[int]:
        table = tables[model]
        return list(db.session.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), rows)
                    .scalars()) if rows else []

    household_ids = insert(Household, [{"municipality_id": municipality.id, "created_by_id": actor.id,
                                        "created_at": now, "import_run_id": import_run_id} for _g in groups])
    insert(Guardian, [{"household_id": hid, "name": g.name.strip(), "phone": normalise_phone(g.phone),
                       "email": (g.email or "").strip() or None, "preferred_language": g.preferred_language}
                      for hid, (g, _kids) in zip(household_ids, groups, strict=True)])
    kids = [(hid, c) for hid, (_g, children) in zip(household_ids, groups, strict=True) for c in children]
    child_ids = insert(Child, [{
        "household_id": hid, "municipality_id": municipality.id, "given_name": c.given_name.strip(),
        "family_name": c.family_name.strip(), "birth_year": c.birth_year, "birth_month": c.birth_month,
        "gender": Gender(c.gender) if c.gender else None, "zone_id": zone_of(c.zone).id, "channel": Channel(c.channel),
        "eligible_from": c.eligible_from, "eligible_until": c.eligible_until, "confirmed_by_id": actor.id,
        "created_at": now} for hid, c in kids])
    short = unused_short_codes(len(kids))
    card_ids = insert(Card, [{
        "child_id": cid, "municipality_id": municipality.id, "qr_token": codes.new_token(), "short_code": code,
        "family_token": codes.new_token(), "valid_from": max(today(), c.eligible_from), "valid_until": c.eligible_until,
        "companions": 1, "issued_by_id": actor.id, "issued_at": now}
        for cid, (_hid, c), code in zip(child_ids, kids, short, strict=True)])

    def entry(action: str, kind: str, object_id: int, **details) -> dict:
        return {"at": now, "actor_id": actor.id, "actor_label": actor.email, "action": action, "object_type": kind,
                "object_id": str(object_id), "municipality_id": municipality.id, "details": details}

    insert(AuditLog, [*[entry("child.create", "child", cid) for cid in child_ids],
                      *[entry("household.create", "household", hid) for hid in household_ids],
                      *[entry("card.issue", "card", card_id, child_id=cid)
                        for card_id, cid in zip(card_ids, child_ids, strict=True)]])
    log.info("%d households registered and %d cards issued in one batch", len(household_ids), len(card_ids))
    return len(card_ids)


def export_household(household: Household, *, actor: User) -> dict:
    """Everything stored about one household, as JSON-ready data (audited)."""
    audit.record(actor, "household.export", "household", household.id, municipality_id=household.municipality_id)
    return {
        "household": {"id": household.id, "municipality": household.municipality.number,
                      "created_at": household.created_at.isoformat()},
        "guardians": [{"name": g.name, "phone": g.phone, "email": g.email, "preferred_language": g.preferred_language}
                      for g in household.guardians],
        "children": [{
            "given_name": c.given_name, "family_name": c.family_name, "birth_year": c.birth_year,
            "birth_month": c.birth_month, "gender": str(c.gender) if c.gender else None,
            "zone": c.zone.code if c.zone else None, "channel": str(c.channel),
            "eligible_from": c.eligible_from.isoformat(), "eligible_until": c.eligible_until.isoformat(),
            "confirmed_by": c.confirmed_by.email if c.confirmed_by else None,
            "cards": [{"short_code": k.short_code, "valid_from": k.valid_from.isoformat(),
                       "valid_until": k.valid_until.isoformat(), "companions": k.companions,
                       "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                       "revoked_reason": str(k.revoked_reason) if k.revoked_reason else None} for k in c.cards],
        } for c in household.children],
    }


def delete_household(household: Household, *, actor: User) -> None:
    """Delete a household with its guardians, children and cards (visits stay, with no link to the child)."""
    hid, muni = household.id, household.municipality_id
    for child in list(household.children):
        db.session.delete(child)
    db.session.delete(household)
    db.session.flush()
    audit.record(actor, "household.delete", "household", hid, municipality_id=muni)


def anonymise_child(child: Child) -> None:
    """Keep what statistics need (zone, birth year, gender) and drop name and any link to contacts."""
    child.given_name = None
    child.family_name = None
    child.birth_month = None
    child.household_id = None
    child.confirmed_by_id = None
    child.anonymised_at = utcnow()


def run_retention(*, months: int | None = None, now: datetime | None = None) -> int:
    """Anonymise children whose eligibility and cards all ended more than `months` months ago."""
    months = months if months is not None else current_app.config["RETENTION_MONTHS"]
    now = now or utcnow()
    day = local_date(now)
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    cutoff = date(y, m + 1, min(day.day, 28))
    still_valid = db.select(Card.child_id).where(Card.valid_until >= cutoff, Card.revoked_at.is_(None))
    q = db.select(Child).where(Child.anonymised_at.is_(None), Child.eligible_until < cutoff,
                               Child.id.not_in(still_valid))
    children = list(db.session.scalars(q))
    households = {c.household_id for c in children if c.household_id}
    for child in children:
        anonymise_child(child)
        audit.record(None, "child.anonymise", "child", child.id, municipality_id=child.municipality_id)
    db.session.flush()
    for hid in households:
        left = db.session.scalar(db.select(db.func.count(Child.id)).where(Child.household_id == hid))
        if not left:
            h = db.session.get(Household, hid)
            if h is not None:
                db.session.delete(h)  # guardians go with it
    db.session.flush()
    log.info("retention anonymised %s children", len(children))
    return len(children)

