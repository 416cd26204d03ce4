"""Municipalities and their settings, and the public address links are built on."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy.orm.util import identity_key

from ..config import SUPPORTED_LOCALES
from ..extensions import db
from . import audit
from .clock import today
from .errors import DomainError
from .models import Municipality
from .types import Actor
from .validation import EMAIL_RE, valid_org_number


def get_or_create_municipality(number: str, name: str) -> Municipality:
    """Find a municipality by its 4-digit number, creating it if new."""
    number = (number or "").strip()
    if not re.fullmatch(r"\d{4}", number):
        raise DomainError("municipality_number_invalid",
                          _("Kommunenummer må være fire sifre, ikke «%(value)s».", value=number))
    found = db.session.scalar(db.select(Municipality).filter_by(number=number))
    if found:
        return found
    m = Municipality(number=number, name=name.strip() or number)
    db.session.add(m)
    db.session.flush()
    return m


def municipalities_for(user: Actor) -> list[Municipality]:
    """The municipalities a staff user may work in (all for an unrestricted admin)."""
    q = db.select(Municipality).order_by(Municipality.name)
    if user.municipality_id is not None:
        q = q.where(Municipality.id == user.municipality_id)
    return list(db.session.scalars(q))


SMS_SENDER_RE = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")  # an alphanumeric SMS sender id


REPORT_PERIOD_RE = re.compile(r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$")


SETTINGS = ("contact_line", "sms_sender", "default_report_period", "support_email", "org_number")


FAMILY_LANGUAGES = tuple(code for code in SUPPORTED_LOCALES if code != "nb")  # the contact line's other languages


def parse_scheme_end(text: str) -> str | None:
    """"31.07" (or "31.7", "07-31") as MM-DD, or None when it is no day of the year (29.02 is not: not every year
    has it)."""
    text = (text or "").strip()
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.?", text) or re.fullmatch(r"(\d{1,2})-(\d{1,2})", text)
    if not m:
        return None
    day, month = (int(m.group(1)), int(m.group(2))) if "." in text else (int(m.group(2)), int(m.group(1)))
    try:
        date(2025, month, day)
    except ValueError:
        return None
    return f"{month:02d}-{day:02d}"


def update_municipality_settings(municipality: Municipality, *, actor: Actor, contact_line: str, sms_sender: str,
                                 default_report_period: str, support_email: str,
                                 scheme_end: str | None = None, org_number: str | None = None,
                                 contact_lines: dict[str, str] | None = None) -> list[str]:
    """The municipality's own settings, every field checked (problems by field, nothing saved unless all hold);
    the change is audited. `contact_lines` is the line in the families' other languages (an empty one: bokmål is
    shown). Returns the names of the fields that changed."""
    values = {"contact_line": (contact_line or "").strip(), "sms_sender": (sms_sender or "").strip(),
              "default_report_period": (default_report_period or "").strip(),
              "support_email": (support_email or "").strip()}
    if contact_lines is not None:
        values["contact_line_translations"] = {lang: text.strip() for lang, text in sorted(contact_lines.items())
                                               if lang in FAMILY_LANGUAGES and (text or "").strip()}
    if scheme_end is not None:
        values["scheme_end"] = parse_scheme_end(scheme_end) or ""
    if org_number is not None:
        values["org_number"] = re.sub(r"\s", "", org_number or "")
    problems = _settings_problems(values, scheme_end_given=scheme_end is not None)
    if problems:
        raise DomainError("settings_invalid", " ".join(problems.values()), fields=problems)
    changed = [k for k, v in values.items() if (getattr(municipality, k) or ({} if isinstance(v, dict) else None)) != v]
    for key in changed:
        setattr(municipality, key, values[key])
    if changed:
        audit.record(actor, "municipality.settings", "municipality", municipality.id,
                     municipality_id=municipality.id, changed={k: values[k] for k in changed})
    return changed


def _settings_problems(values: dict, *, scheme_end_given: bool) -> dict[str, str]:
    """Each setting that does not hold, by field (empty: all hold)."""
    problems = {}
    if len(values["contact_line"]) > 200:
        problems["contact_line"] = _("Høyst %(n)d tegn.", n=200)
    for lang, text in values.get("contact_line_translations", {}).items():
        if len(text) > 200:
            problems[f"contact_line_{lang}"] = _("Høyst %(n)d tegn.", n=200)
    if values["sms_sender"] and not SMS_SENDER_RE.match(values["sms_sender"]):
        problems["sms_sender"] = _("Høyst 11 tegn, bokstaver, tall og mellomrom, minst én bokstav (for eksempel "
                                   "«Halden kom»).")
    if values["default_report_period"] and not _report_period_ok(values["default_report_period"]):
        problems["default_report_period"] = _("Skriv et år fra 2000 til neste år, et kvartal eller en måned, for "
                                              "eksempel 2026, 2026-Q1 eller 2026-03, eller la feltet stå tomt "
                                              "(inneværende år).")
    if values["support_email"] and not EMAIL_RE.match(values["support_email"]):
        problems["support_email"] = _("«%(value)s» er ikke en gyldig e-postadresse.", value=values["support_email"])
    if values.get("org_number") and not valid_org_number(values["org_number"]):
        problems["org_number"] = _("«%(value)s» er ikke et gyldig organisasjonsnummer (ni sifre med riktig "
                                   "kontrollsiffer).", value=values["org_number"])
    if scheme_end_given and not values["scheme_end"]:
        problems["scheme_end"] = _("Skriv dag og måned, for eksempel 31.12 eller 31.07.")
    return problems


def _report_period_ok(text: str) -> bool:
    """A year, quarter or month (2026, 2026-Q1, 2026-03) of a year the reports cover (2000 to next year)."""
    return bool(REPORT_PERIOD_RE.fullmatch(text)) and 2000 <= int(text[:4]) <= today().year + 1


def public_base() -> str:
    """The address links are built on: the deployment's PUBLIC_BASE_URL (behind a proxy), else the host of the
    request, or, in a job, of the request that started it (core.jobs keeps it); "" when none is known."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if base:
        return base
    if has_request_context():
        return request.url_root.rstrip("/")
    return (g.get("public_base_url") or "").rstrip("/") if has_app_context() else ""


def public_url(path: str) -> str:
    """An address for a message (see `public_base`)."""
    return public_base() + path


def catalogue_changed(municipality_id: int | None) -> None:
    """What the municipality's public catalogue shows has changed (an offer, a partner, a zone): its version moves
    on in the caller's transaction, so no node serves a catalogue page rendered before it (partners.catalogue_cache).
    Each service that writes an offer, a partner or a zone calls it; the database moves the number, so two
    transactions never give the same version to different data."""
    if municipality_id is None:
        return
    db.session.execute(sa.update(Municipality).where(Municipality.id == municipality_id).values(
        catalogue_version=Municipality.catalogue_version + 1).execution_options(synchronize_session=False))
    loaded = db.session.identity_map.get(identity_key(Municipality, municipality_id))
    if loaded is not None:
        db.session.expire(loaded, ["catalogue_version"])  # read again when next asked

