"""A phone card that cannot simply be copied (issue 39, item 2): the family's card page makes a key on the phone, the
server binds the card to it once (`signing.sign_device`), and the page shows a code the phone signs again every few
seconds (`signing.Rotating`). A scanner, online or not, checks both signatures and the time: a screenshot is stale
within ROTATING_WINDOW. The printed card's code remains the fallback."""

from __future__ import annotations

import base64
import binascii

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec
from flask_babel import gettext as _

from ..core import audit
from ..core.clock import utcnow
from ..core.errors import DomainError
from ..extensions import db
from . import services, signing
from .models import Card, CardDevice

MAX_DEVICES = 3  # phones a card is bound to at once; a fourth replaces the oldest
REFRESH_SECONDS = 5  # how often the page signs a new code


def _point(public_key: str) -> bytes:
    """The phone's public key (an uncompressed P-256 point, base64url) checked to be a point on the curve."""
    try:
        raw = base64.urlsafe_b64decode((public_key or "") + "=" * (-len(public_key or "") % 4))
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except (binascii.Error, ValueError, TypeError):
        raise DomainError("device_key_invalid", _("Telefonens nøkkel kunne ikke leses. Last inn siden på nytt.")) from None
    if len(raw) != 65:
        raise DomainError("device_key_invalid", _("Telefonens nøkkel kunne ikke leses. Last inn siden på nytt."))
    return raw


def bind(card: Card, public_key: str) -> dict:
    """Bind the card to a phone's key (once per key; the oldest of more than MAX_DEVICES goes) and answer what the
    page signs its codes with: the bound card, the server's time (the phone's clock error) and the timings."""
    raw = _point(public_key)
    known = db.session.scalar(sa.select(CardDevice).where(CardDevice.card_id == card.id, CardDevice.public_key == raw))
    if known is None:
        db.session.add(CardDevice(card_id=card.id, public_key=raw, created_at=utcnow()))
        db.session.flush()
        bound = db.session.scalars(sa.select(CardDevice).where(CardDevice.card_id == card.id)
                                   .order_by(CardDevice.created_at.desc(), CardDevice.id.desc())).all()
        for old in bound[MAX_DEVICES:]:
            db.session.delete(old)
        audit.record(None, "card.device_bound", "card", card.id, municipality_id=card.municipality_id)
    certificate = signing.sign_device(card, raw, age_band=services.age_band_of(card))
    return {"certificate": base64.urlsafe_b64encode(certificate).rstrip(b"=").decode(),
            "server_time": utcnow().isoformat(), "refresh_seconds": REFRESH_SECONDS,
            "window_seconds": int(signing.ROTATING_WINDOW.total_seconds())}

