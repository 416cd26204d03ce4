"""Check-in where the network ends: what an offline scanner queued, judged by the server when it syncs.

The scanner verified a signed card code, applied the offer's rules and let the child in; the server judges each
queued scan again, with what the door could not know:

- A scan is an event with the device's own id: sent twice (a retry, a second "sync now"), it is one, and the
  answer is the one given the first time. The same id with other content is refused, never stored over.
- Each visit has a key: card, offer, local day. However many doors or phones scanned the child that day, one scan
  counts (the database holds one accepted scan per key); the others are stored as visible duplicates for the
  partner's statement, never dropped. The earliest scan is the counted one, so the result is the same whatever the
  order the events arrive in.
- A scan the rules would have refused online is stored and flagged, not dropped: the child came. Flags say why:
  a card revoked before the scan, a quota exceeded offline (the scans past the limit, in time order), a device
  clock off by more than ten minutes, or the rule that fails (age, dates, booking, companions).
- Rejected (stored, not counted): a code that does not verify, a card unknown here, an offer that is not the
  scanner's, a time in the future or older than the scanner keeps scans.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import sqlalchemy as sa
from flask_babel import gettext as _
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from ..accounts.models import User
from ..cards import services as cards
from ..cards import signing
from ..core.clock import local_date, utcnow
from ..core.errors import DomainError, NotFound, PermissionDenied
from ..core.labels import label
from ..core.validation import Integer, field_message
from ..extensions import db
from ..partners import services as partners
from . import services, statements
from .models import CheckIn, CheckinSource, OfflineScan, ScanFlag, ScanOutcome, ScanReason

MAX_EVENTS = 500  # per batch
SKEW_LIMIT = timedelta(minutes=10)  # a device clock off by more is flagged
MAX_AGE = timedelta(days=30)  # a scan older than this is refused (the scanner keeps its queue no longer)
AHEAD = timedelta(minutes=2)  # a scan this far in the future (after the clock correction) is refused
EVENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass(frozen=True)
class ScanEvent:
    """One queued scan: the device's event id, the offer, the code as scanned, when by the device's clock, the
    device's own estimate of its clock's error then (server minus device, seconds), companions let in."""

    event_id: str
    offer_id: int
    code: str
    device_at: datetime
    clock_offset_s: int = 0
    companions: int = 0

    def fingerprint(self) -> str:
        content = [self.event_id, self.offer_id, self.code, self.device_at.astimezone(UTC).isoformat(),
                   self.clock_offset_s, self.companions]
        return hashlib.sha256(json.dumps(content).encode()).hexdigest()


def _text_only(value):
    """A time is written as text (ISO 8601 with its offset), never a number a reader could take for anything."""
    if not isinstance(value, str):
        raise ValueError("text")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_text_only)]


class ScanEventIn(BaseModel):
    """One event as a scanner sends it (JSON)."""

    model_config = ConfigDict(extra="forbid")
    event_id: str = Field(pattern=EVENT_ID.pattern, description="Made by the device (a UUID): the scan's identity")
    offer_id: Integer = Field(ge=1, le=2**31 - 1)
    code: str = Field(min_length=1, max_length=1000, pattern="^[^\\u0000]*$", description="The signed code as scanned")
    device_at: Moment = Field(description="When, by the device's clock")
    clock_offset_s: Integer = Field(0, ge=-10**8, le=10**8, description="The device's estimate of server minus "
                                      "device time then, in seconds (from its last contact)")
    companions: Integer = Field(0, ge=0, le=20)


class BatchIn(BaseModel):
    """A scanner's queue, sent when it has a network again."""

    model_config = ConfigDict(extra="forbid")
    device_id: str = Field(min_length=1, max_length=64, pattern="^[^\\u0000]*$")
    sent_at: Moment = Field(description="The device's clock when it sent the batch")
    events: list[ScanEventIn] = Field(description=f"At most {MAX_EVENTS}")


def parse_batch(data) -> BatchIn:
    """A batch from JSON, or DomainError("invalid_body") naming each field that is wrong."""
    try:
        return BatchIn.model_validate(data)
    except ValidationError as exc:
        problems = [field_message(e) for e in exc.errors(include_url=False, include_input=False)]
        raise DomainError("invalid_body", " ".join(text for _where, text in problems),
                          fields=[{"field": where, "message": text} for where, text in problems]) from None


def sync_batch(batch: BatchIn, *, actor: User, now: datetime | None = None) -> dict:
    """The answer to a batch: the server's time (the device learns its clock's error from it) and one verdict per
    event, in the batch's order."""
    events = [ScanEvent(e.event_id, e.offer_id, e.code, e.device_at.astimezone(UTC), e.clock_offset_s, e.companions)
              for e in batch.events]
    now = now or utcnow()
    verdicts = sync(events, actor=actor, device_id=batch.device_id, sent_at=batch.sent_at.astimezone(UTC), now=now)
    return {"server_time": now.isoformat(), "results": [v.as_json() for v in verdicts]}


@dataclass
class Verdict:
    """The answer for one event: accepted, duplicate or rejected (with the reason's code and words), its flags
    and the counted visit."""

    event_id: str
    status: ScanOutcome
    reason: str | None = None
    message: str | None = None
    flags: list[str] = field(default_factory=list)
    checkin_id: int | None = None

    def as_json(self) -> dict:
        return {"event_id": self.event_id, "status": str(self.status), "reason": self.reason,
                "message": self.message, "flags": list(self.flags), "checkin_id": self.checkin_id}


REASONS = tuple(str(r) for r in ScanReason)


def _words(reason: str) -> str:
    return label("scan_reason", reason)


def sync(events: list[ScanEvent], *, actor: User, device_id: str, sent_at: datetime,
         now: datetime | None = None) -> list[Verdict]:
    """Judge a batch (at most MAX_EVENTS) from one device; one verdict per event, in the batch's order. `sent_at` is
    the device's clock when it sent the batch: the server's clock minus it is the device clock's error now."""
    if len(events) > MAX_EVENTS:
        raise DomainError("too_many_events", _("Høyst %(n)d skanninger per synkronisering.", n=MAX_EVENTS))
    partner = partners.require_active_partner(actor)
    now = now or utcnow()
    skew = now - sent_at
    verdicts = []
    for event in events:
        judge = functools.partial(_judge, event, actor=actor, partner_id=partner.id,
                                  municipality_id=partner.municipality_id, device_id=device_id, skew=skew, now=now)
        try:
            with db.session.begin_nested():
                verdicts.append(judge())
        except sa.exc.IntegrityError:  # the same event (a retry sent while the first was in flight) stored meanwhile
            with db.session.begin_nested():
                verdicts.append(judge())  # judged again: its stored answer
    return verdicts


BUNDLE_DAYS = 14  # the dated offers' days a scanner carries ahead (it refreshes whenever it is online)


def bundle(actor: User, *, now: datetime | None = None) -> dict:
    """What an offline scanner caches: the rules of the partner's published offers (dates, age band, companions,
    quota, booking, the days of dated offers), the municipality's trust list with every key's revocations (cards
    named by `signing.revocation_id`), the repeat window and the server's time (the device's clock error)."""
    partner = partners.require_active_partner(actor)
    now = now or utcnow()
    day = local_date(now)
    offers = []
    for offer in statements.offers_for_scanner(actor):
        days = _occasion_days(offer, day - timedelta(days=1), day + timedelta(days=BUNDLE_DAYS))
        offers.append({"id": offer.id, "title": offer.title, "start_date": offer.start_date.isoformat(),
                       "end_date": offer.end_date.isoformat(), "age_min": offer.age_min, "age_max": offer.age_max,
                       "companions_allowed": offer.companions_allowed or 0, "use_limit": offer.use_limit,
                       "use_limit_period": str(offer.use_limit_period or "period"),
                       "requires_booking": bool(offer.requires_booking), "dated": days is not None,
                       "days": [d.isoformat() for d in days or []]})
    trust = signing.trust_list_with_revocations(partner.municipality_id)
    return {"server_time": now.isoformat(), "partner": partner.name, "offers": offers, "trust": trust,
            "repeat_window_minutes": services.repeat_window_minutes(), "max_events": MAX_EVENTS,
            "skew_limit_minutes": int(SKEW_LIMIT.total_seconds() // 60),
            "rotating_window_seconds": int(signing.ROTATING_WINDOW.total_seconds())}


def _occasion_days(offer, lo: date, hi: date) -> list[date] | None:
    """The local days with an occasion between lo and hi, or None for an offer without occasions (open every day
    of its dates)."""
    if not offer.occasions:
        return None
    return sorted({d for d in (local_date(o.starts_at) for o in offer.occasions) if lo <= d <= hi})


def _verdict_of(scan: OfflineScan) -> Verdict:
    reason = scan.reason
    return Verdict(scan.event_id, scan.outcome, reason, _words(reason) if reason in REASONS else None,
                   list(scan.flags or []), scan.checkin_id if scan.outcome == ScanOutcome.ACCEPTED else scan.duplicate_of_id)


def _judge(event: ScanEvent, *, actor: User, partner_id: int, municipality_id: int, device_id: str,
           skew: timedelta, now: datetime) -> Verdict:
    earlier = db.session.scalar(sa.select(OfflineScan).where(OfflineScan.event_id == event.event_id))
    if earlier is not None:  # sent before: the same answer, or a refusal for an id used for another scan
        if earlier.fingerprint == event.fingerprint():
            return _verdict_of(earlier)
        return Verdict(event.event_id, ScanOutcome.REJECTED, "event_id_reused", _words("event_id_reused"))
    try:
        scanned_at = event.device_at + skew
    except OverflowError:  # a clock at the calendar's end: no time to judge it by
        return Verdict(event.event_id, ScanOutcome.REJECTED, "time_in_future", _words("time_in_future"))
    in_window = now - MAX_AGE <= scanned_at <= now + AHEAD
    scan = OfflineScan(event_id=event.event_id, fingerprint=event.fingerprint(), device_id=device_id[:64],
                       municipality_id=municipality_id, partner_id=partner_id, recorded_by_id=actor.id,
                       device_at=event.device_at, scanned_at=scanned_at,
                       visit_day=local_date(scanned_at) if in_window else scanned_at.date(),
                       clock_offset_s=event.clock_offset_s, skew_s=int(skew.total_seconds()),
                       companions=max(0, event.companions), received_at=now, outcome=ScanOutcome.REJECTED, flags=[])
    if abs(skew) > SKEW_LIMIT or abs(timedelta(seconds=event.clock_offset_s) - skew) > SKEW_LIMIT:
        scan.flags = [str(ScanFlag.CLOCK_SKEW)]
    reason = _admit(scan, event, actor=actor, now=now)
    if reason is not None:
        scan.outcome, scan.reason = ScanOutcome.REJECTED, reason
        db.session.add(scan)
        db.session.flush()
    return _verdict_of(scan)


def _admit(scan: OfflineScan, event: ScanEvent, *, actor: User, now: datetime) -> str | None:
    """Judge a scan that is new: the reason it is rejected, or None once it is stored as accepted or duplicate."""
    try:
        offer = services.get_offer_for(actor, event.offer_id)
    except (NotFound, PermissionDenied):
        return "offer_not_found"
    scan.offer_id = offer.id
    if scan.scanned_at > now + AHEAD:
        return "time_in_future"
    if scan.scanned_at < now - MAX_AGE:
        return "too_old"
    try:
        claims, key_id, rotating = signing.verified_claims(event.code, municipality_id=offer.municipality_id)
    except signing.BadToken:
        return "code_invalid"
    card = cards.door_card_by_number(claims.card_number, municipality_id=offer.municipality_id)
    if card is None:
        return "card_unknown"
    scan.card_id = card.id
    # The rules of the scan's day (not the day the offer was read with), the quota judged over every scan below.
    rules_offer = replace(offer, day=None, use_limit=None)
    flags = list(scan.flags) + _rule_flags(card, rules_offer, scan.scanned_at, claims, key_id)
    if not signing.fresh(rotating, scan.scanned_at):  # a phone's code shown long before the scan: a copy
        flags.append(str(ScanFlag.COPIED_CODE))
    allowed = services.companions_allowed(card, offer)
    if scan.companions > allowed:
        flags.append(str(ScanFlag.COMPANIONS_EXCEEDED))
        scan.companions = allowed
    scan.flags = flags
    _count_once(scan, card, rules_offer, actor=actor)
    if offer.use_limit:
        _flag_quota(card.child_id, offer, scan.scanned_at)
    return None


def _rule_flags(card, offer, at: datetime, claims: signing.Claims, key_id: int) -> list[str]:
    flags = []
    revoked = card.revoked_at is not None and card.revoked_at <= at
    if revoked or signing.revoked_before(key_id, claims.card_number, claims.issued_at, at):
        flags.append(str(ScanFlag.REVOKED_BEFORE_SCAN))
    try:
        services.evaluate(card, offer, at)
    except DomainError as exc:
        if exc.code != "card_revoked":  # said above, with when
            flags.append(exc.code)
    return flags


def _count_once(scan: OfflineScan, card, offer, *, actor: User) -> None:
    """Store the scan as the visit key's counted visit, or as a duplicate of it: a visit recorded online that day
    stays the counted one; between offline scans the earliest is (ties by event id), whatever the order they came
    in. The card row is locked (cards.door_card_by_number), so two syncs of one card take turns."""
    lo, hi = partners.day_bounds(scan.visit_day)
    online = db.session.scalar(sa.select(CheckIn.id).where(
        CheckIn.card_id == card.id, CheckIn.offer_id == offer.id, CheckIn.voided_at.is_(None),
        CheckIn.source != CheckinSource.OFFLINE, CheckIn.at >= lo, CheckIn.at < hi).order_by(CheckIn.at).limit(1))
    current = None if online else db.session.scalar(sa.select(OfflineScan).where(
        OfflineScan.card_id == card.id, OfflineScan.offer_id == offer.id, OfflineScan.visit_day == scan.visit_day,
        OfflineScan.outcome == ScanOutcome.ACCEPTED))
    if online or (current is not None and (current.scanned_at, current.event_id) <= (scan.scanned_at, scan.event_id)):
        scan.outcome, scan.duplicate_of_id = ScanOutcome.DUPLICATE, online or current.checkin_id
        db.session.add(scan)
        db.session.flush()
        return
    if current is not None:  # this scan came earlier: the counted visit moves to it, the later one is its duplicate
        visit = db.session.get(CheckIn, current.checkin_id)
        current.outcome, current.checkin_id, current.duplicate_of_id = ScanOutcome.DUPLICATE, None, visit.id
        db.session.flush()
        visit.at, visit.recorded_by_id, visit.companions = scan.scanned_at, actor.id, scan.companions
        visit.occasion_id = _occasion_id(offer, scan.scanned_at)
    else:
        values = services.visit_values(card, card.child, offer, actor=actor, at=scan.scanned_at,
                                       companions=scan.companions, source=CheckinSource.OFFLINE)
        values["occasion_id"] = _occasion_id(offer, scan.scanned_at)
        visit = CheckIn(**values)
        db.session.add(visit)
        db.session.flush()
    scan.outcome, scan.checkin_id = ScanOutcome.ACCEPTED, visit.id
    db.session.add(scan)
    db.session.flush()


def _occasion_id(offer, at: datetime) -> int | None:
    occasion = partners.occasion_at(offer, at)
    return occasion.id if occasion is not None else None


def _period(offer, at: datetime) -> tuple[datetime | None, datetime | None]:
    """The bounds of the offer's limit period around `at` (None, None: the whole offer)."""
    period = str(offer.use_limit_period or "period")
    day = local_date(at)
    if period == "week":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    elif period == "month":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        return None, None
    return partners.day_bounds(start)[0], partners.day_bounds(end)[0]


def _flag_quota(child_id: int, offer, at: datetime) -> None:
    """In time order, the counted visits of the child at the offer in the period beyond its limit: each one
    counted offline is flagged, the others lose the flag (a scan that arrived late can push a later one over)."""
    lo, hi = _period(offer, at)
    q = sa.select(CheckIn.id).where(CheckIn.child_id == child_id, CheckIn.offer_id == offer.id,
                                    CheckIn.voided_at.is_(None)).order_by(CheckIn.at, CheckIn.id)
    if lo is not None:
        q = q.where(CheckIn.at >= lo, CheckIn.at < hi)
    over = set(db.session.scalars(q).all()[offer.use_limit:])
    flag = str(ScanFlag.QUOTA_EXCEEDED)
    for scan in db.session.scalars(sa.select(OfflineScan).where(
            OfflineScan.offer_id == offer.id, OfflineScan.outcome == ScanOutcome.ACCEPTED,
            OfflineScan.checkin_id.in_(sa.select(CheckIn.id).where(CheckIn.child_id == child_id)))):
        flags = [f for f in scan.flags or [] if f != flag]
        scan.flags = [*flags, flag] if scan.checkin_id in over else flags

