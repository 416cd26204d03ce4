"""Stored publications: built once by a job, read by every page, export and API call on every node.

A request never runs the solver. It reads the stored publication of its period; when there is none yet it queues
the build (`publication_build`, one per municipality and period at a time) and the page says the figures are
being made. The figures carry the time they were built ("as of 10:05") and the data version they were built from:
a fingerprint of what the tables are made of (check-ins, cards, children, bookings, loans, zones, indicators,
change lists between zone versions).
A stored publication older than REPORT_REFRESH_SECONDS whose data has changed is rebuilt (debounced: at most once
per that many seconds per municipality and period), by the schedule (`publications`, every minute) or when it is
read; one older than REPORT_MAX_AGE_SECONDS is rebuilt whatever the fingerprint says (a change it cannot see, such
as a child moved to another zone, is then at most that old).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from utstyr.models import Borrower, Loan, LoanLine

from ..cards.models import Card, Child
from ..checkin.models import CheckIn
from ..core import jobs
from ..core.clock import utcnow
from ..core.errors import DomainError
from ..core.models import JobRun, JobStatus, Municipality
from ..extensions import db
from ..money.models import Transfer, TransferKind
from ..partners.models import Booking, BookingStatus
from ..zones.models import Zone, ZoneCorrespondence
from . import tables
from .disclosure import Need
from .models import ReportFeature, ReportPublication, ZoneIndicator
from .plan import NOT_PUBLISHED
from .publication import Period, Publication, Report
from .suppression import Cell

BUILD_JOB = "publication_build"


class PublicationPending(DomainError):
    """The period's figures are being made by a job; the page shows its progress, the API answers 202."""

    code = "publication_pending"
    status = 202

    def __init__(self, run: JobRun | None, period: Period):
        self.run, self.period = run, period
        super().__init__(self.code, _("Tallene for %(period)s lages nå. Siden oppdaterer seg selv når de er klare.",
                                      period=period.label))


def settings_key() -> str:
    """The disclosure settings a publication was protected under (a change of them is another publication)."""
    cfg = current_app.config
    return f"{cfg['SUPPRESS_MIN_COUNT']}/{cfg['SUPPRESS_MIN_DENOMINATOR']}/{cfg['REPORT_ZONE_MIN_CARDS']}"


def data_version(municipality_id: int) -> str:
    """A fingerprint of everything a municipality's tables are made of, one statement of indexed aggregates: a new
    or voided check-in, a card issued, renewed or revoked, a child, no-show, loan, zone or indicator changes it."""
    children = sa.select(Child.id).where(Child.municipality_id == municipality_id)
    borrowers = sa.select(Borrower.id).where(Borrower.municipality_id == municipality_id)
    figures = [
        sa.select(sa.func.count(CheckIn.id)).where(CheckIn.municipality_id == municipality_id),
        sa.select(sa.func.max(CheckIn.id)).where(CheckIn.municipality_id == municipality_id),
        sa.select(sa.func.count(CheckIn.voided_at)).where(CheckIn.municipality_id == municipality_id),
        sa.select(sa.func.count(Card.id)).where(Card.municipality_id == municipality_id),
        sa.select(sa.func.max(Card.id)).where(Card.municipality_id == municipality_id),
        sa.select(sa.func.count(Card.revoked_at)).where(Card.municipality_id == municipality_id),
        sa.select(sa.func.max(Card.valid_until)).where(Card.municipality_id == municipality_id),
        sa.select(sa.func.count(Child.id)).where(Child.municipality_id == municipality_id),
        sa.select(sa.func.count(Child.anonymised_at)).where(Child.municipality_id == municipality_id),
        sa.select(sa.func.count(Booking.id)).where(Booking.status == BookingStatus.NO_SHOW,
                                                   Booking.child_id.in_(children)),
        sa.select(sa.func.max(LoanLine.id)).join(Loan, Loan.id == LoanLine.loan_id).where(
            Loan.borrower_id.in_(borrowers)),
        sa.select(sa.func.count(Zone.id)).where(Zone.municipality_id == municipality_id),
        sa.select(sa.func.max(Zone.id)).where(Zone.municipality_id == municipality_id),
        sa.select(sa.func.count(ZoneIndicator.id)).where(
            ZoneIndicator.zone_id.in_(sa.select(Zone.id).where(Zone.municipality_id == municipality_id))),
        sa.select(sa.func.max(ZoneIndicator.imported_at)).where(
            ZoneIndicator.zone_id.in_(sa.select(Zone.id).where(Zone.municipality_id == municipality_id))),
        sa.select(sa.func.count(ZoneCorrespondence.id)).where(ZoneCorrespondence.municipality_id == municipality_id),
        sa.select(sa.func.max(ZoneCorrespondence.id)).where(ZoneCorrespondence.municipality_id == municipality_id),
        sa.select(sa.func.max(Transfer.id)).where(Transfer.municipality_id == municipality_id,
                                                  Transfer.kind == TransferKind.SETTLE),  # money used
    ]
    values = db.session.execute(sa.select(*[f.scalar_subquery() for f in figures])).one()
    return hashlib.sha256(repr(tuple(values)).encode()).hexdigest()[:32]


# --- reading ---------------------------------------------------------------------------------

_PARSED: OrderedDict[tuple, dict] = OrderedDict()  # (row id, built at) -> content: a page reloaded reads no JSON
_PARSED_SIZE = 32


def stored(municipality: Municipality, period: Period) -> ReportPublication | None:
    """The stored row, its content left unloaded (this process may hold it parsed already: `load`)."""
    return db.session.scalar(sa.select(ReportPublication).options(defer(ReportPublication.content)).where(
        ReportPublication.municipality_id == municipality.id, ReportPublication.period == period.label,
        ReportPublication.settings == settings_key()))


def current(municipality: Municipality, period: Period, *, request_build: Callable[[Municipality, Period], JobRun],
            build_here: Callable[[Municipality, Period], object] | None = None) -> Publication:
    """The period's stored publication. None yet: its build is queued by `request_build` (services.request_build)
    and PublicationPending raised (or, with `build_here`, as the CLI does, built now by it). Stale (older than the
    refresh interval and its data changed): the stored one is answered and a rebuild queued (built before answering
    where jobs run at once)."""
    row = stored(municipality, period)
    if row is None or _stale(row, municipality):
        if build_here is not None:
            build_here(municipality, period)
        else:
            run = request_build(municipality, period)
            if run.status == JobStatus.FAILED:  # only where jobs run at once (tests): say why, as the job did
                raise DomainError("publication_failed", " ".join(run.errors or []) or _("Tallene kunne ikke lages."))
        row = stored(municipality, period)
        if row is None:
            raise PublicationPending(run if build_here is None else None, period)
    return load(municipality, row)


_CHECKED: dict[tuple[int, str, str], float] = {}  # (municipality, period, settings) -> when this process last looked


def _stale(row: ReportPublication, municipality: Municipality) -> bool:
    """Older than the refresh interval, and built from other data than there is now (looked at by this process at
    most once per interval), or older than the longest age."""
    refresh = current_app.config["REPORT_REFRESH_SECONDS"]
    age = (utcnow() - row.built_at).total_seconds()
    if age < refresh:
        return False
    if age >= current_app.config["REPORT_MAX_AGE_SECONDS"]:
        return True
    key, now = (municipality.id, row.period, row.settings), time.monotonic()
    if refresh and now - _CHECKED.get(key, -refresh) < refresh:
        return False
    _CHECKED[key] = now
    return row.data_version != data_version(municipality.id)


def build_state(municipality: Municipality, period: Period) -> dict:
    """What the waiting page polls: finished once the period's publication is stored."""
    done = stored(municipality, period) is not None
    runs = db.session.scalars(sa.select(JobRun).where(
        JobRun.kind == BUILD_JOB, JobRun.municipality_id == municipality.id).order_by(JobRun.id.desc()).limit(5)).all()
    run = next((r for r in runs if (r.params or {}).get("period") == period.label), None)
    failed = run is not None and run.status == JobStatus.FAILED and not done
    step, total = (jobs.progress_of(run.id) or (0, 0)) if run is not None else (0, 0)
    return {"status": "done" if done else ("failed" if failed else "running"), "done": step, "total": total,
            "finished": done or failed}


# --- the stored form -------------------------------------------------------------------------

def _cells(cells: dict[str, Cell]) -> dict:
    return {m: [c.value, c.status] for m, c in cells.items()}


def _report(report: Report | None) -> dict | None:
    if report is None:
        return None
    return {"level": report.level, "zones": [z.code for z in report.zones],
            "cells": {code: _cells(cells) for code, cells in report.cells.items()}}


def _breakdown(level: str, by: str, b: dict) -> dict:
    return {"level": level, "by": by, "zones": [z.code for z in b["zones"]], "categories": list(b["categories"]),
            "cells": [[code, cat, m, c.value, c.status] for (code, cat, m), c in b["cells"].items()]}


def dump(pub: Publication) -> dict:
    hidden = _hidden_cells(pub) if pub.system is not None else list(pub.hidden_cells or [])
    return {"period": [pub.period.label, pub.period.start.isoformat(), pub.period.end.isoformat()],
            "levels": list(pub.levels), "added": pub.added, "hidden": hidden,
            "reports": [_report(r) for r in pub.reports.values()], "municipality_row": _report(pub.municipality_row),
            "breakdowns": [_breakdown(level, by, b) for (level, by), b in pub.breakdowns.items()],
            "grant": pub.grant}


def load(municipality: Municipality, row: ReportPublication) -> Publication:
    key = (row.id, row.built_at)
    content = _PARSED.get(key)
    if content is None:
        content = row.content
        _PARSED[key] = content
        while len(_PARSED) > _PARSED_SIZE:
            _PARSED.popitem(last=False)
    label, start, end = content["period"]
    period = Period(label, date.fromisoformat(start), date.fromisoformat(end))
    by_code = {z.code: z for z in db.session.scalars(sa.select(Zone).where(Zone.municipality_id == municipality.id))}

    def zones(codes):
        return [by_code[c] for c in codes if c in by_code]

    def report(data):  # a measure added since it was built is not published in it (SSB's "..")
        return Report(municipality, period, data["level"], zones(data["zones"]),
                      {code: {m: Cell(*cells[m]) if m in cells else Cell(None, NOT_PUBLISHED) for m in tables.MEASURES}
                       for code, cells in data["cells"].items()})

    pub = Publication(municipality, period, levels=list(content["levels"]), added=content["added"],
                      built_at=row.built_at, hidden_cells=content.get("hidden", []))
    pub.reports = {data["level"]: report(data) for data in content["reports"]}
    pub.municipality_row = report(content["municipality_row"])
    for data in content["breakdowns"]:
        pub.breakdowns[(data["level"], data["by"])] = {
            "zones": zones(data["zones"]), "categories": data["categories"], "by": data["by"], "period": period,
            "level": data["level"], "municipality": municipality,
            "cells": {(code, cat, m): Cell(v, s) for code, cat, m, v, s in data["cells"]}}
    grant = content["grant"]
    if grant is not None:  # rows were tuples before JSON
        grant = {**grant, **{k: [tuple(r) for r in grant[k]] for k in ("by_band_gender", "by_category")}}
    pub.grant = grant
    return pub


PRIMARY, UP, DOWN = "p", "+", "-"


def _hidden_cells(pub: Publication) -> list:
    """This period's hidden cells as stored: [how it is protected, *key]. A primary cell is protected by its own
    rule; a secondary one by moving the way it was shown to move (up or down by at least one)."""
    system = pub.system
    out = []
    for k in system.hidden:
        if isinstance(k, tables.InPeriod) and k.period == pub.period.label:
            lo, hi = system.moves.get(k, (None, None))
            how = PRIMARY if k in system.primary else (UP if hi is not None and hi > system.values[k] else DOWN)
            out.append([how, *tables.cell_to_json(k.cell)])
    return sorted(out, key=repr)


def keep_hidden(system, municipality: Municipality, labels: list[str]) -> int:
    """Hide again every cell an earlier build of these periods hid (under the same settings): what was handed out
    stays protected, and two builds never hide complementary cells that together give a count away. The cells are
    hidden before protection, so the new build protects them with everything else (they are never shown again for
    these periods). Returns how many were hidden again."""
    rows = db.session.scalars(sa.select(ReportPublication.content).where(
        ReportPublication.municipality_id == municipality.id, ReportPublication.period.in_(labels),
        ReportPublication.settings == settings_key())).all()
    again = 0
    for content in rows:
        label = content["period"][0]
        for how, *data in content.get("hidden", []):
            cell = tables.cell_from_json(data)
            key = tables.InPeriod(label, cell) if cell is not None else None
            if key not in system.values or system.unknown(key) or key in system.fixed:
                continue  # hidden by its own rule this time too, or not published any more
            system.hidden.add(key)
            again += 1
            value = system.values[key]
            if not value:
                continue
            if how == PRIMARY and value < system.threshold:  # small before, small again: it can reach the threshold
                system.need(key, Need.up(key, system.threshold))
            elif how == UP or system.lower(key) >= value:
                system.need(key, Need.up(key, value + 1))
            else:
                system.need(key, Need.down(key, value - 1))
    return again


def save(municipality: Municipality, pubs: list[Publication], version: str, seconds: float) -> None:
    """Store (or replace) each publication; two nodes building the same period at once both succeed."""
    now, settings = utcnow(), settings_key()
    for pub in pubs:
        values = {"data_version": version, "built_at": now, "build_seconds": seconds, "content": dump(pub)}
        where = (ReportPublication.municipality_id == municipality.id, ReportPublication.period == pub.period.label,
                 ReportPublication.settings == settings)
        if db.session.execute(sa.update(ReportPublication).where(*where).values(**values)).rowcount:
            # the OGC API's features of the earlier build go with it (the job renders the new ones)
            db.session.execute(sa.delete(ReportFeature).where(ReportFeature.publication_id.in_(
                sa.select(ReportPublication.id).where(*where))))
            continue
        try:
            with db.session.begin_nested():
                db.session.execute(sa.insert(ReportPublication).values(
                    municipality_id=municipality.id, period=pub.period.label, settings=settings, **values))
        except IntegrityError:  # another node stored it a moment ago: ours is as new
            db.session.execute(sa.update(ReportPublication).where(*where).values(**values))


def due_for_refresh(municipality: Municipality, now: datetime | None = None) -> list[str]:
    """The stored periods of a municipality the schedule rebuilds now: older than the debounce and built from
    other data, or older than the longest age. A quarter or month is rebuilt with its year (they are protected
    together)."""
    now = now or utcnow()
    cfg = current_app.config
    rows = db.session.execute(sa.select(ReportPublication.period, ReportPublication.data_version,
                                        ReportPublication.built_at).where(
        ReportPublication.municipality_id == municipality.id,
        ReportPublication.settings == settings_key())).all()
    debounce, max_age = timedelta(seconds=cfg["REPORT_REFRESH_SECONDS"]), timedelta(seconds=cfg["REPORT_MAX_AGE_SECONDS"])
    version = data_version(municipality.id) if rows else None
    due = [period for period, v, built in rows if now - built >= debounce and (v != version or now - built >= max_age)]
    targets = []
    for period in due:
        target = period[:4]
        if target not in targets:
            targets.append(target)
    return targets
