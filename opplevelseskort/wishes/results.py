"""A round's results: how many children wished each activity, per zone and grade band, protected by the zone
report's disclosure engine (`reports.disclosure`), and the gaps they show against the offers.

A unit (a zone and a grade band) with fewer than MIN_ANSWERS answers shows "too few answers": its cells are hidden
(primary), zeros may stay zeros. In a unit with enough answers, a count of 1 to SUPPRESS_MIN_COUNT - 1 is hidden.
The municipality's count of each activity is the sum of its units, so the engine hides more where a total and the
shown cells would give a hidden one away. Times and "with a friend" are counted for the whole round, small counts
hidden. Published results are kept as they were shown; the raw answers are deleted then (`publish`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ..core import audit
from ..core.clock import utcnow
from ..core.errors import DomainError
from ..extensions import db
from ..partners.models import Offer, OfferStatus, Partner, PartnerStatus
from ..reports.disclosure import Need, System, protect_cached
from ..zones.models import Zone
from . import catalogue
from .models import WishAnswer, WishCall, WishOffer, WishRound, WishRoundStatus, WishTime
from .services import MIN_ANSWERS, TOTAL, _may_run, zone_chain

HIDDEN = ":"


@dataclass
class Unit:
    zone_id: int | None
    zone_code: str
    zone_name: str
    grade_band: str
    answers: int | None  # None: too few answers to show anything
    cells: dict[str, int | None]  # activity -> children who wished it (None: hidden)


def _units(answers: list[WishAnswer]) -> dict[tuple[int | None, str], list[WishAnswer]]:
    units: dict[tuple[int | None, str], list[WishAnswer]] = {}
    for a in answers:
        units.setdefault((a.zone_id, str(a.grade_band)), []).append(a)
    return dict(sorted(units.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1])))


def _unit_cells(system: System, units: dict, counts: dict, codes: list[str], min_count: int) -> None:
    """Each unit's cells: all hidden where it has too few answers (a zero may stay a zero there), a small count
    hidden elsewhere; a hidden count of 1 to min-1 must be able to reach min for a reader."""
    for (zone_id, band), group in units.items():
        few = len(group) < MIN_ANSWERS
        for code in codes:
            key, v = ("cell", zone_id or 0, band, code), counts[(zone_id, band)][code]
            primary = (few and v > 0) or 0 < v < min_count
            system.add(key, v, hidden=primary or few)
            if few:
                system.may_be_zero.add(key)
            if primary and v < min_count:
                system.need(key, Need.up(key, min_count))


def _total_cells(system: System, units: dict, totals: Counter, codes: list[str], min_count: int) -> None:
    """Each activity's count over the round, the sum of its units (dear to hide: the round's headline)."""
    for code in codes:
        key, v = ("cell", TOTAL, "", code), totals[code]
        small = 0 < v < min_count
        system.add(key, v, hidden=small, weight=10.0 * (1 + v))
        if small:
            system.need(key, Need.up(key, min_count))
        system.equal(key, [("cell", k[0] or 0, k[1], code) for k in units])


def compute(wish_round: WishRound) -> dict:
    """The round's protected results from its answers (JSON-ready; what the page shows and `publish` keeps)."""
    answers = list(db.session.scalars(sa.select(WishAnswer).where(WishAnswer.round_id == wish_round.id)))
    min_count = current_app.config["SUPPRESS_MIN_COUNT"]
    codes = [a.code for a in catalogue.ACTIVITIES]
    units = _units(answers)
    zones = {z.id: z for z in db.session.scalars(sa.select(Zone).where(Zone.id.in_([k[0] for k in units] or [0])))}
    system = System(threshold=min_count)
    counts = {key: Counter(c for a in group for c in a.activities) for key, group in units.items()}
    _unit_cells(system, units, counts, codes, min_count)
    _total_cells(system, units, Counter(c for a in answers for c in a.activities), codes, min_count)
    protect_cached(system)

    def shown(key):
        return None if key in system.hidden else system.values[key]

    out_units = []
    for (zone_id, band), group in units.items():
        zone = zones.get(zone_id)
        out_units.append(Unit(zone_id, zone.code if zone else "", zone.name if zone else _("Ukjent sone"), band,
                              None if len(group) < MIN_ANSWERS else len(group),
                              {c: shown(("cell", zone_id or 0, band, c)) for c in codes}).__dict__)
    times = Counter(t for a in answers for t in a.times)
    return {"answers": len(answers), "min_answers": MIN_ANSWERS, "units": out_units,
            "totals": {c: shown(("cell", TOTAL, "", c)) for c in codes},
            "times": {t.value: _small(times[t.value], min_count) for t in WishTime},
            "with_friend": _small(sum(1 for a in answers if a.with_friend), min_count)}


def _small(n: int, min_count: int) -> int | None:
    return None if 0 < n < min_count else n


def results(wish_round: WishRound) -> dict:
    """What was published, or, before that, the protected results of the answers so far."""
    return wish_round.results if wish_round.results is not None else compute(wish_round)


def publish(wish_round: WishRound, *, actor) -> WishRound:
    """Keep the protected results and delete the raw answers (the retention the notice states: answers live until the
    results are published, at the latest RETENTION_DAYS after the round closes). The class codes stay: a code holds
    its class and nothing it answered, and it is how the class later sees what its wishes led to."""
    if actor is not None:  # the schedule publishes when the retention time is up
        _may_run(actor, wish_round.municipality_id)
    if wish_round.status != WishRoundStatus.CLOSED:
        raise DomainError("round_not_closed", _("Lukk runden før resultatene publiseres."))
    wish_round.results = compute(wish_round)
    deleted = db.session.execute(sa.delete(WishAnswer).where(WishAnswer.round_id == wish_round.id)).rowcount
    wish_round.status, wish_round.published_at = WishRoundStatus.PUBLISHED, utcnow()
    audit.record(actor, "wishes.publish", "wish_round", wish_round.id, municipality_id=wish_round.municipality_id,
                 answers_deleted=deleted)
    return wish_round


# --- gaps ----------------------------------------------------------------------------------------------------------

@dataclass
class Gap:
    zone_id: int
    zone_name: str
    grade_band: str
    activity: str
    wished: int  # children who wished it (a shown count)


def _offered(municipality_id: int) -> dict[int | None, set[str]]:
    """The activities published offers give, by the offer's zone (else its partner's): by the words of its title,
    or the call it answers."""
    rows = db.session.execute(sa.select(Offer.id, Offer.title, sa.func.coalesce(Offer.zone_id, Partner.zone_id))
                              .join(Partner, Partner.id == Offer.partner_id)
                              .where(Partner.municipality_id == municipality_id, Offer.status == OfferStatus.PUBLISHED,
                                     Partner.status == PartnerStatus.APPROVED)).all()
    from_calls = dict(db.session.execute(sa.select(WishOffer.offer_id, WishCall.activity)
                                         .join(WishCall, WishCall.id == WishOffer.call_id)).all())
    out: dict[int | None, set[str]] = {}
    for offer_id, title, zone_id in rows:
        words = set((title or "").lower().replace(",", " ").split())
        found = {a.code for a in catalogue.ACTIVITIES if a.words and words & set(a.words)}
        if offer_id in from_calls:
            found.add(from_calls[offer_id])
        out.setdefault(zone_id, set()).update(found)
    return out


def gaps(wish_round: WishRound, *, limit: int = 20) -> list[Gap]:
    """The activities most wished in a zone and grade band that no published offer in that zone (or a zone inside
    it) gives, from the protected results (a hidden count ranks nothing), most wished first."""
    shown = results(wish_round)
    zones = db.session.execute(sa.select(Zone.id, Zone.parent_id).where(
        Zone.municipality_id == wish_round.municipality_id)).all()
    parents = {z: p for z, p in zones}
    offered_in: dict[int, set[str]] = {}
    for zone_id, codes in _offered(wish_round.municipality_id).items():
        for above in zone_chain(zone_id, parents):
            offered_in.setdefault(above, set()).update(codes)
    found = []
    for unit in shown["units"]:
        if unit["zone_id"] is None or unit["answers"] is None:
            continue
        for code, wished in unit["cells"].items():
            if wished and code != "other" and code not in offered_in.get(unit["zone_id"], set()):
                found.append(Gap(unit["zone_id"], unit["zone_name"], unit["grade_band"], code, wished))
    return sorted(found, key=lambda g: (-g.wished, g.zone_name, g.activity))[:limit]
