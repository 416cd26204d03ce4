"""One place for the words shown for every code: pages, PDFs and export labels use these (codes stay codes in
CSV columns and JSON-stat ids). Keyed by (kind, code), so the same code can read differently where it means
something else; a code without a label is shown as it is."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

LABELS: dict[tuple[str, str], object] = {
    ("unit_status", "available"): _l("Ledig"), ("unit_status", "on_loan"): _l("Utlånt"),
    ("unit_status", "maintenance"): _l("Til reparasjon"), ("unit_status", "unchecked"): _l("Levert, ikke sjekket"),
    ("unit_status", "retired"): _l("Tatt ut av bruk"), ("unit_status", "lost"): _l("Tapt"),
    ("checkin_source", "typed"): _l("Skrevet inn"), ("checkin_source", "camera"): _l("Kamera"),
    ("checkin_source", "link"): _l("Kortlenke"), ("checkin_source", "api"): _l("API"),
    ("gender", "girl"): _l("Jente"), ("gender", "boy"): _l("Gutt"), ("gender", "other"): _l("Annet"),
    ("gender", "unknown"): _l("Ukjent"),
    ("zone_level", "grunnkrets"): _l("Grunnkrets"), ("zone_level", "delomrade"): _l("Delområde"),
    ("zone_level", "bydel"): _l("Bydel"), ("zone_level", "levekar"): _l("Levekårssone"),
    ("booking_status", "booked"): _l("Har plass"), ("booking_status", "waitlisted"): _l("Venteliste"),
    ("booking_status", "cancelled"): _l("Avbestilt"), ("booking_status", "no_show"): _l("Kom ikke"),
    ("booking_status", "released"): _l("Plassen gitt videre"),
    ("reservation_status", "active"): _l("Aktiv"), ("reservation_status", "picked_up"): _l("Hentet"),
    ("reservation_status", "expired"): _l("Utløpt"), ("reservation_status", "cancelled"): _l("Avbestilt"),
    ("offer_category", "sport"): _l("Idrett"), ("offer_category", "culture"): _l("Kultur"),
    ("offer_category", "outdoor"): _l("Friluftsliv"), ("offer_category", "swimming"): _l("Svømming"),
    ("offer_category", "cinema"): _l("Kino"), ("offer_category", "events"): _l("Arrangementer"),
    ("offer_category", "holiday_activity"): _l("Ferieaktivitet"), ("offer_category", "other"): _l("Annet"),
    ("measure", "children_with_card"): _l("Barn med kort"), ("measure", "active_children"): _l("Aktive barn"),
    ("measure", "checkins"): _l("Besøk"), ("measure", "offers_used"): _l("Tilbud brukt"),
    ("measure", "no_shows"): _l("Uteblitt"), ("measure", "loans"): _l("Utlån"), ("measure", "borrowers"): _l("Lånere"),
    ("measure", "value_nok"): _l("Verdi (kr)"), ("measure", "uptake"): _l("Opptak"),
    ("measure", "reach"): _l("Rekkevidde"),
}


def label(kind: str, code) -> str:
    """The word for a code (translated in the current language), or the code itself when there is none."""
    text = LABELS.get((kind, str(code))) if code is not None else None
    return str(text) if text is not None else ("" if code is None else str(code))
