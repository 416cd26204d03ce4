"""From wish to offer and back: a gap becomes a call to the municipality's partners, a partner's answer an offer
tagged with the call (and so with the round), and the offers born from a round are what the children who wished
are shown: a class's code page, a card holder's page and the municipality's public page. Their uptake is counted
apart (protected: a small count is hidden)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ..accounts.models import User
from ..checkin.models import CheckIn
from ..core import audit
from ..core.errors import DomainError, NotFound
from ..core.models import Role
from ..extensions import db
from ..partners import services as partners
from ..partners.models import Offer, OfferStatus
from ..zones.models import Zone
from . import catalogue
from .models import GradeBand, WishCall, WishCallStatus, WishOffer, WishRound, WishTime
from .services import BAND_AGES, _may_run, zone_chain


def create_call(wish_round: WishRound, *, activity: str, zone_id: int, grade_band: str, times: list[str],
                text: str, actor) -> WishCall:
    """A call to the municipality's partners, pre-filled from a gap (activity, zone, grade band, time)."""
    _may_run(actor, wish_round.municipality_id)
    zone = db.session.get(Zone, zone_id)
    problems = []
    if catalogue.activity(activity) is None or activity == "other":
        problems.append(_("Ukjent aktivitet."))
    if zone is None or zone.municipality_id != wish_round.municipality_id:
        problems.append(_("Ukjent sone."))
    if grade_band not in set(GradeBand):
        problems.append(_("Velg minst ett klassetrinn."))
    if any(t not in set(WishTime) for t in times):
        problems.append(_("Ukjent tidspunkt."))
    if problems:
        raise DomainError("call_invalid", " ".join(problems))
    call = WishCall(round_id=wish_round.id, municipality_id=wish_round.municipality_id, activity=activity,
                    zone_id=zone_id, grade_band=GradeBand(grade_band), times=list(times), text=(text or "").strip())
    db.session.add(call)
    db.session.flush()
    audit.record(actor, "wishes.call_create", "wish_call", call.id, municipality_id=wish_round.municipality_id)
    return call


def calls_for(user: User) -> list[WishCall]:
    """The open calls a partner's staff may answer (their municipality's), newest first."""
    if user.role != Role.PARTNER or partners.partner_id_of(user) is None:
        return []
    return list(db.session.scalars(sa.select(WishCall).where(WishCall.municipality_id == user.municipality_id,
                                                             WishCall.status == WishCallStatus.OPEN)
                                   .order_by(WishCall.created_at.desc(), WishCall.id.desc())))


def calls_of(wish_round: WishRound) -> list[WishCall]:
    return list(db.session.scalars(sa.select(WishCall).where(WishCall.round_id == wish_round.id)
                                   .order_by(WishCall.id)))


def call_for(call_id: int, user: User) -> WishCall:
    found = db.session.get(WishCall, call_id)
    if found is None or found not in calls_for(user):
        raise NotFound("call_unknown", _("Fant ikke utlysningen."))
    return found


@dataclass
class CallAnswer:
    title: str
    description: str
    address: str
    start_date: date
    end_date: date
    price_nok: int = 0


def answer_call(call: WishCall, user: User, data: CallAnswer) -> Offer:
    """The partner answers with an offer: the call's category, zone and ages filled in, published at once (as the
    partner's own offers are), and tagged with the call."""
    ages = BAND_AGES[GradeBand(call.grade_band)]
    zone = db.session.get(Zone, call.zone_id)
    values = {"title": (data.title or "").strip(), "description": (data.description or "").strip(),
              "category": catalogue.BY_CODE[call.activity].category, "age_min": ages[0], "age_max": ages[1],
              "address": (data.address or "").strip(), "start_date": data.start_date, "end_date": data.end_date,
              "opening_hours": "", "companions_allowed": 1, "price_nok": data.price_nok, "use_limit": None,
              "use_limit_period": "period", "requires_booking": False, "status": OfferStatus.PUBLISHED.value,
              "lat": None, "lon": None}
    offer = partners.save_offer(user, values, {}, zone_text=zone.code if zone else "")
    db.session.add(WishOffer(call_id=call.id, offer_id=offer.id, partner_id=offer.partner_id))
    db.session.flush()
    audit.record(user, "wishes.call_answer", "wish_call", call.id, municipality_id=call.municipality_id,
                 offer_id=offer.id)
    return offer


def close_call(call: WishCall, *, actor) -> None:
    _may_run(actor, call.municipality_id)
    call.status = WishCallStatus.CLOSED


def born_offers(municipality_id: int, *, zone_id: int | None = None, round_id: int | None = None) -> list[Offer]:
    """Published offers born from calls (of a round, when given), for a zone when given: a call for the zone, a
    zone above it or a zone inside it."""
    q = (sa.select(Offer, WishCall.zone_id).join(WishOffer, WishOffer.offer_id == Offer.id)
         .join(WishCall, WishCall.id == WishOffer.call_id)
         .where(WishCall.municipality_id == municipality_id, Offer.status == OfferStatus.PUBLISHED)
         .order_by(Offer.start_date, Offer.id))
    if round_id is not None:
        q = q.where(WishCall.round_id == round_id)
    rows = db.session.execute(q).all()
    if zone_id is None:
        return [offer for offer, _z in rows]
    parents = dict(db.session.execute(sa.select(Zone.id, Zone.parent_id).where(
        Zone.municipality_id == municipality_id)).all())
    mine = set(zone_chain(zone_id, parents))
    return [offer for offer, call_zone in rows if call_zone in mine or zone_id in zone_chain(call_zone, parents)]


def uptake(wish_round: WishRound) -> dict:
    """Visits to offers born from the round and the children who made them, apart from the rest; a count below the
    report's threshold is hidden (None)."""
    offer_ids = sa.select(WishOffer.offer_id).join(WishCall, WishCall.id == WishOffer.call_id).where(
        WishCall.round_id == wish_round.id)
    visits, children = db.session.execute(sa.select(sa.func.count(CheckIn.id),
                                                    sa.func.count(sa.distinct(CheckIn.child_id)))
                                          .where(CheckIn.offer_id.in_(offer_ids), CheckIn.voided_at.is_(None))).one()
    min_count = current_app.config["SUPPRESS_MIN_COUNT"]
    offers = db.session.scalar(sa.select(sa.func.count()).select_from(offer_ids.subquery()))
    return {"offers": offers, "visits": None if 0 < visits < min_count else visits,
            "children": None if 0 < children < min_count else children}
