"""Zone jobs: a zone file and a change list between zone versions, imported in the background."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..accounts.models import User
from ..core import files, jobs, uploads
from ..core.models import JobRun, Municipality
from ..extensions import db
from . import imports as zones
from . import versions


@jobs.job("zone_import", title=_l("Importer soner"))
def zone_import(run: JobRun, *, upload: str, kind: str, options: dict) -> dict:
    """Zones from GeoJSON, CSV or a mapping table, all or nothing; the page then shows what was done."""
    data = uploads.read_upload(upload)
    municipality = db.session.get(Municipality, run.municipality_id)
    actor = db.session.get(User, run.actor_id) if run.actor_id else None
    result = zones.import_file(municipality, data, kind, actor=actor, progress=jobs.reporter(run), **options)
    if kind == "geojson":
        message = _("%(created)d soner opprettet, %(updated)d oppdatert, %(parents)d overordnede soner laget.",
                    created=result.created, updated=result.updated, parents=result.parents_created)
        if result.set_aside:
            message += " " + _("Satt til side fordi de hører til andre kommuner: %(aside)s.",
                               aside=zones.counts_text(result.set_aside))
    elif kind == "csv":
        message = _("%(created)d soner opprettet, %(updated)d oppdatert.", created=result.created,
                    updated=result.updated)
    else:
        message = _("%(n)d koblinger lagret.", n=result.links)
    files.delete(upload)
    return {"message": message, "lines": list(result.repaired)}


@jobs.job("correspondence_import", title=_l("Endringsliste for soner"))
def correspondence_import(run: JobRun, *, upload: str, from_version: str, to_version: str) -> dict:
    """A change list between two zone versions, all rows or none."""
    municipality = db.session.get(Municipality, run.municipality_id)
    n = versions.import_correspondence(municipality, uploads.read_upload(upload), from_version=from_version,
                                       to_version=to_version, actor=db.session.get(User, run.actor_id))
    files.delete(upload)
    return {"message": _("%(n)d koblinger fra versjon %(a)s til %(b)s er lagret.", n=n, a=from_version,
                         b=to_version)}
