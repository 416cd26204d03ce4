"""The money part's schedule: every night the active schemes grant their period's money to children who got a card
since, unspent money of ended periods lapses, and reservations past their day are voided."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..core import jobs
from ..extensions import db
from . import services
from .models import Scheme


@jobs.every("money", minute="15", hour="1", what=_l("Deler ut aktivitetspenger, lar ubrukte penger gå ut og "
                                                    "annullerer gamle reservasjoner"))
def money_night() -> dict:
    """Idempotent: a child is granted once per scheme and period, an account lapses once, a reservation resolves once."""
    granted = sum(services.grant(s) for s in db.session.scalars(sa.select(Scheme).where(Scheme.active)).all())
    return {"granted": granted, "voided": services.expire_reservations(), "lapsed": services.lapse()}
