"""Opening hours, of a lending location and of an offer: one typed structure, one parser, one formatter.

Stored as JSON {"weekly": [{"day": 0, "opens": "15:00", "closes": "19:00"}],
"exceptions": [{"date": "2026-12-24", "closed": true}, {"date": "2026-12-27", "opens": "12:00", "closes": "15:00"}]}
(day 0 is Monday). Older rows held {"1": "15-19"} dicts or free text lines; `from_json` reads those too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import gettext as _

from .errors import DomainError

DAY_WORDS = {  # Norwegian (bokmål and nynorsk) and English day names and their usual abbreviations
    0: ("mandag", "måndag", "man", "må", "monday", "mon"), 1: ("tirsdag", "tysdag", "tir", "ty", "tuesday", "tue"),
    2: ("onsdag", "ons", "wednesday", "wed"), 3: ("torsdag", "tor", "thursday", "thu"),
    4: ("fredag", "fre", "friday", "fri"), 5: ("lørdag", "laurdag", "lør", "lau", "saturday", "sat"),
    6: ("søndag", "sundag", "søn", "sun", "sunday"),
}
_WORD_DAY = {w: d for d, words in DAY_WORDS.items() for w in words}
_TIME = r"(\d{1,2})(?:[:.](\d{2}))?"
_SPAN = re.compile(rf"^{_TIME}\s*[-–—]\s*{_TIME}$")
CLOSED_WORDS = {"stengt", "stengd", "closed", "lukket"}


@dataclass(frozen=True)
class Opening:
    day: int  # 0 = Monday
    opens: time
    closes: time


@dataclass(frozen=True)
class DayException:
    day: date
    opens: time | None = None  # None: closed all day
    closes: time | None = None


@dataclass
class OpeningHours:
    weekly: list[Opening] = field(default_factory=list)
    exceptions: list[DayException] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.weekly or self.exceptions)

    # --- storage -----------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {"weekly": [{"day": o.day, "opens": o.opens.strftime("%H:%M"), "closes": o.closes.strftime("%H:%M")}
                           for o in self.weekly],
                "exceptions": [{"date": e.day.isoformat(), "closed": True} if e.opens is None else
                               {"date": e.day.isoformat(), "opens": e.opens.strftime("%H:%M"),
                                "closes": e.closes.strftime("%H:%M")} for e in self.exceptions]}

    @classmethod
    def from_json(cls, data) -> OpeningHours:
        """Read the stored JSON, including the two older shapes; what cannot be read is left out."""
        if not data:
            return cls()
        weekly, exceptions = data.get("weekly") or [], data.get("exceptions") or []
        out = cls()
        if isinstance(weekly, dict):  # {"0": "15-19"}: weekday number -> span
            weekly = [f"{DAY_WORDS[int(k)][0]} {v}" for k, v in sorted(weekly.items())
                      if str(k).isdigit() and int(k) in DAY_WORDS]
        for item in weekly:
            if isinstance(item, dict):
                out.weekly.append(Opening(int(item["day"]), time.fromisoformat(item["opens"]),
                                          time.fromisoformat(item["closes"])))
            else:
                try:
                    out.weekly.extend(_weekly_line(str(item)))
                except ValueError:
                    continue
        if isinstance(exceptions, dict):
            exceptions = [f"{k} {v}" for k, v in sorted(exceptions.items())]
        for item in exceptions:
            if isinstance(item, dict):
                d = date.fromisoformat(item["date"])
                out.exceptions.append(DayException(d) if item.get("closed") else DayException(
                    d, time.fromisoformat(item["opens"]), time.fromisoformat(item["closes"])))
            else:
                try:
                    out.exceptions.append(_exception_line(str(item)))
                except ValueError:
                    continue
        out.weekly.sort(key=lambda o: (o.day, o.opens))
        out.exceptions.sort(key=lambda e: e.day)
        return out

    # --- editing -----------------------------------------------------------------------------
    @classmethod
    def parse(cls, weekly_text: str, exceptions_text: str = "") -> OpeningHours:
        """Lines as staff type them: «mandag 15–19», «man–fre 15:00–19:30», «2026-12-24 stengt»,
        «2026-12-27 12–15». Every bad line is named in one error."""
        out, errors = cls(), []
        for n, line in _lines(weekly_text):
            try:
                out.weekly.extend(_weekly_line(line))
            except ValueError:
                errors.append(_("Åpningstider linje %(n)d «%(line)s»: skriv en dag og et tidsrom, for "
                                "eksempel «mandag 15–19» eller «man–fre 15:00–19:30».", n=n, line=line))
        for n, line in _lines(exceptions_text):
            try:
                out.exceptions.append(_exception_line(line))
            except ValueError:
                errors.append(_("Unntak linje %(n)d «%(line)s»: skriv en dato og «stengt» eller et tidsrom, "
                                "for eksempel «2026-12-24 stengt».", n=n, line=line))
        if errors:
            raise DomainError("opening_hours_invalid", " ".join(errors))
        out.weekly.sort(key=lambda o: (o.day, o.opens))
        out.exceptions.sort(key=lambda e: e.day)
        return out

    @classmethod
    def parse_text(cls, text: str) -> OpeningHours:
        """One text box for both: a line that starts with a date is an exception («2026-12-24 stengt»), any other
        line a weekly opening («tirsdag 17–19»)."""
        weekly, exceptions = [], []
        for _n, line in _lines(text):
            (exceptions if re.match(r"^\d{4}-\d{2}-\d{2}\b", line) else weekly).append(line)
        return cls.parse("\n".join(weekly), "\n".join(exceptions))

    def as_one_text(self) -> str:
        """The one text box `parse_text` reads back."""
        return "\n".join(filter(None, self.as_text()))

    def as_text(self) -> tuple[str, str]:
        """The two text boxes of the location form, in the words `parse` reads back."""
        weekly = "\n".join(f"{DAY_WORDS[o.day][0]} {o.opens:%H:%M}–{o.closes:%H:%M}" for o in self.weekly)
        exceptions = "\n".join(f"{e.day.isoformat()} stengt" if e.opens is None else
                               f"{e.day.isoformat()} {e.opens:%H:%M}–{e.closes:%H:%M}" for e in self.exceptions)
        return weekly, exceptions

    # --- showing -------------------------------------------------------------------------------
    def lines(self, today: date | None = None) -> list[str]:
        """One line per opening in the reader's language: «mandag 15:00–19:00», «24. desember: stengt».
        Exceptions already past are left out."""
        out = [f"{_weekday(o.day)} {o.opens:%H:%M}–{o.closes:%H:%M}" for o in self.weekly]
        for e in self.exceptions:
            if today is not None and e.day < today:
                continue
            when = format_date(e.day, "long")
            out.append(_("%(day)s: stengt", day=when) if e.opens is None else
                       f"{when}: {e.opens:%H:%M}–{e.closes:%H:%M}")
        return out


def _lines(text: str | None):
    """(line number, stripped line) for every non-blank line."""
    for n, line in enumerate((text or "").splitlines(), 1):
        if line.strip():
            yield n, line.strip()


def _weekday(day: int) -> str:
    return format_date(date(2024, 1, 1 + day), "EEEE")  # 2024-01-01 was a Monday


def _clock(hour: str, minute: str | None) -> time:
    return time(int(hour), int(minute or 0))  # ValueError for 25:00 or 15:61


def _span(text: str) -> tuple[time, time]:
    m = _SPAN.match(text.strip())
    if not m:
        raise ValueError(text)
    opens, closes = _clock(m.group(1), m.group(2)), _clock(m.group(3), m.group(4))
    if closes <= opens:
        raise ValueError(text)
    return opens, closes


def _weekly_line(line: str) -> list[Opening]:
    words = line.strip().lower().replace(",", " ").split(None, 1)
    if len(words) != 2:
        raise ValueError(line)
    days_text, span = words
    days_text = days_text.rstrip(":")
    if m := re.fullmatch(r"([a-zæøå]+)\.?[-–—]([a-zæøå]+)\.?", days_text):
        first, last = _WORD_DAY.get(m.group(1)), _WORD_DAY.get(m.group(2))
        if first is None or last is None or last < first:
            raise ValueError(line)
        days = list(range(first, last + 1))
    elif days_text.rstrip(".") in _WORD_DAY:
        days = [_WORD_DAY[days_text.rstrip(".")]]
    else:
        raise ValueError(line)
    opens, closes = _span(span)
    return [Opening(d, opens, closes) for d in days]


def _exception_line(line: str) -> DayException:
    parts = line.strip().split(None, 1)
    if len(parts) != 2:
        raise ValueError(line)
    day = date.fromisoformat(parts[0].rstrip(":"))
    rest = parts[1].strip().lower()
    if rest in CLOSED_WORDS:
        return DayException(day)
    opens, closes = _span(rest)
    return DayException(day, opens, closes)


class OpeningHoursType(sa.types.TypeDecorator):
    """A JSON column that reads and writes `OpeningHours`."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, OpeningHours):
            return value.to_json()
        return OpeningHours.from_json(value).to_json()

    def process_result_value(self, value, dialect):
        return OpeningHours.from_json(value)
