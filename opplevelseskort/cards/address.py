"""Zone from a home address through Kartverket's open address API; only the zone is kept, never the address."""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request

from flask import current_app
from flask_babel import gettext as _

from ..core.errors import DomainError
from ..core.models import Municipality
from ..zones.models import Zone
from ..zones.services import zone_at

log = logging.getLogger(__name__)


def zone_for_address(municipality: Municipality, address: str) -> Zone:
    """Look the address up (first hit in the municipality) and return the zone containing its point."""
    address = (address or "").strip()
    if not address:
        raise DomainError("address_missing", _("Skriv inn en adresse."))
    base = current_app.config["ADDRESS_API_URL"].rstrip("/")
    query = urllib.parse.urlencode({"sok": address, "kommunenummer": municipality.number, "treffPerSide": 1,
                                    "utkoordsys": 4258})
    try:
        with urllib.request.urlopen(f"{base}/sok?{query}", timeout=current_app.config["ADDRESS_API_TIMEOUT"]) as resp:
            data = json.load(resp)
    except (OSError, ValueError) as exc:
        log.warning("address look-up failed: %s", type(exc).__name__)
        raise DomainError("address_lookup_failed",
                          _("Adresseoppslaget svarer ikke nå. Velg sonen i listen i stedet.")) from None
    hits = data.get("adresser") if isinstance(data, dict) else None
    if not hits:
        raise DomainError("address_not_found", _("Fant ikke adressen «%(address)s».", address=address))
    point = hits[0].get("representasjonspunkt") or {}
    try:
        lat, lon = float(point["lat"]), float(point["lon"])
    except (KeyError, TypeError, ValueError):
        raise DomainError("address_not_found", _("Fant ikke adressen «%(address)s».", address=address)) from None
    zone = zone_at(municipality.id, lon, lat)
    if zone is None:
        raise DomainError("address_outside_zones", _("Adressen ligger ikke i noen av kommunens soner."))
    return zone
