"""Request hygiene for every page and endpoint: what no view should have to think about.

- Integer URL parts are database integers: beyond 2^31 - 1 they cannot name a row, so they are a 404.
- NUL bytes (which PostgreSQL refuses in text) in the path, query, form or JSON body are a 400.
- JSON nested deeper than any of our bodies is a 400 before the parser can recurse into a 500.
- A DomainError that reaches the edge becomes its status with its translated message (HTML or JSON).
- A database that cannot be reached is a 503 (JSON on the API), never a stack trace.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from ..extensions import db, login_manager
from .clock import today
from .errors import DomainError, ImportFailed

log = logging.getLogger(__name__)

MAX_DB_INT = 2**31 - 1
MAX_JSON_DEPTH = 32
MAX_JSON_BYTES = 1024 * 1024
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(rb"[^\[\]{}]")


class DbIntConverter(IntegerConverter):
    """`<int:...>` that only matches 0..2^31-1 (PostgreSQL integer), so huge ids are a plain 404."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=MAX_DB_INT if max is None else max,
                         signed=signed)


MIN_YEAR, MAX_YEAR = 2000, 2100


def year_arg(name: str = "year", default: int | None = None) -> int:
    """A year from the query string, within the years this service can hold data for (else a clear 400)."""

    raw = request.args.get(name)
    if raw in (None, ""):
        return default or today().year
    if not raw.isdigit() or not MIN_YEAR <= int(raw) <= MAX_YEAR:
        raise BadRequest(_("Året må være et tall fra %(min)d til %(max)d.", min=MIN_YEAR, max=MAX_YEAR))
    return int(raw)


def json_depth(data: bytes) -> int:
    """How deeply a JSON document nests (strings skipped), without parsing it."""
    skeleton = _BRACKETS.sub(b"", _JSON_STRING.sub(b"", data))
    steps = (1 if c in b"[{" else -1 for c in skeleton)
    return max(itertools.accumulate(steps, initial=0))


MAX_UPLOAD_JSON_DEPTH = 64  # GeoJSON and JSON-stat nest a handful of levels; far deeper is a hostile file


def load_json_upload(data: bytes | str):
    """An uploaded JSON document (GeoJSON, JSON-stat), refused by name when it is not JSON or nests beyond
    MAX_UPLOAD_JSON_DEPTH levels (Python's parser would otherwise run out of stack: a 500)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if json_depth(raw) > MAX_UPLOAD_JSON_DEPTH:
        raise ImportFailed([_("Filen nøster JSON dypere enn %(n)d nivåer; det gjør ingen GeoJSON- eller "
                              "JSON-stat-fil.", n=MAX_UPLOAD_JSON_DEPTH)])
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ImportFailed([_("Filen er ikke gyldig JSON: %(detail)s", detail=str(exc)[:200])]) from None


def _has_nul(values) -> bool:
    return any("\x00" in k or any("\x00" in v for v in vs) for k, vs in values.lists())


# Extracted for translation (lazy: read in the request's language when an error is answered).
_STATUS_TEXT = {
    400: ("bad_request", _l("Ugyldig forespørsel.")),
    401: ("unauthorized", _l("Mangler eller ugyldig API-nøkkel.")),
    403: ("forbidden", _l("Du har ikke tilgang til dette.")),
    404: ("not_found", _l("Fant ikke ressursen.")),
    405: ("method_not_allowed", _l("Metoden er ikke tillatt her.")),
    409: ("conflict", _l("Konflikt.")),
    413: ("payload_too_large", _l("Forespørselen er større enn det som tas imot.")),
    422: ("unprocessable", _l("Kan ikke behandle forespørselen.")),
    429: ("rate_limited", _l("For mange forespørsler. Prøv igjen senere.")),
    500: ("server_error", _l("Noe gikk galt hos oss.")),
    503: ("unavailable", _l("Tjenesten er midlertidig utilgjengelig. Prøv igjen om litt.")),
}


def json_error(status: int, code: str | None = None, message: str | None = None, **extra):
    default_code, default_message = _STATUS_TEXT.get(status, ("error", _l("Feil.")))
    resp = jsonify({"error": code or default_code, "message": message or str(default_message), **extra})
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return resp


def wants_json() -> bool:
    """Errors on the API answer JSON; everywhere else a page."""
    return request.blueprint == "api" or request.path.startswith("/api/")


def _error(status: int, code: str, message: str):
    if wants_json():
        return json_error(status, code, message)
    template = "errors/503.html" if status == 503 else "errors/domain.html"
    return render_template(template, message=message, status=status), status


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = DbIntConverter

    @app.before_request
    def _refuse_hostile_input():
        if "\x00" in request.path or _has_nul(request.args):
            raise BadRequest(_("Ugyldig tegn (NUL) i adressen."))
        if request.method in ("POST", "PUT", "PATCH"):
            if request.is_json:
                if (request.content_length or 0) > MAX_JSON_BYTES:
                    raise RequestEntityTooLarge()
                raw = request.get_data(cache=True)
                if b"\x00" in raw or b"\\u0000" in raw:
                    raise BadRequest(_("Ugyldig tegn (NUL) i forespørselen."))
                if json_depth(raw) > MAX_JSON_DEPTH:
                    raise BadRequest(_("JSON-dokumentet er nøstet for dypt."))
            elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") \
                    and _has_nul(request.form):
                raise BadRequest(_("Ugyldig tegn (NUL) i skjemaet."))

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        db.session.rollback()
        status = exc.status if exc.status in (403, 404, 409, 422) else 422
        return _error(status, exc.code, exc.message)

    @app.errorhandler(sa.exc.DataError)
    def _value_out_of_range(exc):
        # Last line of defence: a value the database cannot hold (a number beyond its integer, a date beyond
        # its calendar) that no form caught. The statement's parameters are not logged (hide_parameters).
        log.warning("database refused a value: %s", type(getattr(exc, "orig", exc)).__name__)

        db.session.rollback()
        return _error(400, "value_invalid", _("En av verdiene er utenfor det som kan lagres. Sjekk tallene og datoene."))

    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    def _database_unavailable(exc):
        log.error("database unavailable: %s", type(getattr(exc, "orig", exc)).__name__)


        # The answer must not ask the database again (the locale and the page look at the current user).
        g._login_user = login_manager.anonymous_user()
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection is gone; nothing to roll back
            pass
        return _error(503, "unavailable", _("Tjenesten er midlertidig utilgjengelig. Prøv igjen om litt."))


def form_page(template: str, form=None, *, errors=None, **context):
    """A page with a form: 422 when the form's fields or the service refused something (listed in `errors`),
    200 otherwise. One place for the status rule every form view shares."""
    refused = bool(errors) or bool(form is not None and form.errors)
    if errors is not None:
        context["errors"] = errors
    return render_template(template, form=form, **context), (422 if refused else 200)


def safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target

