"""What every export shares: CSV cells a spreadsheet cannot run as formulas."""

from __future__ import annotations

import csv
import re

# A cell starting with one of these is a formula to Excel/LibreOffice (CWE-1236), also after a tab or CR.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value):
    """Text that would start a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer whose every text cell passes through `safe_cell`."""

    def __init__(self, out, **kw):
        self._w = csv.writer(out, **kw)

    def writerow(self, row):
        return self._w.writerow([safe_cell(v) for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(out, delimiter: str = ";") -> SafeWriter:
    return SafeWriter(out, delimiter=delimiter)


def attachment(*parts: object, ext: str, inline: bool = False) -> dict[str, str]:
    """A Content-Disposition header from validated parts only: each part keeps letters, digits, '.', '_' and '-'
    (a period typed with a line break or a quote can never reach the header), joined with '-'."""
    name = "-".join(p for p in (re.sub(r"[^A-Za-z0-9._-]", "", str(part)) for part in parts) if p) or "fil"
    ext = re.sub(r"[^A-Za-z0-9]", "", ext) or "bin"
    return {"Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{name}.{ext}"'}
