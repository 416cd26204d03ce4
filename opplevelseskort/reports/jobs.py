"""The reports part's jobs: an indicator file (CSV or JSON-stat, SSB's or our own) is imported in the worker, and
each period's publication is built (the solver runs here, never in a request) and stored."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core import files, jobs
from ..core import services as core_services
from ..core.clock import today
from ..core.models import JobRun, Municipality, User, Zone
from ..extensions import db
from . import gis, levekar, services, store, versions
from .indicators import import_indicators


@jobs.job("indicator_import")
def indicator_import(run: JobRun, *, upload: str, fmt: str, skip_unknown: bool) -> dict:
    """Every value valid or nothing is written; the page then shows what was stored per municipality."""
    data = jobs.open_upload(upload) if fmt == "csv" else jobs.read_upload(upload)  # a CSV is streamed
    actor = db.session.get(User, run.actor_id)
    result = import_indicators(data, fmt=fmt, actor=actor, skip_unknown=skip_unknown,
                               allowed=core_services.municipalities_for(actor), progress=jobs.reporter(run))
    files.delete(upload)
    return {"message": _("%(n)d indikatorverdier er lagret.", n=result.total), "lines": result.lines()}


@jobs.job("own_index_import")
def own_index_import(run: JobRun, *, upload: str, fmt: str, method: str, method_version: str) -> dict:
    """A municipality's own levekårsindeks, all rows or none."""
    data = jobs.open_upload(upload) if fmt == "csv" else jobs.read_upload(upload)
    municipality = db.session.get(Municipality, run.municipality_id)
    n = levekar.import_own_index(municipality, data, fmt=fmt, method=method, method_version=method_version,
                                 actor=db.session.get(User, run.actor_id))
    files.delete(upload)
    return {"message": _("%(n)d indeksverdier for «%(method)s» (versjon %(version)s) er lagret.", n=n,
                         method=method, version=method_version)}


@jobs.job("correspondence_import")
def correspondence_import(run: JobRun, *, upload: str, from_version: str, to_version: str) -> dict:
    """A change list between two zone versions, all rows or none."""
    municipality = db.session.get(Municipality, run.municipality_id)
    n = versions.import_correspondence(municipality, jobs.read_upload(upload), from_version=from_version,
                                       to_version=to_version, actor=db.session.get(User, run.actor_id))
    files.delete(upload)
    return {"message": _("%(n)d koblinger fra versjon %(a)s til %(b)s er lagret.", n=n, a=from_version,
                         b=to_version)}


build_and_store = services.build_and_store  # the job's work, also the CLI's and the bench's


@jobs.job(store.BUILD_JOB)
def publication_build(run: JobRun, *, period: str, settings: str | None = None) -> dict:
    """One period's publication, built and stored (queued by a page that found none, or by an analyst's
    "update now")."""
    municipality = db.session.get(Municipality, run.municipality_id)
    periods = build_and_store(municipality, services.parse_period(period))
    _features(municipality, periods)
    return {"periods": periods}


def _features(municipality: Municipality, periods: list[str]) -> None:
    """The OGC API's features of each year just stored, rendered once here rather than by the first GIS request."""
    for label in periods:
        if len(label) == 4:
            gis.store_features(municipality, store.stored(municipality, services.parse_period(label)))


@jobs.every("publications", minute="*", what=_l("Lager rapporttallene på nytt når dataene er endret"))
def refresh_publications() -> dict:
    """Every stored publication whose data changed (past the debounce), or that is older than the longest age,
    is built again; the current year is built when it is missing, so the analysts' first page is ready."""
    rebuilt = []
    this_year = str(today().year)
    for municipality in db.session.scalars(db.select(Municipality).order_by(Municipality.id)):
        if not db.session.scalar(db.select(db.exists().where(Zone.municipality_id == municipality.id))):
            continue
        due = store.due_for_refresh(municipality)
        if store.stored(municipality, services.parse_period(this_year)) is None and this_year not in due:
            due.append(this_year)
        for label in due:
            periods = build_and_store(municipality, services.parse_period(label))
            _features(municipality, periods)
            rebuilt += [f"{municipality.number}:{p}" for p in periods]
    return {"rebuilt": rebuilt}
