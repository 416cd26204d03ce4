"""The reports part's jobs: an indicator file (CSV or JSON-stat, SSB's or our own) is imported in the worker."""

from __future__ import annotations

from flask_babel import gettext as _

from ..core import files, jobs
from ..core import services as core_services
from ..core.models import JobRun, User
from ..extensions import db
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
