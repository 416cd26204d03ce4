"""The wish rounds' schedule: every night a round past its last day closes (card holders' hashes deleted), and a
closed round's results are published once RETENTION_DAYS have passed (the raw answers deleted), as the notice says."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..core import jobs
from ..core.clock import today
from ..extensions import db
from . import results, services
from .models import WishRound, WishRoundStatus
from .notice import RETENTION_DAYS


@jobs.every("wishes", minute="40", hour="1", what=_l("Lukker ønskerunder som er over, og publiserer resultatene "
                                                     "(og sletter svarene) når fristen er nådd"))
def wishes_night() -> dict:
    """Idempotent: a round closes once and publishes once."""
    closed = services.close_due()
    due = db.session.scalars(sa.select(WishRound).where(
        WishRound.status == WishRoundStatus.CLOSED,
        WishRound.closes_on < today() - timedelta(days=RETENTION_DAYS))).all()
    for wish_round in due:
        results.publish(wish_round, actor=None)
    return {"closed": closed, "published": len(due)}
