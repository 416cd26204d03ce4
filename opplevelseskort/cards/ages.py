"""Age bands: what a signed card code says of the child's age (never the birth date), and how reports group
visits."""

from __future__ import annotations

AGE_BANDS = [("0-5", 0, 5), ("6-9", 6, 9), ("10-12", 10, 12), ("13-15", 13, 15), ("16+", 16, 200)]


def age_band(age: int | None) -> str:
    for name, lo, hi in AGE_BANDS:
        if age is not None and lo <= age <= hi:
            return name
    return "unknown"
