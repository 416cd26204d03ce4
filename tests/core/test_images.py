"""Uploads: a decompression bomb is a clear error, not a 500 or a worker's memory; no metadata survives."""

import io
import struct
import zlib

import pytest
from PIL import Image

from opplevelseskort.core.errors import DomainError
from opplevelseskort.core.images import clean_jpeg


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares a huge 1-bit image (a few hundred bytes for 400 megapixels)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = zlib.compress(b"\x00" * 1024, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


@pytest.mark.parametrize("side", [20_000, 8_000, 100_000])
def test_huge_pixel_count_is_refused_before_decoding(side):
    with pytest.raises(DomainError) as exc:
        clean_jpeg(_png_header_only(side, side))
    assert exc.value.code == "image_too_many_pixels"


def test_bomb_upload_through_the_offer_form_is_422(client, login_as, users):
    from opplevelseskort.partners import services as partners

    from ..factories import offer_values

    offer = partners.save_offer(users["partner"], offer_values(), {})
    login_as("partner")
    base = {"title": "Fotball", "category": "sport", "age_min": "6", "age_max": "16", "start_date": "2026-01-01",
            "end_date": "2030-12-31", "status": "published", "use_limit_period": "period", "price_nok": "200",
            "companions_allowed": "1"}
    r = client.post(f"/mine-tilbud/{offer.id}", content_type="multipart/form-data",
                    data={**base, "image": (io.BytesIO(_png_header_only(20_000, 20_000)), "bomb.png")})
    assert r.status_code == 422 and "megapiksler" in r.text


def test_jpeg_comment_exif_and_icc_are_dropped():
    src = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Hemmelig kamera"
    Image.new("RGB", (64, 48), "blue").save(src, format="JPEG", comment=b"GPS 59.91 10.75 hemmelig",
                                            exif=exif.tobytes(), icc_profile=b"\0" * 128)
    out = clean_jpeg(src.getvalue())
    assert b"hemmelig" not in out.lower() and b"Exif" not in out
    img = Image.open(io.BytesIO(out))
    assert "comment" not in img.info and "exif" not in img.info and "icc_profile" not in img.info


def test_pictures_live_in_the_database_for_every_node(make_app, client, login_as, users):
    """A second app node (another instance folder, same database) serves the picture; ETag gives 304."""
    from opplevelseskort.core.models import StoredFile
    from opplevelseskort.extensions import db
    from opplevelseskort.partners import services as partners

    from ..factories import offer_values

    offer = partners.save_offer(users["partner"], offer_values(), {})
    png = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(png, format="PNG")
    partners.set_offer_image(offer, png.getvalue(), actor=users["partner"])
    db.session.flush()
    assert db.session.scalar(db.select(StoredFile.content_type).filter_by(key=f"offer/{offer.id}.jpg")) == "image/jpeg"
    other_node = make_app().test_client()
    r = other_node.get(f"/tilbud/{offer.id}/bilde.jpg")
    assert r.status_code == 200 and r.mimetype == "image/jpeg" and r.headers["ETag"]
    assert "public" in r.headers["Cache-Control"] and "max-age=3600" in r.headers["Cache-Control"]
    again = other_node.get(f"/tilbud/{offer.id}/bilde.jpg", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
