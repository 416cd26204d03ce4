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
    ("checkin_source", "offline"): _l("Uten nett"),
    ("scan_outcome", "accepted"): _l("Telt"), ("scan_outcome", "duplicate"): _l("Dobbeltskannet"),
    ("scan_outcome", "rejected"): _l("Avvist"),
    ("scan_reason", "offer_not_found"): _l("Tilbudet finnes ikke, eller det er ikke ditt."),
    ("scan_reason", "code_invalid"): _l("Koden kan ikke bekreftes (endret, ukjent nøkkel eller ikke en signert kode)."),
    ("scan_reason", "card_unknown"): _l("Ukjent kort."),
    ("scan_reason", "time_in_future"): _l("Skanningen er tidfestet fram i tid."),
    ("scan_reason", "too_old"): _l("Skanningen er eldre enn 30 dager."),
    ("scan_reason", "event_id_reused"): _l("Hendelses-ID-en er brukt før for en annen skanning."),
    ("wallet_kind", "apple"): _l("Apple Wallet"), ("wallet_kind", "google"): _l("Google Wallet"),
    ("scan_flag", "revoked_before_scan"): _l("Kortet var sperret før skanningen"),
    ("scan_flag", "quota_exceeded"): _l("Over grensen for perioden"),
    ("scan_flag", "clock_skew"): _l("Klokken på telefonen gikk feil"),
    ("scan_flag", "copied_code"): _l("Koden var kopiert (et skjermbilde)"),
    ("scan_flag", "card_expired"): _l("Kortet var utløpt"), ("scan_flag", "card_not_yet_valid"): _l("Kortet gjaldt ikke ennå"),
    ("scan_flag", "offer_inactive"): _l("Tilbudet var ikke åpent den dagen"),
    ("scan_flag", "age_outside_range"): _l("Alderen passet ikke tilbudet"),
    ("scan_flag", "not_booked"): _l("Barnet hadde ikke plass"),
    ("scan_flag", "companions_exceeded"): _l("Flere ledsagere enn kortet gir"),
    ("gender", "girl"): _l("Jente"), ("gender", "boy"): _l("Gutt"), ("gender", "other"): _l("Annet"),
    ("gender", "unknown"): _l("Ukjent"),
    ("age_band", "0-5"): _l("0–5 år"), ("age_band", "6-9"): _l("6–9 år"), ("age_band", "10-12"): _l("10–12 år"),
    ("age_band", "13-15"): _l("13–15 år"), ("age_band", "16+"): _l("16 år og eldre"), ("age_band", "unknown"): _l("Ukjent alder"),
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
    ("channel", "nav"): _l("NAV"), ("channel", "child_welfare"): _l("Barnevernet"), ("channel", "school"): _l("Skolen"),
    ("channel", "health_nurse"): _l("Helsesykepleier"), ("channel", "introduction"): _l("Introduksjonsprogrammet"),
    ("channel", "application"): _l("Egen søknad"), ("channel", "other"): _l("Annet"),
    ("revoke_reason", "lost"): _l("Mistet"), ("revoke_reason", "eligibility_ended"): _l("Retten er opphørt"),
    ("revoke_reason", "misuse"): _l("Misbruk"), ("revoke_reason", "replaced"): _l("Erstattet"),
    ("job_status", "queued"): _l("I kø"), ("job_status", "running"): _l("Kjører"),
    ("job_status", "done"): _l("Ferdig"), ("job_status", "failed"): _l("Feilet"),
    ("signing_key_status", "active"): _l("Signerer nye koder"),
    ("signing_key_status", "retiring"): _l("Går ut: koder bekreftes fortsatt"),
    ("signing_key_status", "retired"): _l("Tatt ut: koder bekreftes ikke"),
    ("card_status", "active"): _l("Gyldig"), ("card_status", "expired"): _l("Utløpt"),
    ("card_status", "not_yet_valid"): _l("Ikke gyldig ennå"), ("card_status", "revoked"): _l("Sperret"),
    ("application_status", "pending"): _l("Venter"), ("application_status", "approved"): _l("Godkjent"),
    ("application_status", "rejected"): _l("Avslått"),
    ("partner_status", "pending"): _l("Venter på godkjenning"), ("partner_status", "approved"): _l("Godkjent"),
    ("partner_status", "rejected"): _l("Avslått"), ("partner_status", "suspended"): _l("Suspendert"),
    ("partner_kind", "club"): _l("Lag eller forening"), ("partner_kind", "business"): _l("Bedrift"),
    ("partner_kind", "volunteer_group"): _l("Frivillig gruppe"), ("partner_kind", "municipal"): _l("Kommunal tjeneste"),
    ("offer_status", "draft"): _l("Utkast"), ("offer_status", "published"): _l("Publisert"),
    ("offer_status", "paused"): _l("Pause"), ("offer_status", "ended"): _l("Avsluttet"),
    ("limit_period", "week"): _l("per uke"), ("limit_period", "month"): _l("per måned"),
    ("limit_period", "period"): _l("i hele perioden"),
    ("role", "admin"): _l("Administrator"), ("role", "caseworker"): _l("Saksbehandler"), ("role", "partner"): _l("Partner"),
    ("role", "volunteer"): _l("Frivillig"), ("role", "analyst"): _l("Analytiker"),
    ("outbox_status", "pending"): _l("Venter"), ("outbox_status", "sent"): _l("Sendt"),
    ("outbox_status", "failed"): _l("Feilet"), ("outbox_status", "sending"): _l("Sendes"),
    ("outbox_status", "uncertain"): _l("Usikker: sjekk og send på nytt"),
    ("outbox_channel", "email"): _l("E-post"), ("outbox_channel", "sms"): _l("SMS"),
    ("item_category", "ski"): _l("Ski"), ("item_category", "skates"): _l("Skøyter"), ("item_category", "bike"): _l("Sykkel"),
    ("item_category", "helmet"): _l("Hjelm"), ("item_category", "tent"): _l("Telt"),
    ("item_category", "sleeping_bag"): _l("Sovepose"), ("item_category", "life_jacket"): _l("Redningsvest"),
    ("item_category", "other"): _l("Annet"),
    ("unit_condition", "good"): _l("God"), ("unit_condition", "worn"): _l("Slitt"),
    ("unit_condition", "needs_repair"): _l("Må repareres"),
    ("unit_source", "donation"): _l("Gave"), ("unit_source", "purchase"): _l("Innkjøpt"),
    ("borrower_kind", "card_holder"): _l("Korteier"), ("borrower_kind", "adult"): _l("Voksen"),
    ("borrower_kind", "child"): _l("Barn"), ("borrower_kind", "group"): _l("Gruppe"),
}


def labels_for(kind: str, enum) -> dict:
    """{member: lazy word} for a form's choices or a template, from the one table above."""
    return {member: LABELS.get((kind, member.value), member.value) for member in enum}


def label(kind: str, code) -> str:
    """The word for a code (translated in the current language), or the code itself when there is none."""
    text = LABELS.get((kind, str(code))) if code is not None else None
    return str(text) if text is not None else ("" if code is None else str(code))
