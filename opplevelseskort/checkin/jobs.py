"""The check-in part's scheduled jobs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..core import jobs
from . import services


@jobs.every("release_no_shows", minute="*/10",
            what=_l("Plasser ingen brukte, går til ventelisten 30 minutter etter start"))
def release_no_shows() -> dict:
    """Booked places nobody came to go to the waiting list, once per booking."""
    return {"released": services.release_all_no_shows()}
