"""The equipment pool's scheduled jobs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from opplevelseskort.core import jobs

from . import overview, reservations


@jobs.every("equipment_reminders", minute="0", hour="6",
            what=_l("Påminnelser om utlån som snart skal leveres eller er på overtid"))
def reminders() -> dict:
    """Due-soon and overdue reminders, each loan reminded once per kind."""
    due, overdue = overview.send_reminders()
    return {"due_soon": due, "overdue": overdue}


@jobs.every("expire_reservations", minute="*/15", what=_l("Reservasjoner som ikke ble hentet, utløper"))
def expire_reservations() -> dict:
    """Reservations not picked up within the grace period expire (an expired one stays expired)."""
    return {"expired": reservations.expire_reservations()}
