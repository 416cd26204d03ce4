"""Wish rounds (issue 41): a municipality asks its children which activities they would try, anonymously, and turns
the gaps into calls to partners; what the partners offer in answer goes back to the children who wished.

- A round is opened by the admin (the culture office) with its days, grade bands, zones and schools.
- *Class mode*: a class gets a sheet of one-time codes (`add_class`), tied to its school, grade band and zone only;
  a code answers once (`answer_with_code`, 409 after) and nothing records which answer it gave.
- *Card-holder mode*: a child with a card answers on the card page once per round (`answer_with_card`): a salted
  hash of the card, kept apart from the answers, says "answered" until the round closes (`close_round` deletes the
  hashes and replaces the salt). A parent can turn wishes off for the card (`set_opt_out`).
- *Results* (`results`) are counts of children wishing each activity per zone and grade band, protected by the
  zone report's disclosure engine: a unit with fewer than MIN_ANSWERS answers shows "too few answers", small counts
  are hidden, the totals by activity add up and cannot give a hidden cell away. `publish_results` keeps them and
  deletes the raw answers and the codes.
- *Gaps* (`gaps`): activities most wished in a zone that no published offer there gives; a gap becomes a call to the
  municipality's partners (`create_call`), a partner's answer an offer tagged with the call and its round
  (`answer_call`), and those offers are what a class's code, a card page and the public page show back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from ..cards import services as cards
from ..cards.models import Card
from ..core import audit
from ..core.clock import today, utcnow
from ..core.errors import Conflict, DomainError, NotFound, PermissionDenied
from ..core.models import Municipality, Role
from ..core.permissions import can_access_municipality
from ..extensions import db
from ..zones import services as zones
from ..zones.models import Zone
from . import catalogue
from .models import (
    GradeBand,
    TextStatus,
    WishAnswer,
    WishClass,
    WishCode,
    WishRound,
    WishRoundStatus,
    WishSource,
    WishTime,
    WishVoter,
)

MIN_ANSWERS = 10  # a unit (zone and grade band) with fewer answers shows "too few answers"
MAX_CODES = 40  # a class sheet's codes
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed by children
BAND_AGES = {GradeBand.LOWER: (6, 9), GradeBand.MIDDLE: (10, 12), GradeBand.UPPER: (13, 16)}
TOTAL = "total"


def _may_run(actor, municipality_id: int) -> None:
    if actor.role != Role.ADMIN or not can_access_municipality(actor, municipality_id):
        raise PermissionDenied("forbidden", _("Du har ikke tilgang til dette."))


@dataclass
class RoundInput:
    title: str
    opens_on: date
    closes_on: date
    grade_bands: list[str] = field(default_factory=lambda: [b.value for b in GradeBand])
    zone_ids: list[int] = field(default_factory=list)
    schools: list[str] = field(default_factory=list)
    free_text: bool = False
    card_holders: bool = True


def open_round(municipality: Municipality, data: RoundInput, *, actor) -> WishRound:
    """A new round, every field checked at once (problems by field)."""
    _may_run(actor, municipality.id)
    problems = {}
    if not (data.title or "").strip():
        problems["title"] = _("Gi runden et navn.")
    if data.closes_on < data.opens_on:
        problems["closes_on"] = _("Siste dag kan ikke være før første dag.")
    bands = [b for b in data.grade_bands if b in set(GradeBand)]
    if not bands or len(bands) != len(data.grade_bands):
        problems["grade_bands"] = _("Velg minst ett klassetrinn.")
    known = set(db.session.scalars(sa.select(Zone.id).where(Zone.municipality_id == municipality.id,
                                                            Zone.id.in_(data.zone_ids or [0]))))
    if set(data.zone_ids) - known:
        problems["zone_ids"] = _("Ukjent sone.")
    if problems:
        raise DomainError("round_invalid", " ".join(problems.values()), fields=problems)
    wish_round = WishRound(municipality_id=municipality.id, title=data.title.strip(), opens_on=data.opens_on,
                           closes_on=data.closes_on, grade_bands=bands, zone_ids=sorted(known),
                           schools=[s.strip() for s in data.schools if s.strip()], free_text=data.free_text,
                           card_holders=data.card_holders, salt=secrets.token_hex(32))
    db.session.add(wish_round)
    db.session.flush()
    audit.record(actor, "wishes.round_open", "wish_round", wish_round.id, municipality_id=municipality.id)
    return wish_round


def round_of(round_id: int, actor=None) -> WishRound:
    found = db.session.get(WishRound, round_id)
    if found is None or (actor is not None and not can_access_municipality(actor, found.municipality_id)):
        raise NotFound("round_unknown", _("Fant ikke ønskerunden."))
    return found


def rounds_of(municipality_id: int | None) -> list[WishRound]:
    q = sa.select(WishRound).order_by(WishRound.opens_on.desc(), WishRound.id.desc())
    if municipality_id is not None:
        q = q.where(WishRound.municipality_id == municipality_id)
    return list(db.session.scalars(q))


def is_open(wish_round: WishRound, on: date | None = None) -> bool:
    on = on or today()
    return wish_round.status == WishRoundStatus.OPEN and wish_round.opens_on <= on <= wish_round.closes_on


# --- classes and their codes -----------------------------------------------------------------------------------

def add_class(wish_round: WishRound, *, school: str, name: str, grade_band: str, zone_id: int, pupils: int,
              languages: list[str], actor) -> WishClass:
    """A class of the round with a sheet of one-time codes (one per pupil, up to MAX_CODES)."""
    _may_run(actor, wish_round.municipality_id)
    problems = {}
    if wish_round.status != WishRoundStatus.OPEN:
        problems["school"] = _("Runden er lukket.")
    if not (school or "").strip() or (wish_round.schools and school.strip() not in wish_round.schools):
        problems["school"] = _("Velg en av rundens skoler.") if wish_round.schools else _("Skriv skolens navn.")
    if grade_band not in wish_round.grade_bands:
        problems["grade_band"] = _("Runden spør ikke dette klassetrinnet.")
    zone = db.session.get(Zone, zone_id)
    if zone is None or zone.municipality_id != wish_round.municipality_id or (
            wish_round.zone_ids and zone_id not in wish_round.zone_ids):
        problems["zone_id"] = _("Velg en av rundens soner.")
    if not 1 <= pupils <= MAX_CODES:
        problems["pupils"] = _("En klasse får mellom 1 og %(n)d koder.", n=MAX_CODES)
    if problems:
        raise DomainError("class_invalid", " ".join(problems.values()), fields=problems)
    wish_class = WishClass(round_id=wish_round.id, school=school.strip(), name=(name or "").strip()[:40],
                           grade_band=GradeBand(grade_band), zone_id=zone_id,
                           languages=[lang for lang in languages if lang in catalogue.LANGS and lang != "nb"])
    db.session.add(wish_class)
    db.session.flush()
    for _n in range(pupils):
        db.session.add(WishCode(class_id=wish_class.id, code=_new_code()))
    db.session.flush()
    audit.record(actor, "wishes.class_add", "wish_class", wish_class.id, municipality_id=wish_round.municipality_id,
                 codes=pupils)
    return wish_class


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(8))


def classes_of(wish_round: WishRound) -> list[WishClass]:
    return list(db.session.scalars(sa.select(WishClass).where(WishClass.round_id == wish_round.id)
                                   .order_by(WishClass.school, WishClass.name, WishClass.id)))


def class_of(wish_round: WishRound, class_id: int) -> WishClass:
    found = db.session.get(WishClass, class_id)
    if found is None or found.round_id != wish_round.id:
        raise NotFound("class_unknown", _("Fant ikke klassen."))
    return found


def codes_used(wish_round: WishRound) -> dict[int, tuple[int, int]]:
    """Per class: (codes used, codes) — how far the class has come, never which code said what."""
    rows = db.session.execute(sa.select(WishCode.class_id, sa.func.count(WishCode.id),
                                        sa.func.count(WishCode.id).filter(WishCode.used.is_(True)))
                              .join(WishClass, WishClass.id == WishCode.class_id)
                              .where(WishClass.round_id == wish_round.id).group_by(WishCode.class_id)).all()
    return {class_id: (int(used), int(total)) for class_id, total, used in rows}


def zone_chain(zone_id: int | None, parents: dict[int, int | None]) -> list[int]:
    """The zone and every zone above it (`parents`: zone id -> parent id, one query for the municipality)."""
    chain: list[int] = []
    while zone_id is not None and zone_id not in chain:
        chain.append(zone_id)
        zone_id = parents.get(zone_id)
    return chain


def zone_names(municipality_id: int) -> dict[int, str]:
    return {z.id: f"{z.code} {z.name}" for z in db.session.scalars(zones.zones_of(municipality_id))}


def codes_of(wish_class: WishClass) -> list[WishCode]:
    return list(db.session.scalars(sa.select(WishCode).where(WishCode.class_id == wish_class.id)
                                   .order_by(WishCode.id)))


def code_of(text: str) -> WishCode:
    """The class code typed or scanned (spaces and case forgiven), or not found."""
    clean = re.sub(r"[\s-]", "", text or "").upper()
    found = db.session.scalar(sa.select(WishCode).where(WishCode.code == clean)) if clean else None
    if found is None:
        raise NotFound("wish_code_unknown", _("Ukjent kode. Sjekk at du skrev den riktig."))
    return found


# --- answers -------------------------------------------------------------------------------------------------------

@dataclass
class AnswerInput:
    activities: list[str]
    with_friend: bool | None = None
    times: list[str] = field(default_factory=list)
    free_text: str = ""


PHONE = re.compile(r"(?:\+?\d[\d .-]{6,}\d)")
EMAIL = re.compile(r"\S+@\S+")
NAME_LIKE = re.compile(r"(?<=[^.!?\s]\s)([A-ZÆØÅ][a-zæøåéü]+)")  # a capitalised word inside a sentence


def mask(text: str) -> str:
    """Free text with what could name a child masked: phone numbers, e-mail addresses, and capitalised words inside
    a sentence (names, mostly); a moderator still reads it before anyone else does."""
    text = EMAIL.sub("***", text)
    text = PHONE.sub("***", text)
    return NAME_LIKE.sub("***", text)


def _checked(wish_round: WishRound, data: AnswerInput) -> WishAnswer:
    problems = {}
    chosen = list(dict.fromkeys(data.activities or []))
    if not chosen:
        problems["activities"] = _("Velg minst én aktivitet.")
    elif len(chosen) > catalogue.MAX_CHOICES:
        problems["activities"] = _("Velg høyst %(n)d aktiviteter.", n=catalogue.MAX_CHOICES)
    elif any(catalogue.activity(c) is None for c in chosen):
        problems["activities"] = _("Ukjent aktivitet.")
    times = list(dict.fromkeys(data.times or []))
    if any(t not in set(WishTime) for t in times):
        problems["times"] = _("Ukjent tidspunkt.")
    text = (data.free_text or "").strip()
    if text and not wish_round.free_text:
        problems["free_text"] = _("Denne runden har ikke fritekst.")
    elif len(text) > 200:
        problems["free_text"] = _("Høyst %(n)d tegn.", n=200)
    if problems:
        raise DomainError("answer_invalid", " ".join(problems.values()), fields=problems)
    return WishAnswer(round_id=wish_round.id, activities=chosen, with_friend=data.with_friend, times=times,
                      free_text=mask(text) if text else None, text_status=TextStatus.HELD if text else None)


def _must_be_open(wish_round: WishRound) -> None:
    if not is_open(wish_round):
        raise DomainError("round_closed", _("Ønskerunden er ikke åpen nå."))


def answer_with_code(code_text: str, data: AnswerInput) -> WishAnswer:
    """A pupil answers with a class code: once (the code is spent in the same statement that checks it)."""
    code = code_of(code_text)
    wish_class = code.wish_class
    wish_round = wish_class.round
    _must_be_open(wish_round)
    answer = _checked(wish_round, data)
    spent = db.session.execute(sa.update(WishCode).where(WishCode.id == code.id, WishCode.used.is_(False))
                               .values(used=True).execution_options(synchronize_session=False)).rowcount
    if not spent:
        raise Conflict("wish_code_used", _("Denne koden er allerede brukt. Hver kode kan svare én gang."))
    answer.source, answer.school = WishSource.CLASS, wish_class.school
    answer.grade_band, answer.zone_id = wish_class.grade_band, wish_class.zone_id
    db.session.add(answer)
    db.session.flush()
    return answer


def _voter_hash(wish_round: WishRound, card: Card) -> str:
    return hmac.new(wish_round.salt.encode(), f"{card.child_id}".encode(), hashlib.sha256).hexdigest()


def grade_band_of(age: int | None) -> GradeBand | None:
    """A child's grade band from their age (first grade the year they turn six)."""
    if age is None:
        return None
    grade = age - 5
    return next((b for b, (lo, hi) in ((GradeBand.LOWER, (1, 4)), (GradeBand.MIDDLE, (5, 7)),
                                       (GradeBand.UPPER, (8, 10))) if lo <= grade <= hi), None)


def rounds_for_card(card: Card) -> list[WishRound]:
    """The open rounds this card's child may answer on the card page (none when a parent turned wishes off)."""
    if card.wishes_opt_out or card.revoked_at is not None:
        return []
    band = grade_band_of(_age(card))
    rounds = db.session.scalars(sa.select(WishRound).where(
        WishRound.municipality_id == card.municipality_id, WishRound.status == WishRoundStatus.OPEN,
        WishRound.card_holders.is_(True), WishRound.opens_on <= today(), WishRound.closes_on >= today()))
    zone_id = card.child.zone_id
    return [r for r in rounds if band in r.grade_bands and (not r.zone_ids or zone_id in r.zone_ids)]


def _age(card: Card) -> int | None:
    return cards.child_age(card.child, today())


def has_answered(wish_round: WishRound, card: Card) -> bool:
    return db.session.scalar(sa.select(WishVoter.id).where(WishVoter.round_id == wish_round.id,
                                                           WishVoter.voter_hash == _voter_hash(wish_round, card))) \
        is not None


def answer_with_card(wish_round: WishRound, card: Card, data: AnswerInput) -> WishAnswer:
    """A card holder answers on the card page: once per round (the hash's unique row), never tied to the card."""
    if wish_round not in rounds_for_card(card):
        raise DomainError("round_not_for_card", _("Denne ønskerunden er ikke åpen for dette kortet."))
    answer = _checked(wish_round, data)
    try:
        with db.session.begin_nested():
            db.session.add(WishVoter(round_id=wish_round.id, voter_hash=_voter_hash(wish_round, card)))
    except sa.exc.IntegrityError:
        raise Conflict("wish_already_answered", _("Du har allerede svart i denne runden. Takk!")) from None
    answer.source, answer.grade_band = WishSource.CARD, grade_band_of(_age(card))
    answer.zone_id = card.child.zone_id
    db.session.add(answer)
    db.session.flush()
    return answer


def set_opt_out(card: Card, opt_out: bool) -> None:
    """A parent turns wishes off (or on again) for the child's card (audited: a change to a child's card)."""
    if card.wishes_opt_out != bool(opt_out):
        card.wishes_opt_out = bool(opt_out)
        audit.record(None, "wishes.opt_out" if opt_out else "wishes.opt_in", "card", card.id,
                     municipality_id=card.municipality_id)


def close_round(wish_round: WishRound, *, actor=None) -> WishRound:
    """No more answers: card holders' hashes are deleted and the salt replaced (nothing can tell who answered)."""
    if actor is not None:
        _may_run(actor, wish_round.municipality_id)
    if wish_round.status == WishRoundStatus.OPEN:
        db.session.execute(sa.delete(WishVoter).where(WishVoter.round_id == wish_round.id))
        wish_round.status, wish_round.closed_at, wish_round.salt = WishRoundStatus.CLOSED, utcnow(), \
            secrets.token_hex(32)
        audit.record(actor, "wishes.round_close", "wish_round", wish_round.id,
                     municipality_id=wish_round.municipality_id)
    return wish_round


def close_due(on: date | None = None) -> int:
    """Every open round past its last day is closed (the nightly schedule)."""
    due = db.session.scalars(sa.select(WishRound).where(WishRound.status == WishRoundStatus.OPEN,
                                                        WishRound.closes_on < (on or today()))).all()
    for wish_round in due:
        close_round(wish_round)
    return len(due)


def held_texts(wish_round: WishRound) -> list[WishAnswer]:
    return list(db.session.scalars(sa.select(WishAnswer).where(WishAnswer.round_id == wish_round.id,
                                                               WishAnswer.text_status == TextStatus.HELD)
                                   .order_by(WishAnswer.id)))


def moderate(answer_id: int, approve: bool, *, actor) -> None:
    answer = db.session.get(WishAnswer, answer_id)
    if answer is None or answer.free_text is None:
        raise NotFound("answer_unknown", _("Fant ikke svaret."))
    _may_run(actor, round_of(answer.round_id).municipality_id)
    answer.text_status = TextStatus.APPROVED if approve else TextStatus.REJECTED
    if not approve:
        answer.free_text = None


def approved_texts(wish_round: WishRound) -> list[str]:
    return list(db.session.scalars(sa.select(WishAnswer.free_text).where(
        WishAnswer.round_id == wish_round.id, WishAnswer.text_status == TextStatus.APPROVED)))
