"""The periods figures are published for: a calendar year, its quarters and its months (a range of dates only
when it is one of them), from 2000 to next year."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask_babel import gettext as _

from ..core.clock import today
from ..core.errors import DomainError
from ..core.models import Municipality
from .publication import Period

FIRST_REPORT_YEAR = 2000  # no scheme's data is older; the last year is next year


def _out_of_range(text: str) -> DomainError:
    return DomainError("period_out_of_range", _("Perioden «%(value)s» ligger utenfor årene rapportene dekker: "
                                                "%(first)d–%(last)d.", value=text, first=FIRST_REPORT_YEAR,
                                                last=today().year + 1))


def parse_period(text: str) -> Period:
    """`2026`, `2026-Q1` or `2026-03`, within the years reports cover (FIRST_REPORT_YEAR to next year): a far date
    is named with the allowed range, never an overflow.

    Only whole calendar periods are published, because only they are protected together: a year, its quarters and
    its months are one system (`build_publications`). Any other range of dates would let two ranges a day apart
    give that day's few children exactly, so a range of dates is accepted only when it is one of those periods
    (`2026-01-01..2026-03-31` is `2026-Q1`) and otherwise refused with the periods to use instead.
    """
    t = (text or "").strip()
    years = [int(y) for y in re.findall(r"(?<!\d)(\d{4})(?=-|\.|$)", t)]
    if years and re.fullmatch(r"\d{4}(-Q[1-4]|-\d{2}|-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2})?", t, re.I) \
            and not all(FIRST_REPORT_YEAR <= y <= today().year + 1 for y in years):
        raise _out_of_range(t)
    try:
        period = _parse_period(t)
    except ValueError:
        raise DomainError("period_invalid", _("Ugyldig periode «%(value)s». Bruk et år (2026), et kvartal (2026-Q1) "
                                              "eller en måned (2026-03).", value=text)) from None
    whole = whole_period(period)
    if whole is None:
        raise DomainError("period_not_whole", _(
            "Perioden «%(value)s» er ikke et helt år, kvartal eller en hel måned. Bare hele perioder publiseres, "
            "fordi de vernes sammen: to datoperioder som skiller seg med én dag ville vise hvor mange barn som kom "
            "den dagen. Bruk for eksempel %(year)d, %(year)d-Q1 eller %(year)d-03.", value=text,
            year=period.start.year))
    return whole


def default_period(municipality: Municipality) -> str:
    """The municipality's default report period, or this year when it names none the reports cover (a setting
    saved before it was checked must not make the report page refuse everyone)."""
    try:
        return parse_period(municipality.default_report_period).label if municipality.default_report_period \
            else str(today().year)
    except DomainError:
        return str(today().year)


def whole_period(period: Period) -> Period | None:
    """The year, quarter or month a period is (under its own label), or None for any other range of dates."""
    y = period.start.year
    candidates = [f"{y}", *(f"{y}-Q{q}" for q in range(1, 5)), *(f"{y}-{m:02d}" for m in range(1, 13))]
    for text in candidates:
        whole = _parse_period(text)
        if (whole.start, whole.end) == (period.start, period.end):
            return whole
    return None


def _parse_period(t: str) -> Period:
    if m := re.fullmatch(r"(\d{4})", t):
        y = int(m.group(1))
        return Period(t, date(y, 1, 1), date(y + 1, 1, 1))
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", t, re.I):
        y, q = int(m.group(1)), int(m.group(2))
        start = date(y, 3 * q - 2, 1)
        end = date(y + 1, 1, 1) if q == 4 else date(y, 3 * q + 1, 1)
        return Period(t.upper(), start, end)
    if m := re.fullmatch(r"(\d{4})-(\d{2})", t):
        y, mo = int(m.group(1)), int(m.group(2))
        return Period(t, date(y, mo, 1), date(y + (mo == 12), mo % 12 + 1, 1))
    if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", t):
        a, b = date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))
        if b < a:
            raise ValueError(t)
        return Period(t, a, b + timedelta(days=1))
    raise ValueError(t)


def is_calendar_year(period: Period) -> bool:
    return period.start == date(period.start.year, 1, 1) and period.end == date(period.start.year + 1, 1, 1)


def containing_year(period: Period) -> Period:
    """The calendar year a period lies in (every published period lies in one: see `parse_period`)."""
    y = period.start.year
    return Period(str(y), date(y, 1, 1), date(y + 1, 1, 1))


def quarters_of(year: Period) -> list[Period]:
    return [_parse_period(f"{year.label}-Q{q}") for q in range(1, 5)]


def months_of(year: Period) -> list[Period]:
    return [_parse_period(f"{year.label}-{m:02d}") for m in range(1, 13)]

