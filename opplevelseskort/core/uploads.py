"""Files kept for a job (an uploaded import waits for the worker): stored under the uploader, counted against
the uploader's and the municipality's quota, read back by the job, deleted when it is done."""

from __future__ import annotations

import io
import secrets
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ..extensions import db
from . import files
from .errors import DomainError
from .models import STAFF, StoredFile
from .types import Actor


def upload_use(actor: Actor) -> list[tuple[str, int, int]]:
    """For the admin page: each person's uploads kept on the server (e-mail, files, bytes), largest first."""
    query = db.select(STAFF.c.id, STAFF.c.email)
    if actor.municipality_id is not None:
        query = query.where(STAFF.c.municipality_id == actor.municipality_id)
    by_user = _uploads_by_user()
    out = [(email, *by_user[user_id]) for user_id, email in db.session.execute(query).all() if user_id in by_user]
    return sorted(out, key=lambda r: -r[2])


UPLOADS = "upload/"  # files kept for a job: upload/<user id>/<kind>/<token>


USER_UPLOADS = (UPLOADS, "household-import/")  # every prefix a user's kept uploads are stored under, then <user id>/


def keep_upload(kind: str, user: Actor, data: bytes | BinaryIO, content_type: str = "application/octet-stream") -> str:
    """Keep an uploaded file for the job that reads it (every node and worker sees it); deleted by the job (also
    when it fails), or by the schedule after 24 hours. A stream (the upload as Werkzeug spooled it) is stored a
    chunk at a time. Refused beyond the user's and the municipality's quota (`check_upload_quota`)."""
    key = f"{UPLOADS}{user.id}/{kind}/{secrets.token_hex(12)}"
    files.put_stream(key, io.BytesIO(data) if isinstance(data, bytes) else data, content_type)
    check_upload_quota(user)
    return key


def _uploads_by_user() -> dict[int, tuple[int, int]]:
    """Every kept upload counted by the user whose it is (the id after its prefix): files and bytes. One query; the
    quotas keep these few."""
    rows = db.session.execute(sa.select(StoredFile.key, StoredFile.size).where(
        sa.or_(*[StoredFile.key.like(f"{prefix}%") for prefix in USER_UPLOADS]))).all()
    out: dict[int, tuple[int, int]] = {}
    for key, size in rows:
        owner = next(key[len(p):].split("/", 1)[0] for p in USER_UPLOADS if key.startswith(p))
        if owner.isdigit():
            count, total = out.get(int(owner), (0, 0))
            out[int(owner)] = (count + 1, total + int(size or 0))
    return out


def stored_uploads(user_ids: list[int], by_user: dict[int, tuple[int, int]] | None = None) -> tuple[int, int]:
    """How many uploads the users have kept on the server, and how many bytes they hold."""
    by_user = _uploads_by_user() if by_user is None else by_user
    found = [by_user[uid] for uid in user_ids if uid in by_user]
    return sum(c for c, _b in found), sum(b for _c, b in found)


def check_upload_quota(user: Actor) -> None:
    """After a new upload is stored (in the request's transaction, so a refusal keeps nothing): at most
    UPLOAD_QUOTA_FILES files and UPLOAD_QUOTA_BYTES per user, UPLOAD_QUOTA_MUNICIPALITY_BYTES per municipality,
    waiting for their jobs or for "import now"."""
    cfg = current_app.config
    by_user = _uploads_by_user()
    count, size = stored_uploads([user.id], by_user)
    mb = 1024 * 1024
    if count > cfg["UPLOAD_QUOTA_FILES"] or size > cfg["UPLOAD_QUOTA_BYTES"]:
        raise DomainError("upload_quota", _(
            "Du har allerede %(n)d filer (%(mb)d MB) som venter på serveren; grensen er %(files)d filer og "
            "%(limit)d MB per person. Vent til importene dine er ferdige, eller importer eller forkast en "
            "forhåndsvisning først. Filer som ikke brukes, slettes etter 24 timer.", n=count - 1, mb=size // mb,
            files=cfg["UPLOAD_QUOTA_FILES"], limit=cfg["UPLOAD_QUOTA_BYTES"] // mb))
    if user.municipality_id is not None:
        colleagues = list(db.session.scalars(sa.select(STAFF.c.id).where(STAFF.c.municipality_id == user.municipality_id)))
        _count, together = stored_uploads(colleagues, by_user)
        if together > cfg["UPLOAD_QUOTA_MUNICIPALITY_BYTES"]:
            raise DomainError("upload_quota", _(
                "Kommunen har %(mb)d MB med filer som venter på serveren; grensen er %(limit)d MB. Prøv igjen når "
                "importene som kjører, er ferdige.", mb=together // mb,
                limit=cfg["UPLOAD_QUOTA_MUNICIPALITY_BYTES"] // mb))


def open_upload(key: str) -> BinaryIO:
    """A kept upload as a stream, read a chunk at a time."""
    stream = files.open_stream(key)
    if stream is None:
        raise DomainError("upload_gone", _("Filen er ikke lenger på tjeneren. Last den opp på nytt."))
    return stream


def read_upload(key: str) -> bytes:
    """A kept upload whole (a format that is parsed whole, such as GeoJSON)."""
    return open_upload(key).read()

