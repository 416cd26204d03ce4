"""Printable label sheets: A4, 3 × 8 labels of 70 × 37 mm, each with a QR code of the unit's label code."""

from __future__ import annotations

from opplevelseskort.core.pdf import Document
from opplevelseskort.core.qr import qr_png

COLS, ROWS, LABEL_W, LABEL_H = 3, 8, 70.0, 37.0  # mm
PAGE_H = 297.0


def label_sheet(units) -> bytes:
    """One QR and the readable code per label; as many A4 pages as needed (an item's name in any script prints)."""
    doc = Document(title="Etiketter", lang="nb")
    top = (PAGE_H - ROWS * LABEL_H) / 2
    for i, unit in enumerate(units):
        slot = i % (COLS * ROWS)
        if slot == 0:
            doc.add_page()
        col, row = slot % COLS, slot // COLS
        x, y = col * LABEL_W, top + row * LABEL_H
        doc.png(qr_png(unit.label_code, box_size=6), x + 3, y + 3, 31)
        doc.text_box(x + 36, y + 9, LABEL_W - 38, unit.label_code, lang="nb", size=11, bold=True)
        doc.text_box(x + 36, y + 16, LABEL_W - 38, unit.item_type.display_name()[:40], lang="nb", size=7, wrap=True,
                     line_height=3.2)
    if not units:
        doc.add_page()
    return doc.bytes()
