"""Demo data of the reports part. The full demo imports SSB-shaped living-conditions indicators for both years
through the indicator import (a CSV as the statbank gives it: zone, indicator, year, value, numerator,
denominator), saves an index method of the living-conditions indicators only (never a count or a denominator),
then builds both years' publications at once, as the schedule would within a minute, so the analysts' first pages
show figures rather than "being made". The small demo builds this year's publication only."""

from __future__ import annotations

import csv
import io
import random

import sqlalchemy as sa

from ..accounts.models import User
from ..cards.models import Child
from ..core.clock import today
from ..core.models import Municipality
from ..demo import DEMO_SEED, UNKNOWN_CODE
from ..extensions import db
from ..zones.models import Zone
from . import levekar, periods, services

# SSB's indicators of the index for levekårsproblemer (shares, in per cent), each tied to the zone's hidden
# deprivation: (key, base level, spread with deprivation, denominator per child 6-17)
LIVING_CONDITIONS = [
    (services.LOW_INCOME_KEY, 6.0, 22.0, 1.5),  # children 0-17 in households with persistent low income
    ("arbeidsledighet", 1.5, 4.0, 5.0),  # registered unemployed, 15-74
    ("sosialhjelp", 1.0, 5.0, 4.5),  # receiving social assistance, 20-66
    ("uforetrygd", 5.0, 8.0, 4.5),  # receiving disability benefit, 18-66
    ("enslige_forsorgere", 10.0, 20.0, 1.2),  # children 0-17 living with one parent
    ("trangboddhet", 4.0, 14.0, 7.0),  # persons living crowded
    ("lav_utdanning", 14.0, 18.0, 5.5),  # 30-59 with primary school only (SSB leaves it out unless chosen)
]
INDEX_KEYS = [key for key, *_rest in LIVING_CONDITIONS if key not in levekar.EXCLUDED_BY_DEFAULT]


def indicator_csv(muni: Municipality, years: list[int]) -> str:
    """The indicator file: the children 6-17 (the denominator of reach) and the living-conditions shares, per
    grunnkrets, shaped by where the card holders live but not by how many children a zone has."""
    rng = random.Random(DEMO_SEED + 3)
    cards = dict(db.session.execute(
        sa.select(Zone.code, sa.func.count(Child.id)).join(Child, Child.zone_id == Zone.id)
        .where(Zone.municipality_id == muni.id).group_by(Zone.code)).all())
    codes = sorted(db.session.scalars(sa.select(Zone.code).where(Zone.municipality_id == muni.id,
                                                                Zone.level == "grunnkrets")))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["zone", "indicator", "year", "value", "numerator", "denominator"])
    for code in codes:
        holders = cards.get(code, 0)
        children = 12 if code == UNKNOWN_CODE else max(holders + rng.randint(3, 12), int(rng.uniform(90, 280)))
        deprivation = min(1.0, max(0.0, holders / children * 2.2 + rng.gauss(0, 0.12)))
        for year in years:
            drift = 1 + (year - years[0]) * rng.uniform(-0.06, 0.06)
            kids = round(children * drift)
            writer.writerow([code, services.ELIGIBLE_KEY, year, kids, "", ""])
            if code == UNKNOWN_CODE:  # no address, no living conditions: only its children are counted
                continue
            for key, base, spread, per_child in LIVING_CONDITIONS:
                denominator = round(kids * per_child)
                share = max(0.0, (base + spread * deprivation) * drift + rng.gauss(0, 1.0))
                numerator = round(denominator * share / 100)
                value = round(100 * numerator / denominator, 1) if denominator else ""
                writer.writerow([code, key, year, value, numerator, denominator])
    return out.getvalue()


def demo_publications(municipality: Municipality, *, small: bool = False) -> dict[str, int]:
    this_year = today().year
    years = [this_year] if small else [this_year - 1, this_year]
    if not small and not levekar.available_keys(municipality):
        admin = db.session.scalar(db.select(User).filter_by(email="admin@demo.no"))
        services.import_indicators_csv(municipality, indicator_csv(municipality, years), actor=admin)
        levekar.save_method(municipality, [{"key": key, "weight": 1, "higher_is_worse": True} for key in INDEX_KEYS],
                            actor=admin)
    for year in years:
        services.build_and_store(municipality, periods.parse_period(str(year)))
    return {"years published": len(years)}
