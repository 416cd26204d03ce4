"""Locale choice and formatting helpers (Babel)."""

from __future__ import annotations

from flask import current_app, g, has_request_context, request, session
from flask_babel import (
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    format_time,
    get_locale,
    refresh,
)
from flask_login import current_user
from markupsafe import Markup

from ..config import RTL_LOCALES
from .clock import local_date
from .languages import STAFF_COMPLETE

LANGUAGE_NAMES = {
    "nb": "Norsk bokmål", "nn": "Norsk nynorsk", "en": "English", "sv": "Svenska", "ar": "العربية",
    "so": "Soomaali", "pl": "Polski", "uk": "Українська", "ti": "ትግርኛ",
}


def staff_page() -> bool:
    """A page behind sign-in (every page that is not a family's or the public's)."""
    view = current_app.view_functions.get(request.endpoint or "") if has_request_context() else None
    return view is not None and not getattr(view, "public", False) and request.endpoint not in PUBLIC_ENDPOINTS


PUBLIC_ENDPOINTS = {"core.home", "accounts.login", "core.accessibility", "core.set_language", "static"}


def offered_locales() -> list[str]:
    """The languages this page offers: on a staff page only those whose staff texts are complete (Arabic, Somali,
    Polish, Ukrainian and Tigrinya cover the family's pages, not the staff's), on the others every language."""
    supported = current_app.config["SUPPORTED_LOCALES"]
    return [c for c in supported if c in STAFF_COMPLETE] if staff_page() else list(supported)


def select_locale() -> str:
    """The user's choice, then the session, then the browser's Accept-Language, then bokmål; on a staff page a
    language without complete staff texts is not used (bokmål instead of a half-translated page)."""
    supported = current_app.config["SUPPORTED_LOCALES"]
    forced = g.get("forced_locale")
    if forced in supported:
        return forced
    if not has_request_context():  # CLI and background work: bokmål unless a caller forced another
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if staff_page():
        supported = [c for c in supported if c in STAFF_COMPLETE]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in supported:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in supported:
        return chosen
    # "no" is what many browsers send for Norwegian; it means bokmål here.
    best = request.accept_languages.best_match(supported + ["no"])
    if best == "no":
        return "nb"
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_locale_code() -> str:
    loc = get_locale()
    return str(loc) if loc else "nb"


def html_lang() -> str:
    return current_locale_code().replace("_", "-")


def text_direction() -> str:
    return "rtl" if current_locale_code().split("_")[0] in RTL_LOCALES else "ltr"


def number_range(low, high) -> Markup:
    """"6–16" kept left to right on a right-to-left page (otherwise shown as "16–6")."""
    return Markup('<bdi dir="ltr">{}–{}</bdi>').format(low, high)


def date_range(start, end, fmt: str = "medium") -> Markup:
    """Two dates, each isolated from the text around it (a date's digits and slashes keep their order on a
    right-to-left page), in reading order."""
    return Markup("<bdi>{}</bdi>–<bdi>{}</bdi>").format(format_date(start, fmt), format_date(end, fmt))


def format_when(moment) -> str:
    """A day and a time as the reader's language writes them ("søndag 6. desember 2026, 17:05", "Sunday,
    December 6, 2026, 5:05 PM", "الأحد، 6 ديسمبر 2026، 5:05 م"): the locale's full date and short time, joined
    by its own pattern, never a Norwegian pattern in every language."""
    joined = str(get_locale().datetime_formats.get("full", "{1} {0}"))
    return joined.replace("{1}", format_date(moment, "full")).replace("{0}", format_time(moment, "short"))


def template_helpers() -> dict:
    return {
        "format_currency": format_currency,
        "local_date": local_date,
        "format_date": format_date,
        "format_datetime": format_datetime,
        "format_when": format_when,
        "format_decimal": format_decimal,
        "format_percent": format_percent,
        "html_lang": html_lang,
        "text_direction": text_direction,
        "current_locale": current_locale_code,
        "language_names": LANGUAGE_NAMES,
        "number_range": number_range,
        "date_range": date_range,
    }


class force_locale:
    """Render messages in a given locale (a guardian's preferred language) inside or outside a request."""

    def __init__(self, locale: str | None):
        self.locale = locale

    def __enter__(self):
        self.previous = g.get("forced_locale")
        g.forced_locale = self.locale
        refresh()
        return self

    def __exit__(self, *exc):
        g.forced_locale = self.previous
        refresh()
        return False
