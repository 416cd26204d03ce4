"""Living-conditions indicators as SSB and Kartverket publish them: CSV or JSON-stat (PxWeb), one municipality
or a whole county in one file, SSB's status symbols kept as data.

Every row is routed to its municipality by its zone code (a grunnkrets code's first four digits are the
kommunenummer; SSB's `K-`/`G-` prefixes and "code name" labels are understood). Rows of municipalities this
deployment does not serve, or outside `--municipality`, are set aside and counted. SSB's "unknown grunnkrets"
(`NNNN9999`) becomes an "uoppgitt" zone without a boundary. An unknown zone of a served municipality refuses the
whole file unless `skip_unknown` is chosen; then it is skipped and listed. Nothing is written when the import
is refused.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from pydantic import Field, create_model

from ..accounts.models import User
from ..core import audit, csvfile
from ..core.csvfile import STATUS_SYMBOLS, number_or_symbol
from ..core.errors import ImportFailed
from ..core.guards import load_json_upload
from ..core.models import Municipality
from ..extensions import db
from ..zones import services as zone_services
from ..zones.imports import counts_text
from ..zones.models import Zone
from ..zones.services import normalise_code
from .models import ZoneIndicator

UNKNOWN_GRUNNKRETS_SUFFIX = "9999"


UNKNOWN_ZONE_NAME = "Uoppgitt grunnkrets"


FIELDS = ("zone", "indicator", "year", "value", "numerator", "denominator")


MAX_JSONSTAT_CELLS = 2_000_000  # every grunnkrets in Norway × 20 indicators × 10 years is about 3 % of it


ALIASES = {
    "zone": ("zone", "zone_code", "sone", "region", "grunnkrets", "grunnkretsnummer", "kommune", "kode"),
    "indicator": ("indicator", "indikator", "statistikkvariabel", "contentscode", "key", "variabel"),
    "year": ("year", "tid", "år", "aar", "time"),
    "value": ("value", "verdi", "value_"),
    "numerator": ("numerator", "teller"),
    "denominator": ("denominator", "nevner"),
}


REQUIRED = ("zone", "indicator", "year", "value")


@dataclass
class IndicatorImport:
    """What an import did, per municipality: the summary the CLI prints and the page shows."""

    imported: Counter = field(default_factory=Counter)          # municipality number -> values stored
    missing: dict = field(default_factory=dict)                 # number -> Counter(status symbol -> n)
    skipped_unknown: dict = field(default_factory=dict)         # number -> sorted unknown zone codes
    set_aside: Counter = field(default_factory=Counter)         # kommunenummer not imported -> rows
    unknown_zones_created: list = field(default_factory=list)   # "uoppgitt" zones made for NNNN9999

    @property
    def total(self) -> int:
        return sum(self.imported.values())

    def lines(self) -> list[str]:
        out = []
        for number in sorted(self.imported):
            missing = self.missing.get(number) or Counter()
            out.append(_("Kommune %(number)s: %(n)d verdier lagret, %(missing)d av dem mangler (%(symbols)s).",
                         number=number, n=self.imported[number], missing=sum(missing.values()),
                         symbols=", ".join(f"«{s}» {n}" for s, n in sorted(missing.items())) or "–"))
        for number, codes in sorted(self.skipped_unknown.items()):
            out.append(_("Kommune %(number)s: %(n)d rader med ukjente soner hoppet over: %(codes)s.",
                         number=number, n=codes[1], codes=", ".join(codes[0][:20])))
        for number, n in sorted(self.set_aside.items()):
            out.append(_("Kommune %(number)s: %(n)d rader satt til side (kommunen er ikke med i denne "
                         "importen).", number=number, n=n))
        for code in self.unknown_zones_created:
            out.append(_("Sonen %(code)s («uoppgitt grunnkrets», uten grense) er opprettet.", code=code))
        return out


@dataclass
class _Row:
    where: str
    zone: str
    key: str
    year: int
    value: float | None
    status: str | None
    numerator: float | None = None
    denominator: float | None = None
    numerator_status: str | None = None  # SSB's symbol for a missing numerator ("-": nil) beside a value
    denominator_status: str | None = None


def indicator_key(text: str) -> str:
    """A stable key from an indicator id or label: lowercase ASCII letters, digits and _."""
    t = unicodedata.normalize("NFKD", str(text or "").strip().lower())
    t = t.replace("ø", "o").replace("æ", "ae").replace("å", "a")
    t = "".join(c for c in t if not unicodedata.combining(c))
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9_]", "_", t)).strip("_")[:80]








def _year(text, where: str, errors: list[str]) -> int | None:
    t = str(text or "").strip()
    if not re.fullmatch(r"\d{4}", t) or not 1900 <= int(t) <= 2100:
        errors.append(_("%(where)s: «%(year)s» er ikke et årstall (1900–2100).", where=where, year=t))
        return None
    return int(t)


def parse_column_map(text: str | None) -> dict[str, str]:
    """`zone=Region,indicator=statistikkvariabel,year=år,value=verdi` -> {field: header}."""
    out = {}
    for part in (text or "").split(","):
        name, _sep, header = part.partition("=")
        if name.strip():
            if name.strip() not in FIELDS or not header.strip():
                raise ImportFailed([_("Ugyldig kolonnekobling «%(part)s». Bruk felt=kolonne, der felt er et av "
                                      "%(fields)s.", part=part.strip(), fields=", ".join(FIELDS))])
            out[name.strip()] = header.strip()
    return out


class IndicatorRow(csvfile.Row):
    """A line of an indicator file: our own `zone;indicator;year;value[;numerator;denominator]` or SSB's table
    download (region, statistikkvariabel, tid/år, verdi). Values stay text: SSB's symbols (".", "..", ":") say
    why a figure is missing, and `_number` reads them."""

    zone: str
    indicator: str
    year: int = Field(ge=1900, le=2100)
    value: str | None = None
    numerator: str | None = None
    denominator: str | None = None


WIDE_HEADER = re.compile(r"^(?P<name>.*\S)\s+(?P<year>\d{4})$")


class _Replayed:
    """A stream whose first line was read already (to look at the header), given back before the rest."""

    def __init__(self, first: bytes, rest):
        self.first, self.rest = first, rest

    def readline(self, limit: int = -1) -> bytes:
        if self.first:
            line, self.first = self.first, b""
            return line
        return self.rest.readline(limit)


def _header(data) -> tuple[list[str], object]:
    """The file's header cells, and the data to read the whole file from again."""
    if isinstance(data, str | bytes):
        return next(csvfile.iter_raw_rows(data), (0, []))[1], data
    first = data.readline(csvfile.LINE_LIMIT + 1)
    return next(csvfile.iter_raw_rows(first), (0, []))[1], _Replayed(first, data)


def _is_wide(header: list[str], columns: dict[str, str] | None) -> bool:
    """SSB's wide PxWeb table: a region column, then one column per variable and year ("Andel … (%) 2018"), and
    no indicator or year column."""
    if columns:
        return False
    names = {h.strip().lower() for h in header}
    long = any(a in names for a in ALIASES["indicator"]) or any(a in names for a in ALIASES["year"])
    return not long and len(header) > 1 and any(WIDE_HEADER.match(h.strip()) for h in header[1:])


def _wide_rows(data, header: list[str], errors: list[str]) -> list[_Row]:
    """One row per zone, variable and year from SSB's wide layout, read unedited: the indicator and the year come
    from each column's header."""
    lowered = [h.strip().lower() for h in header]
    zone_col = next((i for i, h in enumerate(lowered) if h in ALIASES["zone"]), 0)
    columns = []
    for i, h in enumerate(header):
        if i == zone_col:
            continue
        m = WIDE_HEADER.match(h.strip())
        if m is None:
            errors.append(_("Kolonnen «%(column)s» slutter ikke med et årstall. I SSBs brede tabell heter hver "
                            "kolonne «variabel år», for eksempel «Andel (%%) 2018».", column=h.strip()))
            continue
        key = indicator_key(m["name"])
        if not key:
            errors.append(_("Kolonnen «%(column)s» har ingen variabel foran årstallet.", column=h.strip()))
            continue
        columns.append((i, key, int(m["year"])))
    # The file's own columns as a row model made for it: the zone, and one text field per variable and year.
    model = create_model("WideRow", __base__=csvfile.Row, zone=(str | None, None),
                         **{f"c{i}": (str | None, None) for i, _key, _year in columns})
    mapping = {"zone": header[zone_col].strip(), **{f"c{i}": header[i].strip() for i, _key, _year in columns}}
    table = csvfile.TableReader(data, model, mapping=mapping, required_columns=("zone",))
    rows = []
    for line, raw in table:
        where = _("Linje %(line)d", line=line)
        zone = normalise_code(raw.zone or "")
        if not zone:
            errors.append(_("%(where)s: sonen mangler.", where=where))
            continue
        for i, key, year in columns:
            value, status = number_or_symbol(getattr(raw, f"c{i}") or "", _("verdien"), where, errors)
            rows.append(_Row(where, zone, key, year, value, status))
    errors[:0] = table.all_errors()
    return rows


def _csv_rows(data: bytes | str, columns: dict[str, str] | None, errors: list[str]) -> list[_Row]:
    header, data = _header(csvfile.utf8_or_latin1(data))
    if _is_wide(header, columns):
        return _wide_rows(data, header, errors)
    table = csvfile.TableReader(data, IndicatorRow, aliases=ALIASES, mapping=columns, required_columns=REQUIRED)
    rows = []
    for line, raw in table:  # streamed: only the checked values are kept
        where = _("Linje %(line)d", line=line)
        value, status = number_or_symbol(raw.value, _("verdien"), where, errors)
        num, num_status = number_or_symbol(raw.numerator, _("telleren"), where, errors)
        den, den_status = number_or_symbol(raw.denominator, _("nevneren"), where, errors)
        key = indicator_key(raw.indicator)
        if not key:
            errors.append(_("%(where)s: indikatoren mangler.", where=where))
            continue
        rows.append(_Row(where, normalise_code(raw.zone), key, raw.year, value, status or (num_status if value is None
                         and num is None else None), num, den, num_status if num is None else None,
                         den_status if den is None else None))
    errors[:0] = table.all_errors()
    return rows


def read_rows(data, fmt: str, errors: list[str]) -> list[_Row]:
    """Rows of (zone, indicator, year, value) from any of the layouts this module reads (long or wide CSV,
    JSON-stat), for other imports of per-zone figures (a municipality's own index)."""
    return _jsonstat_rows(data, None, errors) if fmt == "jsonstat" else _csv_rows(data, None, errors)


def _jsonstat_rows(data: bytes | str, zone_dimension: str | None, errors: list[str]) -> list[_Row]:
    """A JSON-stat 2.0 dataset (or a 1.x bundle of one) as rows: its shape checked, its zone, year and indicator
    dimensions found, and every value read by its place in the cube."""
    doc = _jsonstat_dataset(load_json_upload(data))
    ids, sizes = doc["id"], doc["size"]
    zone_dim, year_dim, key_dim = _jsonstat_dimensions(doc, zone_dimension)
    total = _jsonstat_total(sizes)
    cats = [_jsonstat_categories(doc["dimension"][d]) for d in ids]
    if [len(c) for c in cats] != sizes:
        raise ImportFailed([_("Antall kategorier stemmer ikke med «size».")])
    values, status = _jsonstat_values(doc, total)
    rows = []
    for flat, value in enumerate(values):
        at = {d: cats[i][c] for i, (d, c) in enumerate(zip(ids, _cube_position(flat, sizes), strict=True))}
        where = _("Verdi %(n)d", n=flat + 1)
        year = _year(at[year_dim], where, errors)
        number, symbol = number_or_symbol(value, _("verdien"), where, errors)
        if number is None and symbol is None and status[flat] in STATUS_SYMBOLS:
            symbol = status[flat]
        if year is not None:
            rows.append(_Row(where, normalise_code(at[zone_dim]), indicator_key(at[key_dim]), year, number,
                             symbol if number is None else None))
    return rows


def _jsonstat_dataset(doc) -> dict:
    """The dataset, with `id`, `size` and `dimension` agreeing."""
    if isinstance(doc, dict) and doc.get("class") != "dataset" and len(doc) == 1:
        doc = next(iter(doc.values()))  # JSON-stat 1.x bundle with one dataset
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), list) or not isinstance(doc.get("size"), list):
        raise ImportFailed([_("Filen er ikke et JSON-stat 2.0-datasett (mangler «id» og «size»).")])
    ids, sizes, dims = doc["id"], doc["size"], doc.get("dimension") or {}
    if len(ids) != len(sizes) or any(d not in dims for d in ids) or \
            not all(isinstance(s, int) and s >= 0 for s in sizes):
        raise ImportFailed([_("Dimensjonene i «id», «size» og «dimension» stemmer ikke overens.")])
    return doc


def _jsonstat_dimensions(doc: dict, zone_dimension: str | None) -> tuple[str, str, str]:
    """The zone, year and indicator dimensions (by the dataset's roles, else by SSB's usual names); any other
    dimension must hold a single category (e.g. one sex)."""
    ids, sizes = doc["id"], doc["size"]
    role = doc.get("role") if isinstance(doc.get("role"), dict) else {}

    def by_role(name: str, names: tuple[str, ...]) -> str | None:
        listed = [d for d in (role.get(name) or []) if d in ids]
        return listed[0] if listed else next((d for d in ids if d.lower() in names), None)

    zone_dim = zone_dimension or by_role("geo", ("region", "zone", "grunnkrets", "sone"))
    year_dim = by_role("time", ("tid", "time", "year", "aar", "år"))
    key_dim = by_role("metric", ("contentscode", "indicator", "measure", "statistikkvariabel"))
    missing = [name for name, d in (("geo (Region)", zone_dim), ("time (Tid)", year_dim),
                                    ("metric (ContentsCode)", key_dim)) if d is None]
    if missing:
        raise ImportFailed([_("Fant ikke dimensjonene: %(dims)s (dimensjoner i filen: %(found)s).",
                              dims=", ".join(missing), found=", ".join(map(str, ids)))])
    for d in ids:  # e.g. a "Kjonn" dimension: only a single category can be imported as one indicator
        if d not in (zone_dim, year_dim, key_dim) and sizes[ids.index(d)] != 1:
            raise ImportFailed([_("Dimensjonen «%(dim)s» har flere kategorier; velg én kategori i uttaket fra "
                                  "SSB.", dim=d)])
    return zone_dim, year_dim, key_dim


def _jsonstat_total(sizes: list[int]) -> int:
    """The number of cells the dimensions declare, refused above MAX_JSONSTAT_CELLS before a category is read (a
    declared size costs nothing)."""
    total = math.prod(sizes)
    if total > MAX_JSONSTAT_CELLS:
        raise ImportFailed([_("Filen oppgir %(total)s verdier (dimensjonene %(sizes)s); en import tar høyst "
                              "%(max)s.", total=f"{total:,}".replace(",", " "), sizes=" × ".join(map(str, sizes)),
                              max=f"{MAX_JSONSTAT_CELLS:,}".replace(",", " "))])
    return total


def _jsonstat_categories(dimension: dict | None) -> list[str]:
    """A dimension's category codes in their order (`index` as a list or a code -> position map, else `label`)."""
    cat = (dimension or {}).get("category") or {}
    index = cat.get("index")
    if isinstance(index, list):
        return [str(c) for c in index]
    if isinstance(index, dict):
        return [str(k) for k, _v in sorted(index.items(), key=lambda kv: kv[1])]
    return [str(k) for k in (cat.get("label") or {})]


def _jsonstat_values(doc: dict, total: int) -> tuple[list, list]:
    """The values and their status symbols, one per cell (a dict of either is sparse; a status string is every
    cell's)."""
    values = doc.get("value")
    if isinstance(values, dict):
        values = [values.get(str(i)) for i in range(total)]
    if not isinstance(values, list) or len(values) != total:
        raise ImportFailed([_("«value» har %(got)s verdier, men dimensjonene gir %(want)d.",
                              got=len(values) if isinstance(values, list) else "?", want=total)])
    status = doc.get("status")
    if isinstance(status, str):
        status = [status] * total
    elif isinstance(status, dict):
        status = [status.get(str(i)) for i in range(total)]
    elif not isinstance(status, list) or len(status) != total:
        status = [None] * total
    return values, status


def _cube_position(flat: int, sizes: list[int]) -> list[int]:
    """The category index in each dimension of the `flat`-th value (row-major, the last dimension fastest)."""
    coords = []
    for s in reversed(sizes):
        coords.append(flat % s)
        flat //= s
    return coords[::-1]


def _served(municipality: Municipality | None, allowed: list[Municipality] | None) -> dict[str, Municipality]:
    """The municipalities this import may write, by number: those the caller may (every one when unbound),
    narrowed to `municipality` when one is named."""
    served = {m.number: m for m in (allowed if allowed is not None else
                                    db.session.scalars(db.select(Municipality)).all())}
    if municipality is not None:
        return {municipality.number: municipality} if municipality.number in served else {}
    return served


def _zone_index(served: dict[str, Municipality]) -> tuple[dict, dict[str, set[int]]]:
    """The served municipalities' zones by (municipality, code), and which municipalities have each code."""
    zones = {}
    if served:
        for z in db.session.scalars(db.select(Zone).where(Zone.municipality_id.in_([m.id for m in served.values()]))):
            zones[(z.municipality_id, z.code)] = z
    owners: dict[str, set[int]] = {}
    for muni_id, code in zones:
        owners.setdefault(code, set()).add(muni_id)
    return zones, owners


def _owner(code: str, owners: dict[str, set[int]], by_id: dict, served: dict) -> Municipality | None:
    """The served municipality a row's zone belongs to: the one that has the code (also a municipality's own,
    non-SSB codes), else the one its first four digits name."""
    known = owners.get(code, set())
    if len(known) == 1:
        return by_id[next(iter(known))]
    number = code[:4]
    return served.get(number) if len(code) >= 4 and number.isdigit() else None


def _set_aside_as(code: str, muni: Municipality | None) -> str:
    """How a row the import leaves out is counted: by the municipality it names, or as a municipality's total."""
    if muni is not None:
        return _("%(number)s (kommunetotal)", number=muni.number)
    return code[:4] if code[:4].isdigit() else code


def _unknown_grunnkrets(code: str, muni: Municipality) -> bool:
    """SSB's "uoppgitt grunnkrets" of the municipality (NNNN9999), created when the import needs it."""
    return code.endswith(UNKNOWN_GRUNNKRETS_SUFFIX) and len(code) == 8 and code.startswith(muni.number)


def import_indicators(data: bytes | str, *, fmt: str = "csv", municipality: Municipality | None = None,
                      skip_unknown: bool = False, columns: dict[str, str] | None = None,
                      zone_dimension: str | None = None, actor: User | None = None,
                      allowed: list[Municipality] | None = None,
                      progress: Callable[[int, int], None] | None = None) -> IndicatorImport:
    """Import indicator values for every municipality of the file this deployment serves (or only
    `municipality`); all rows valid or nothing is written. `allowed` limits which municipalities the caller
    may write (a municipality-bound user)."""
    errors: list[str] = []
    if fmt == "jsonstat":
        rows = _jsonstat_rows(data, zone_dimension, errors)
    elif fmt == "csv":
        rows = _csv_rows(data, columns, errors)
    else:
        raise ImportFailed([_("Ukjent format «%(fmt)s». Bruk csv eller jsonstat.", fmt=fmt)])
    served = _served(municipality, allowed)
    zones, owners = _zone_index(served)
    result = IndicatorImport()
    unknown: dict[str, list[str]] = {}
    to_store: list[tuple[Municipality, str, _Row]] = []
    seen: dict[tuple, str] = {}
    by_id = {m.id: m for m in served.values()}
    for done, row in enumerate(rows, start=1):
        if progress and (done % 1000 == 0 or done == len(rows)):
            progress(done, len(rows) * 2)  # checking is the first half of the work, storing the second
        muni = _owner(row.zone, owners, by_id, served)
        if muni is None or row.zone == muni.number:
            result.set_aside[_set_aside_as(row.zone, muni)] += 1
            continue
        if (muni.id, row.zone) not in zones and not _unknown_grunnkrets(row.zone, muni):
            unknown.setdefault(muni.number, []).append(row.zone)
            if not skip_unknown:
                errors.append(_("%(where)s: ukjent sone %(code)s i kommune %(number)s.", where=row.where,
                                code=row.zone, number=muni.number))
            continue
        ident = (muni.id, row.zone, row.key, row.year)
        if ident in seen:
            errors.append(_("%(where)s: samme sone, indikator og år som %(other)s.", where=row.where,
                            other=seen[ident]))
            continue
        seen[ident] = row.where
        to_store.append((muni, row.zone, row))
    if errors:
        raise ImportFailed(errors)
    if not to_store:
        raise ImportFailed([_("Ingen rader i filen hører til en kommune i denne importen (satt til side: %(aside)s).",
                              aside=counts_text(result.set_aside) or "–")])
    for number, codes in unknown.items():
        result.skipped_unknown[number] = (sorted(set(codes)), len(codes))
    _store(to_store, zones, result, actor)
    if progress:
        progress(len(rows) * 2, len(rows) * 2)
    return result


def _store(to_store, zones, result: IndicatorImport, actor: User | None) -> None:
    for muni, code, _row in to_store:
        if (muni.id, code) not in zones:  # SSB's "unknown grunnkrets": a zone without a boundary
            zones[(muni.id, code)] = zone_services.add_unknown_zone(muni.id, code, UNKNOWN_ZONE_NAME)
            result.unknown_zones_created.append(code)
    ids = {z.id for z in zones.values()}
    existing = {(i.zone_id, i.key, i.year): i for i in db.session.scalars(
        db.select(ZoneIndicator).where(ZoneIndicator.zone_id.in_(ids)))}
    per_muni: dict[int, Municipality] = {}
    for muni, code, row in to_store:
        zone = zones[(muni.id, code)]
        ind = existing.get((zone.id, row.key, row.year))
        if ind is None:
            ind = ZoneIndicator(zone_id=zone.id, key=row.key, year=row.year)
            db.session.add(ind)
            existing[(zone.id, row.key, row.year)] = ind
        ind.value, ind.numerator, ind.denominator = row.value, row.numerator, row.denominator
        ind.status = row.status if row.value is None else None
        ind.numerator_status, ind.denominator_status = row.numerator_status, row.denominator_status
        result.imported[muni.number] += 1
        if ind.status:
            result.missing.setdefault(muni.number, Counter())[ind.status] += 1
        per_muni[muni.id] = muni
    db.session.flush()
    for muni in per_muni.values():
        missing = result.missing.get(muni.number) or {}
        audit.record(actor, "indicators.import", "municipality", muni.id, municipality_id=muni.id,
                     rows=result.imported[muni.number], missing=sum(missing.values()))

