"""The reports part's jobs: an indicator file (CSV or JSON-stat, SSB's or our own) is imported in the worker, and
the stored publications whose data changed are built again every minute. (A period's first build,
`services.publication_build`, is defined beside the build it runs.)"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..accounts.models import User
from ..core import files, jobs, municipalities, uploads
from ..core.clock import today
from ..core.models import JobRun, Municipality
from ..extensions import db
from ..zones.models import Zone
from . import features, levekar, periods, services, store
from .indicators import import_indicators


@jobs.job("indicator_import", title=_l("Levekårsindikatorer"))
def indicator_import(run: JobRun, *, upload: str, fmt: str, skip_unknown: bool) -> dict:
    """Every value valid or nothing is written; the page then shows what was stored per municipality."""
    data = uploads.open_upload(upload) if fmt == "csv" else uploads.read_upload(upload)  # a CSV is streamed
    actor = db.session.get(User, run.actor_id)
    result = import_indicators(data, fmt=fmt, actor=actor, skip_unknown=skip_unknown,
                               allowed=municipalities.municipalities_for(actor), progress=jobs.reporter(run))
    files.delete(upload)
    return {"message": _("%(n)d indikatorverdier er lagret.", n=result.total), "lines": result.lines()}


@jobs.job("own_index_import", title=_l("Kommunens egen levekårsindeks"))
def own_index_import(run: JobRun, *, upload: str, fmt: str, method: str, method_version: str) -> dict:
    """A municipality's own levekårsindeks, all rows or none."""
    data = uploads.open_upload(upload) if fmt == "csv" else uploads.read_upload(upload)
    municipality = db.session.get(Municipality, run.municipality_id)
    n = levekar.import_own_index(municipality, data, fmt=fmt, method=method, method_version=method_version,
                                 actor=db.session.get(User, run.actor_id))
    files.delete(upload)
    return {"message": _("%(n)d indeksverdier for «%(method)s» (versjon %(version)s) er lagret.", n=n,
                         method=method, version=method_version)}


build_and_store = services.build_and_store  # the build's work, also the CLI's and the bench's


@jobs.every("publications", minute="*", what=_l("Lager rapporttallene på nytt når dataene er endret"),
            own_transactions=True)
def refresh_publications() -> dict:
    """Every stored publication whose data changed (past the debounce), or that is older than the longest age,
    is built again; the current year is built when it is missing, so the analysts' first page is ready; each
    stored year's zones are rendered as the OGC API's features once per build.

    It commits each build and each rendering on its own: each is whole by itself, a failure leaves the others
    stored (the next minute tries again), and on SQLite the one write lock is held for one build, not for all of
    them while pages wait."""
    rebuilt, rendered = [], []
    this_year = str(today().year)
    for municipality in db.session.scalars(db.select(Municipality).order_by(Municipality.id)).all():
        if not db.session.scalar(db.select(db.exists().where(Zone.municipality_id == municipality.id))):
            continue
        due = store.due_for_refresh(municipality)
        if store.stored(municipality, periods.parse_period(this_year)) is None and this_year not in due:
            due.append(this_year)
        for label in due:
            built = build_and_store(municipality, periods.parse_period(label))
            db.session.commit()
            rebuilt += [f"{municipality.number}:{p}" for p in built]
        for year in features.missing_years(municipality):
            features.store_features(municipality, year)
            db.session.commit()
            rendered.append(f"{municipality.number}:{year.period}")
    return {"rebuilt": rebuilt, "features": rendered}
