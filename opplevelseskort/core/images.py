"""Uploaded pictures: verified, shrunk and re-encoded as JPEG so no metadata (location, camera) is kept."""

from __future__ import annotations

import io
from pathlib import Path

from flask_babel import gettext as _

from .errors import DomainError

MAX_IMAGE_BYTES = 2 * 1024 * 1024


def store_jpeg(data: bytes, path: Path, max_side: int = 1200) -> None:
    """Accept JPEG, PNG or WebP up to 2 MB; write a clean JPEG to `path`."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_IMAGE_BYTES:
        raise DomainError("image_too_large", _("Bildet er større enn 2 MB."))
    try:
        probe = Image.open(io.BytesIO(data))
        probe.verify()
        img = Image.open(io.BytesIO(data))
        if img.format not in ("JPEG", "PNG", "WEBP"):
            raise DomainError("image_invalid", _("Bildet må være JPEG, PNG eller WebP."))
        img = img.convert("RGB")
        img.thumbnail((max_side, max_side))
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise DomainError("image_invalid", _("Filen er ikke et bilde vi kan lese.")) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="JPEG", quality=85)
