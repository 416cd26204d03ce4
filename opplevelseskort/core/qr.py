"""QR codes: SVG for pages, PNG for PDFs."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from markupsafe import Markup

CORRECTION = {"M": qrcode.constants.ERROR_CORRECT_M, "Q": qrcode.constants.ERROR_CORRECT_Q}


def qr_svg(data: str, correction: str = "M") -> bytes:
    """An SVG QR code with a quiet zone, crisp at any size (error correction Q for a signed card code, which a
    scratched card or a cracked screen must still give)."""
    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=4,
                      error_correction=CORRECTION[correction])
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue()


def qr_png(data: str, box_size: int = 10, correction: str = "M") -> bytes:
    """A PNG QR code for the PDFs. The mask pattern is fixed: choosing the best of eight (qrcode's default) was
    four fifths of the time it takes, and any mask reads (the tests decode every one with zxing-cpp)."""
    qr = qrcode.QRCode(box_size=box_size, border=4, error_correction=CORRECTION[correction], mask_pattern=2)
    qr.add_data(data)
    img = qr.make_image()
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def qr_svg_inline(data: str) -> Markup:
    """An SVG QR code to put inside a page (without the XML declaration)."""
    svg = qr_svg(data).decode("utf-8")
    return Markup(svg[svg.index("<svg"):])
