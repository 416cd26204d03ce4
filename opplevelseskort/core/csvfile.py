"""One reader for every CSV a municipality uploads (households, zones, indicators).

Each import describes its row with a pydantic model; `read_table` decodes the file (UTF-8 with or without BOM,
`;` or `,` as the first line shows), finds each field's column by its name or an alias, validates every row and
reports problems by line and column, in the reader's language, with the values a column allows. File-level
problems (not UTF-8, no header, a missing column, a field beyond the size limit) raise ImportFailed at once; row
problems are collected so that the import can add its own (an unknown zone, a duplicate) and refuse all together.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ImportFailed
from .validation import field_message

FIELD_LIMIT = 100_000  # characters in one cell; a longer quoted field is a broken file, not data
MAX_ROWS = 1_000_000  # a whole county's households is a few hundred thousand rows
M = TypeVar("M", bound=BaseModel)


class Row(BaseModel):
    """Base of a CSV row model: unknown columns are the reader's business, values are stripped text."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


def decode(data: bytes | str) -> str:
    """The file as text: UTF-8, with or without BOM; anything else is named with the line it breaks on."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(b"\n") + 1
            raise ImportFailed([_("Linje %(line)d: filen er ikke UTF-8-kodet tekst (lagret som Latin-1/Windows-1252?). "
                                  "Lagre den som UTF-8 og prøv igjen.", line=line)]) from None
    return data.lstrip("\ufeff")


def raw_rows(data: bytes | str) -> list[list[str]]:
    """Every row of the file as text cells (`;` or `,` as the first line shows)."""
    text = decode(data)
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[list[str]] = []
    previous = csv.field_size_limit(FIELD_LIMIT)
    try:
        for row in reader:
            if len(rows) > MAX_ROWS:
                raise ImportFailed([_("Filen har mer enn %(max)s rader; del den opp.", max=f"{MAX_ROWS:,}".replace(",", " "))])
            rows.append(row)
    except csv.Error as exc:
        raise ImportFailed([_("Linje %(line)d: filen kan ikke leses som CSV (%(detail)s). Et felt kan være lengre "
                              "enn %(limit)d tegn eller ha et anførselstegn som ikke er lukket.",
                              line=reader.line_num, detail=str(exc), limit=FIELD_LIMIT)]) from None
    finally:
        csv.field_size_limit(previous)
    return rows


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


def read_table(data: bytes | str, model: type[M], *, aliases: dict[str, tuple[str, ...]] | None = None,
               exact: bool = False, mapping: dict[str, str] | None = None,
               required_columns: tuple[str, ...] | None = None) -> Table[M]:
    """Read and validate every row of a CSV against `model`.

    The header names the columns: a field is found by its name, one of its `aliases`, or the column `mapping`
    names for it (case-insensitive). `exact` asks for the model's fields as the header, in order, and for every row
    to have that many cells (a template's file). Blank lines are skipped; an empty cell is a missing value.
    `required_columns` (default: the model's required fields) must be in the header even where a cell may be empty.
    """
    table = raw_rows(data)
    fields = list(model.model_fields)
    required = [f for f, info in model.model_fields.items() if info.is_required()]
    if not table or not any(c.strip() for c in table[0]):
        raise ImportFailed([_("Filen er tom.")])
    found = [h.strip() for h in table[0]]
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
    out: Table[M] = Table(columns={n: found[i] for n, i in where_is.items()})
    width = len(found)
    for line, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        out.lines += 1
        if exact and len(cells) != width:
            out.errors.append(_("Linje %(line)d: forventet %(want)d kolonner, fant %(got)d.", line=line, want=width,
                                got=len(cells)))
            continue
        if any(c.strip() for c in cells[width:]):
            out.errors.append(_("Linje %(line)d: for mange kolonner (overskriften har %(want)d).", line=line,
                                want=width))
            continue
        values = {name: cells[i].strip() for name, i in where_is.items() if i < len(cells) and cells[i].strip()}
        try:
            out.rows.append((line, model.model_validate(values)))
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                name = str(err["loc"][0]) if err["loc"] else ""
                column = out.columns.get(name, name)
                value = values.get(name)
                _where, text = field_message(err, column)
                shown = _(" (fant «%(value)s»)", value=value[:60]) if value and err["type"] != "value_error" else ""
                out.errors.append(_("Linje %(line)d: %(problem)s", line=line, problem=text + shown))
    return out
