"""Uploaded pictures: verified, shrunk and re-encoded as JPEG so no metadata (location, camera) is kept."""

from __future__ import annotations

import io
import warnings

from flask_babel import gettext as _

from . import files
from .errors import DomainError

MAX_IMAGE_BYTES = 2 * 1024 * 1024
# Decoding costs memory by pixels, not by file size: a 48 KB PNG can declare 400 megapixels. The limit is
# checked from the header, before a single pixel is decoded (a phone photo is 12-50 megapixels).
MAX_IMAGE_PIXELS = 50_000_000


def store_jpeg(data: bytes, key: str, max_side: int = 1200) -> None:
    """Accept JPEG, PNG or WebP up to 2 MB and 50 megapixels; store a clean JPEG (no EXIF, ICC or comment)."""
    files.put(key, clean_jpeg(data, max_side), "image/jpeg")


def clean_jpeg(data: bytes, max_side: int = 1200) -> bytes:
    """The picture re-encoded as a JPEG of at most `max_side` pixels, without metadata (or a DomainError)."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_IMAGE_BYTES:
        raise DomainError("image_too_large", _("Bildet er større enn 2 MB."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ("JPEG", "PNG", "WEBP"):
                raise DomainError("image_invalid", _("Bildet må være JPEG, PNG eller WebP."))
            width, height = probe.size
            if width * height > MAX_IMAGE_PIXELS:
                raise _too_many_pixels(width, height)
            probe.verify()
            img = Image.open(io.BytesIO(data))
            img.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale where possible
            img = img.convert("RGB")
            img.thumbnail((max_side, max_side))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(0, 0) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise DomainError("image_invalid", _("Filen er ikke et bilde vi kan lese.")) from None
    clean = Image.new("RGB", img.size)
    clean.paste(img)  # a fresh image carries no info dict: no comment, EXIF or ICC profile is written
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _too_many_pixels(width: int, height: int) -> DomainError:
    return DomainError("image_too_many_pixels",
                       _("Bildet er for stort (%(mp)d megapiksler). Største tillatte er %(max)d megapiksler.",
                         mp=(width * height) // 1_000_000, max=MAX_IMAGE_PIXELS // 1_000_000))
