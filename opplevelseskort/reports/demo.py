"""Demo data of the reports part: the demo year's publication is built at once, as the schedule would build it
within a minute, so the analysts' first page shows figures rather than "being made"."""

from __future__ import annotations

from ..core.clock import today
from ..core.models import Municipality
from . import services


def demo_publications(municipality: Municipality) -> None:
    services.build_and_store(municipality, services.parse_period(str(today().year)))
