"""A yearly report the municipal council can read (PDF, bokmål): a map of reach by zone, need beside reach, the
trend over the years, the levekårsindeks beside it, and how the figures were made and protected.

Everything in it is a published figure (the stored, protected publications) or derived from published figures
and SSB's own statistics: what is hidden on the report page is hidden here, marked with SSB's symbol.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from shapely.geometry import Polygon

from ..core.errors import DomainError
from ..core.models import Municipality
from ..core.pdf import Document
from . import features, gis, need, periods, services

# reach classes (share of the children in need who were active): colour-blind safe, light to dark, and a grey
# with a hatch for "not shown"
CLASSES = ((0.10, (253, 231, 37), "under 10 %"), (0.25, (94, 201, 98), "10–25 %"), (0.50, (33, 145, 140), "25–50 %"),
           (math.inf, (59, 82, 139), "50 % og mer"))
HIDDEN = (200, 200, 200)


@dataclass
class CouncilReport:
    municipality: Municipality
    year: int
    level: str
    need: need.NeedTable | None
    index: dict
    trend: list[tuple[int, int | None, int | None, int | None]]  # year, with a card, active, check-ins


def gather(municipality: Municipality, year: int) -> CouncilReport:
    """The year's figures for the report: the finest published zone level with boundaries."""
    pub = services.publication(municipality, periods.parse_period(str(year)))
    levels = list(pub.reports)
    if not levels:
        raise DomainError("level_not_published", _("Året har ingen publiserte soner ennå."))
    level = levels[0]
    key = need.default_key(need.indicator_keys(municipality))
    table = None
    if key:
        table = need.need_table(municipality, year, level, key)
    trend = []
    for y in sorted(gis.published_years(municipality)):
        if y > year:
            continue
        total = services.publication(municipality, periods.parse_period(str(y))).municipality_row.cells["total"]
        trend.append((y, services.shown(total["children_with_card"]), services.shown(total["active_children"]),
                      services.shown(total["checkins"])))
    return CouncilReport(municipality, year, level, table, features.index_by_zone(municipality, year), trend)


def _class_of(reach: float | None):
    if reach is None:
        return HIDDEN
    return next(colour for limit, colour, _label in CLASSES if reach < limit)


def _draw_map(doc, report: CouncilReport, x0: float, y0: float, w: float, h: float) -> None:
    """The zones as polygons, coloured by reach; lon/lat drawn to scale at the municipality's latitude."""
    shapes = []
    for row in report.need.rows if report.need else []:
        if not row.zone.boundary:
            continue
        geom = json.loads(row.zone.boundary)
        polygons = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        shapes.append((row, polygons))
    points = [p for _r, polys in shapes for poly in polys for ring in poly for p in ring]
    if not points:
        doc.text_box(x0, y0, w, _("Sonene har ingen grenser ennå: kartet kan ikke tegnes."), lang="nb", size=9)
        return
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    k = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x, span_y = (max(lons) - min(lons)) * k or 1e-9, (max(lats) - min(lats)) or 1e-9
    scale = min(w / span_x, h / span_y)

    def xy(lon, lat):
        return x0 + (lon - min(lons)) * k * scale, y0 + (max(lats) - lat) * scale

    doc.set_draw_color(255, 255, 255)
    doc.set_line_width(0.2)
    for row, polygons in shapes:
        doc.set_fill_color(*_class_of(row.reach))
        for poly in polygons:
            doc.polygon([xy(*p[:2]) for p in poly[0]], style="DF")
    # each zone's number (its code's last four digits) where the zone can hold it, readable on its colour;
    # the key below the map and the table after it give the names
    for row, polygons in shapes:
        largest = max((Polygon([xy(*p[:2]) for p in poly[0]]) for poly in polygons), key=lambda g: g.area)
        spot = largest.representative_point()
        colour = _class_of(row.reach)
        dark = colour in (CLASSES[2][1], CLASSES[3][1])
        doc.text_box(spot.x - 6, spot.y - 1.6, 12, short_code(row.zone.code), lang="nb", size=6.5, bold=True,
                     align="center", color=(255, 255, 255) if dark else (0, 0, 0))


def short_code(code: str) -> str:
    """What the map prints in a zone: a grunnkrets's last four digits (the municipality is the same for all)."""
    return code[-4:] if len(code) > 4 else code


def _map_key(doc, report: CouncilReport, x0: float, y0: float, width: float) -> float:
    """Number and name of every zone on the map, in four columns under it; returns where it ends."""
    rows = sorted((r for r in (report.need.rows if report.need else []) if r.zone.boundary), key=lambda r: r.zone.code)
    per_column = -(-len(rows) // 4) or 1
    for n, row in enumerate(rows):
        column, line = divmod(n, per_column)
        doc.text_box(x0 + column * width / 4, y0 + line * 3.6, width / 4 - 1,
                     f"{short_code(row.zone.code)} {row.zone.name}"[:28], lang="nb", size=7)
    return y0 + per_column * 3.6


def council_pdf(municipality: Municipality, year: int) -> bytes:
    """The yearly report on A4 pages, in bokmål whatever the reader's language (it goes to the council)."""
    with force_locale("nb"):
        report = gather(municipality, year)
        return _render(report)


def _render(report: CouncilReport) -> bytes:
    muni, year = report.municipality, report.year
    title = f"Opplevelseskortet i {muni.name} {year}"
    doc = Document(title=title, lang="nb")
    doc.add_page()
    m, width = 18.0, 174.0
    y = doc.text_box(m, 16, width, title, lang="nb", size=18, bold=True) + 2
    y = doc.text_box(m, y, width, "Når vi barna der behovet er? Rapport til kommunestyret om fritidskortet per sone: "
                     "hvor mange barn som trenger det, hvor mange som har kort, og hvor mange som har brukt det.",
                     lang="nb", size=10, wrap=True, line_height=5) + 4
    # trend
    y = doc.text_box(m, y, width, "Utviklingen over årene", lang="nb", size=13, bold=True) + 1
    for cells, bold in [(("År", "Barn med kort", "Aktive barn", "Besøk"), True)] + [
            ((str(t[0]), *(":" if v is None else f"{v}" for v in t[1:])), False) for t in report.trend]:
        x = m
        for text, w in zip(cells, (30, 45, 45, 45), strict=True):
            doc.text_box(x, y, w, text, lang="nb", size=10, bold=bold, align="start" if x == m else "end")
            x += w
        y += 5.5
    y += 4
    # map
    y = doc.text_box(m, y, width, f"Rekkevidde per sone ({report.level})", lang="nb", size=13, bold=True) + 1
    if report.need is None:
        y = doc.text_box(m, y, width, "Ingen behovsindikator er importert: rekkevidden kan ikke regnes ut.",
                         lang="nb", size=10, wrap=True, line_height=5) + 3
    else:
        _draw_map(doc, report, m, y, 120, 95)
        ly = y
        for _limit, colour, label in CLASSES:
            doc.band(m + 128, ly + 0.5, 5, 4, colour)
            doc.text_box(m + 135, ly, 40, label, lang="nb", size=9)
            ly += 6
        doc.band(m + 128, ly + 0.5, 5, 4, HIDDEN)
        doc.text_box(m + 135, ly, 40, "ikke vist (:)", lang="nb", size=9)
        y += 99
        y = _map_key(doc, report, m, y, width) + 2
        doc.text_box(m, y, width, f"Rekkevidde = aktive barn delt på barn med behov (fra «{report.need.key}», "
                     f"{', '.join(str(v) for v in report.need.indicator_years)}).", lang="nb", size=8, wrap=True,
                     line_height=4)
    # need beside reach, with the index
    if report.need is not None:
        doc.add_page()
        y = doc.text_box(m, 16, width, "Behov og rekkevidde per sone", lang="nb", size=13, bold=True) + 1
        y = doc.text_box(m, y, width, "Flest barn med behov som ikke er nådd først. Intervallet sier hvor sikker "
                         "rekkevidden er for en sone av den størrelsen (Wilson, 95 prosent).", lang="nb", size=9,
                         wrap=True, line_height=4.5) + 2
        cols = (("Sone", 50, "start"), ("Behov", 18, "end"), ("Med kort", 20, "end"), ("Aktive", 18, "end"),
                ("Rekkevidde", 24, "end"), ("Intervall", 26, "end"), ("Indeks", 18, "end"))

        def line(cells, bold=False):
            nonlocal y
            if y > 278:
                doc.add_page()
                y = 16.0
                line([c[0] for c in cols], bold=True)
            x = m
            for (_n, w, align), text in zip(cols, cells, strict=True):
                doc.text_box(x, y, w, text, lang="nb", size=8.5, bold=bold, align=align)
                x += w
            y += 5

        line([c[0] for c in cols], bold=True)
        for r in report.need.rows:
            index = report.index.get(r.zone.code)
            line([f"{r.zone.name} ({r.zone.code})"[:34], _fmt(r.need, r.need_status), _fmt(r.cards, r.cards_status),
                  _fmt(r.active, r.active_status), _pct(r.reach), f"{_pct(r.low)}–{_pct(r.high)}" if r.low is not None
                  else "–", "–" if index is None else f"{index:.1f}".replace(".", ",")])
        y += 3
    else:
        y += 6
    # method
    if y > 230:
        doc.add_page()
        y = 16.0
    y = doc.text_box(m, y, width, "Slik er tallene laget", lang="nb", size=13, bold=True) + 1
    for text in (
        "Tallene er de samme publiserte tallene som i rapportene og eksportene. Tall fra 1 til 4, og tall som kan "
        "regnes ut fra andre, er skjult og vist som «:». Rekkevidden regnes bare av tall som vises.",
        "Barn med behov er anslått fra SSBs statistikk per sone: indikatorens antall, eller andelen ganger antall "
        "barn. Statistikken kan være et år eller to eldre enn rapportåret.",
        "Levekårsindeksen følger SSBs metode: hver indikator gir en skår fra 1 til 10 (10 er flest problemer), og "
        "indeksen er gjennomsnittet. Like vekter er et valg, og indeksen måler levekårsproblemer, ikke hvor det er "
        "best å bo.",
    ):
        y = doc.text_box(m, y, width, text, lang="nb", size=9, wrap=True, line_height=4.5) + 2
    return doc.bytes()


def _fmt(value, status) -> str:
    if value is None:
        return status or "–"
    return f"{value:,.0f}".replace(",", " ")


def _pct(value) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"
