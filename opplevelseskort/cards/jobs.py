"""The cards part's jobs: a household import runs in the worker, not in the request."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..accounts.models import User
from ..core import files, jobs, uploads
from ..core.clock import utcnow
from ..core.errors import DomainError
from ..core.models import JobRun, Municipality
from ..extensions import db
from . import applications, households, services

UPLOAD_PREFIX = "household-import/"


def upload_key(user_id: int, token: str) -> str:
    return f"{UPLOAD_PREFIX}{user_id}/{token}"


@jobs.job("household_import")
def household_import(run: JobRun, *, upload: str, dry_run: bool) -> dict:
    """Import (or preview) the uploaded file, all or nothing; a real import uses the kept file up."""
    if files.open_stream(upload) is None:
        raise DomainError("upload_gone", _("Forhåndsvisningen er for gammel eller finnes ikke. Last opp filen på nytt."))
    municipality = db.session.get(Municipality, run.municipality_id)
    actor = db.session.get(User, run.actor_id)
    preview = applications.import_households(municipality, lambda: files.open_stream(upload), actor=actor,
                                             dry_run=dry_run, import_run_id=None if dry_run else run.id,
                                             progress=jobs.reporter(run))
    if not dry_run:
        files.delete(upload)
    return {**asdict(preview), "dry_run": dry_run}


@jobs.job("import_card_links")
def import_card_links(run: JobRun, *, import_run: int) -> dict:
    """Send the card links of the families an import registered, through the outbox, each guardian in their own
    language; a family already sent its link is not sent it again (the job may be started twice)."""
    actor = db.session.get(User, run.actor_id)
    return {"families": services.send_import_links(import_run, actor=actor, progress=jobs.reporter(run))}


KEEP_UPLOADS = timedelta(hours=24)


@jobs.every("delete_kept_uploads", minute="*/15", what=_l("Sletter opplastede husstandsfiler etter 24 timer"))
def delete_kept_uploads(now: datetime | None = None) -> dict:
    """A household file kept for "import now" after a dry run holds children's and guardians' data: it is
    deleted 24 hours after it was uploaded, imported or not."""
    cutoff = (now or utcnow()) - KEEP_UPLOADS
    n = files.delete_older(UPLOAD_PREFIX, cutoff) + files.delete_older(uploads.UPLOADS, cutoff)
    return {"deleted": n}


@jobs.every("retention", minute="10", what=_l("Anonymiserer barn når oppbevaringstiden er ute"))
def retention() -> dict:
    """Children whose cards and eligibility ended more than RETENTION_MONTHS ago are anonymised (once)."""
    return {"anonymised": households.run_retention()}
