"""What a period's report is once protected: its tables, cells and statuses. A publication is built by a job
(`services.build_publications`), stored (`store`) and read by every page, export and API call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from ..core.models import Municipality
from ..zones.models import Zone
from . import tables
from .suppression import Cell


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date  # exclusive

    @property
    def start_dt(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def end_dt(self) -> datetime:
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC)



@dataclass
class Report:
    municipality: Municipality
    period: Period
    level: str
    zones: list[Zone]
    cells: dict[str, dict[str, Cell]] = field(default_factory=dict)  # zone code (or "total") -> measure -> cell
    breakdown: dict | None = None

    def rows(self):
        for z in self.zones:
            yield z, self.cells[z.code]
        yield None, self.cells["total"]

    def zone_properties(self, zone: Zone) -> dict:
        """A zone's row as a map feature's properties: its identity, each measure's shown value (None where
        hidden) and its status beside it."""
        cells = self.cells[zone.code]
        props = {"code": zone.code, "name": zone.name, "level": zone.level, "period": self.period.label}
        for m in tables.MEASURES:
            props[m] = tables.shown(cells[m])
            props[f"{m}_status"] = cells[m].status
        return props


@dataclass
class Publication:
    """Every table published for one municipality and period, after disclosure control over all of them."""

    municipality: Municipality
    period: Period
    levels: list[str] = field(default_factory=list)  # finest first
    reports: dict[str, Report] = field(default_factory=dict)  # by level
    breakdowns: dict[tuple[str, str], dict] = field(default_factory=dict)  # (level, by) -> breakdown
    grant: dict | None = None
    system: object = None  # the protected system this period's tables are part of
    added: int = 0
    hidden_cells: list | None = None  # the stored form of this period's hidden cells (`store.keep_hidden`)
    municipality_row: Report | None = None  # the municipality as a whole (published for every period)
    built_at: datetime | None = None  # when the stored publication was built (the page says "as of")

    def hidden(self, key) -> bool:
        return tables.InPeriod(self.period.label, key) in self.system.hidden

    def value(self, key) -> int:
        return self.system.values[tables.InPeriod(self.period.label, key)]
