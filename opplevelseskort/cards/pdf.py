"""QR images and the printable wallet-size card (PDF)."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from flask_babel import gettext as _


def qr_svg(data: str) -> bytes:
    """An SVG QR code with a quiet zone, crisp at any size."""
    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=4,
                      error_correction=qrcode.constants.ERROR_CORRECT_M)
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue()


def qr_png(data: str, box_size: int = 10) -> bytes:
    img = qrcode.make(data, box_size=box_size, border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def card_pdf(card, url: str, short_code: str) -> bytes:
    """A credit-card-sized (85.6 × 54 mm) card like any membership card: name, QR, code, valid until."""
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    width, height = 85.6 * mm, 54 * mm
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height))
    c.setTitle(_("Opplevelseskortet"))
    c.setFillColorRGB(0.043, 0.31, 0.54)
    c.rect(0, height - 12 * mm, width, 12 * mm, stroke=0, fill=1)
    c.setFillColorRGB(1, 1, 1)
    c.setFont("Helvetica-Bold", 11)
    c.drawString(4 * mm, height - 8 * mm, _("Opplevelseskortet"))
    c.setFillColorRGB(0, 0, 0)
    c.setFont("Helvetica-Bold", 12)
    c.drawString(4 * mm, height - 20 * mm, card.child.given_name or "")
    c.setFont("Helvetica", 8)
    c.drawString(4 * mm, height - 26 * mm, _("Gyldig til %(date)s", date=card.valid_until.strftime("%d.%m.%Y")))
    c.drawString(4 * mm, height - 31 * mm, _("Ledsagere: %(n)d", n=card.companions))
    c.setFont("Courier-Bold", 10)
    c.drawString(4 * mm, 5 * mm, short_code)
    c.drawImage(ImageReader(io.BytesIO(qr_png(url, 8))), width - 38 * mm, 3 * mm, 35 * mm, 35 * mm)
    c.showPage()
    c.save()
    return buf.getvalue()
