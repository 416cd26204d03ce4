"""Printable label sheets: A4, 3 × 8 labels of 70 × 37 mm, each with a QR code of the unit's label code."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from opplevelseskort.cards.pdf import qr_png

COLS, ROWS, LABEL_W, LABEL_H = 3, 8, 70 * mm, 37 * mm


def label_sheet(units) -> bytes:
    """One QR and the readable code per label; as many A4 pages as needed."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle("Etiketter")
    page_w, page_h = A4
    top = page_h - (page_h - ROWS * LABEL_H) / 2
    for i, unit in enumerate(units):
        slot = i % (COLS * ROWS)
        if i and slot == 0:
            c.showPage()
        col, row = slot % COLS, slot // COLS
        x, y = col * LABEL_W, top - (row + 1) * LABEL_H
        qr = ImageReader(io.BytesIO(qr_png(unit.label_code, box_size=6)))
        c.drawImage(qr, x + 3 * mm, y + 3 * mm, 31 * mm, 31 * mm)
        c.setFont("Courier-Bold", 11)
        c.drawString(x + 36 * mm, y + 22 * mm, unit.label_code)
        c.setFont("Helvetica", 7)
        c.drawString(x + 36 * mm, y + 16 * mm, unit.item_type.display_name()[:28])
    c.showPage()
    c.save()
    return buf.getvalue()
