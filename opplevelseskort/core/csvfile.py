"""One reader for every CSV a municipality uploads (households, zones, indicators).

Each import describes its row with a pydantic model; `TableReader` streams the file (bytes, text or a binary
stream such as a stored upload read a chunk at a time: memory does not grow with the file), decodes it (UTF-8
with or without BOM, `;` or `,` as the first line shows), finds each field's column by its name or an alias,
validates every row and reports problems by line and column, in the reader's language, with the values a column
allows. File-level problems (not UTF-8, no header, a missing column, a field or line beyond the size limit, too many
rows) raise ImportFailed at once; row problems are collected (the first MAX_ERRORS, and how many more) so that the
import can add its own (an unknown zone, a duplicate) and refuse all together. `read_table` is the reader kept
whole, for files that are small by nature (zones).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Generic, TypeVar

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ImportFailed
from .validation import field_message

FIELD_LIMIT = 100_000  # characters in one cell; a longer quoted field is a broken file, not data
MAX_ROWS = 1_000_000  # a whole county's households is a few hundred thousand rows
LINE_LIMIT = 4 * 1024 * 1024  # bytes in one physical line: far beyond a row of fields at FIELD_LIMIT
MAX_ERRORS = 1000  # problems kept by line; beyond that, how many more
Source = bytes | str | BinaryIO
M = TypeVar("M", bound=BaseModel)


class Row(BaseModel):
    """Base of a CSV row model: unknown columns are the reader's business, values are stripped text."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


def _not_utf8(line: int) -> ImportFailed:
    return ImportFailed([_("Linje %(line)d: filen er ikke UTF-8-kodet tekst (lagret som Latin-1/Windows-1252?). "
                           "Lagre den som UTF-8 og prøv igjen.", line=line)])


def decode(data: bytes | str) -> str:
    """The file as text: UTF-8, with or without BOM; anything else is named with the line it breaks on."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _not_utf8(data[:exc.start].count(b"\n") + 1) from None
    return data.lstrip("\ufeff")


def _latin1(raw: bytes) -> str:
    """Windows-1252 (Latin-1 with the printable characters Excel writes in 0x80-0x9f), else plain Latin-1."""
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class _Transcoded:
    """A stream read a line at a time, given back as UTF-8: lines are UTF-8 until one is not, and from then on the
    file is read as Latin-1 (what it then is: a Latin-1 line before it held only ASCII, which reads alike)."""

    def __init__(self, stream):
        self.stream, self.latin1 = stream, False

    def readline(self, limit: int = -1) -> bytes:
        raw = self.stream.readline(limit)
        if not self.latin1:
            try:
                raw.decode("utf-8")
                return raw
            except UnicodeDecodeError:
                self.latin1 = True
        return _latin1(raw).encode("utf-8")


def utf8_or_latin1(source: Source) -> Source:
    """A file as SSB's statistics bank offers it, in UTF-8 or in Latin-1 (ISO-8859-1/Windows-1252), read alike: the
    same file in either encoding gives the same text. Only for files that come from SSB (indicators, change
    lists), where those are the two encodings; other uploads stay UTF-8 only and say so."""
    if isinstance(source, str):
        return source
    if isinstance(source, bytes):
        try:
            source.decode("utf-8")
            return source
        except UnicodeDecodeError:
            return _latin1(source)
    return _Transcoded(source)


def _text_lines(source: Source) -> Iterator[str]:
    """The file's physical lines as text, one at a time (a line longer than LINE_LIMIT is a broken file)."""
    if isinstance(source, str):
        yield from io.StringIO(source.lstrip("\ufeff"), newline="")
        return
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    number = 0
    while raw := stream.readline(LINE_LIMIT + 1):
        number += 1
        if len(raw) > LINE_LIMIT:
            raise ImportFailed([_("Linje %(line)d er lengre enn %(limit)d MB; filen kan ikke leses som CSV.",
                                  line=number, limit=LINE_LIMIT // (1024 * 1024))])
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _not_utf8(number) from None
        yield text.lstrip("\ufeff") if number == 1 else text


def iter_raw_rows(source: Source) -> Iterator[tuple[int, list[str]]]:
    """Each row of the file as (line number, text cells), `;` or `,` as the first line shows; streamed."""
    lines = _text_lines(source)
    first = next(lines, None)
    if first is None:
        return
    delimiter = ";" if first.count(";") >= first.count(",") else ","

    def all_lines():
        yield first
        yield from lines

    reader = csv.reader(all_lines(), delimiter=delimiter)
    previous = csv.field_size_limit(FIELD_LIMIT)
    rows = 0
    try:
        for row in reader:
            rows += 1
            if rows > MAX_ROWS + 1:  # + the header
                raise ImportFailed([_("Filen har mer enn %(max)s rader; del den opp.",
                                      max=f"{MAX_ROWS:,}".replace(",", " "))])
            yield reader.line_num, row
    except csv.Error as exc:
        raise ImportFailed([_("Linje %(line)d: filen kan ikke leses som CSV (%(detail)s). Et felt kan være lengre "
                              "enn %(limit)d tegn eller ha et anførselstegn som ikke er lukket.",
                              line=reader.line_num, detail=str(exc), limit=FIELD_LIMIT)]) from None
    finally:
        csv.field_size_limit(previous)


def raw_rows(data: Source) -> list[list[str]]:
    """Every row of the file as text cells (a small file read whole)."""
    return [row for _line, row in iter_raw_rows(data)]


@dataclass
class Table(Generic[M]):
    rows: list[tuple[int, M]] = field(default_factory=list)  # (line number, the row's model)
    errors: list[str] = field(default_factory=list)  # by line, in the reader's language
    lines: int = 0  # non-blank data lines read
    columns: dict[str, str] = field(default_factory=dict)  # field -> the column's name in the file

    def fail_if_errors(self, more: Iterable[str] = ()) -> None:
        """All or nothing: any problem of the file or the import's own refuses the whole import."""
        errors = [*self.errors, *more]
        if errors:
            raise ImportFailed(errors)


class TableReader(Generic[M]):
    """Rows of a CSV validated against `model`, streamed: `for line, row in reader` (then `fail_if_errors`).

    The header names the columns: a field is found by its name, one of its `aliases`, or the column `mapping`
    names for it (case-insensitive). `exact` asks for the model's fields as the header, in order, and for every row
    to have that many cells (a template's file). Blank lines are skipped; an empty cell is a missing value.
    `required_columns` (default: the model's required fields) must be in the header even where a cell may be empty.
    The header is read (and a missing column refused) when the reader is made.
    """

    def __init__(self, source: Source, model: type[M], *, aliases: dict[str, tuple[str, ...]] | None = None,
                 exact: bool = False, mapping: dict[str, str] | None = None,
                 required_columns: tuple[str, ...] | None = None, lines_added: int = 0):
        self.model = model
        self.lines_added = lines_added  # lines the caller put before the file's own (a header it lacked)
        self.exact = exact
        self.errors: list[str] = []  # the first MAX_ERRORS problems, by line, in the reader's language
        self.error_count = 0
        self.lines = 0  # non-blank data lines read so far
        self._rows = iter_raw_rows(source)
        fields = list(model.model_fields)
        required = [f for f, info in model.model_fields.items() if info.is_required()]
        header = next(self._rows, None)
        if header is None or not any(c.strip() for c in header[1]):
            raise ImportFailed([_("Filen er tom.")])
        found = [h.strip() for h in header[1]]
        lowered = [h.lower() for h in found]
        if exact and lowered != fields:
            raise ImportFailed([_("Linje 1: overskriften må være %(cols)s, ikke «%(found)s».", cols=";".join(fields),
                                  found=";".join(found))])
        where_is: dict[str, int] = {}
        for name in fields:
            wanted = [mapping[name].lower()] if mapping and mapping.get(name) else list((aliases or {}).get(name, (name,)))
            for alias in wanted:
                if alias in lowered:
                    where_is[name] = lowered.index(alias)
                    break
        missing = [n for n in (required_columns or required) if n not in where_is]
        if missing:
            raise ImportFailed([_("Linje 1: fant kolonnene %(found)s, men mangler %(missing)s. Forventet er %(cols)s.",
                                  found="; ".join(found) or "–", missing=", ".join(missing), cols=";".join(fields))])
        self.header = found  # the header's cells as written
        self.columns = {n: found[i] for n, i in where_is.items()}  # field -> the column's name in the file
        self._where_is = where_is
        self._width = len(found)

    def error(self, message: str) -> None:
        """Count a problem; the first MAX_ERRORS are kept to be shown."""
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)

    def __iter__(self) -> Iterator[tuple[int, M]]:
        width, where_is = self._width, self._where_is
        for line, cells in self._rows:
            if not any(c.strip() for c in cells):
                continue
            line -= self.lines_added  # noqa: PLW2901 - the file's own line number
            self.lines += 1
            if self.exact and len(cells) != width:
                self.error(_("Linje %(line)d: forventet %(want)d kolonner, fant %(got)d.", line=line, want=width,
                             got=len(cells)))
                continue
            if any(c.strip() for c in cells[width:]):
                self.error(_("Linje %(line)d: for mange kolonner (overskriften har %(want)d).", line=line,
                             want=width))
                continue
            values = {name: cells[i].strip() for name, i in where_is.items() if i < len(cells) and cells[i].strip()}
            try:
                row = self.model.model_validate(values)
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    name = str(err["loc"][0]) if err["loc"] else ""
                    column = self.columns.get(name, name)
                    value = values.get(name)
                    _where, text = field_message(err, column)
                    shown = _(" (fant «%(value)s»)", value=value[:60]) if value and err["type"] != "value_error" else ""
                    self.error(_("Linje %(line)d: %(problem)s", line=line, problem=text + shown))
                continue
            yield line, row

    def all_errors(self, more: Iterable[str] = ()) -> list[str]:
        """The kept problems and `more`, with a last line saying how many were not kept."""
        errors = [*self.errors, *more]
        hidden = self.error_count - len(self.errors)
        if hidden > 0:
            errors.append(_("… og %(n)d problemer til i filen.", n=hidden))
        return errors

    def fail_if_errors(self, more: Iterable[str] = ()) -> None:
        """All or nothing: any problem of the file or the import's own refuses the whole import."""
        errors = self.all_errors(more)
        if errors:
            raise ImportFailed(errors)


def read_table(data: Source, model: type[M], *, aliases: dict[str, tuple[str, ...]] | None = None,
               exact: bool = False, mapping: dict[str, str] | None = None,
               required_columns: tuple[str, ...] | None = None) -> Table[M]:
    """Every row of a (small) CSV validated against `model`, kept whole; see TableReader."""
    reader = TableReader(data, model, aliases=aliases, exact=exact, mapping=mapping,
                         required_columns=required_columns)
    rows = list(reader)
    return Table(rows=rows, errors=reader.all_errors(), lines=reader.lines, columns=reader.columns)


# Numbers as SSB's statistics files write them: a decimal comma, spaces, and symbols for missing values.
STATUS_SYMBOLS = ("-", "..", "...", ":", ".")


def number_or_symbol(text, what: str, where: str, errors: list[str]) -> tuple[float | None, str | None]:
    """A figure, or (None, symbol) for SSB's missing-value symbols."""
    if text is None:
        return None, None
    if isinstance(text, bool):
        errors.append(_("%(where)s: %(what)s «%(value)s» er ikke et tall.", where=where, what=what, value=text))
        return None, None
    if isinstance(text, (int, float)):
        return _finite(float(text), text, what, where, errors), None
    t = str(text).strip()
    if t == "":
        return None, None
    if t in STATUS_SYMBOLS:
        return None, t
    try:
        return _finite(float(t.replace("\u00a0", "").replace(" ", "").replace(",", ".")), t, what, where,
                       errors), None
    except ValueError:
        errors.append(_("%(where)s: %(what)s «%(value)s» er ikke et tall eller et av SSBs symboler (%(symbols)s).",
                        where=where, what=what, value=t, symbols=" ".join(STATUS_SYMBOLS)))
        return None, None


LARGEST = 1e12  # no figure of a zone is larger: a value beyond it is a broken file, not a statistic


def _finite(value: float, text, what: str, where: str, errors: list[str]) -> float | None:
    """A number a page can show and a database can keep: not NaN, not infinite, not beyond LARGEST."""
    if math.isfinite(value) and abs(value) <= LARGEST:
        return value
    errors.append(_("%(where)s: %(what)s «%(value)s» er ikke et endelig tall innenfor ±10¹².", where=where, what=what,
                    value=text))
    return None

