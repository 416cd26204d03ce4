"""Disclosure control for zone tables. Pure functions, no database.

Primary: a count from 1 to (min_count - 1) is suppressed; so is a count whose complement (denominator - count)
is from 1 to (min_count - 1); a rate whose denominator is under min_denominator or built on a suppressed count is
suppressed. Secondary suppression runs over every table of a period together: see `disclosure`.
"""

from __future__ import annotations

from dataclasses import dataclass

SUPPRESSED = ":"


@dataclass
class Cell:
    value: float | None
    status: str | None = None  # ":" when suppressed

    @property
    def suppressed(self) -> bool:
        return self.status == SUPPRESSED


def primary_count(count: int | None, denominator: int | None, min_count: int) -> bool:
    if count is None:
        return False
    if 0 < count < min_count:
        return True
    if denominator is not None and 0 < denominator - count < min_count:
        return True
    return False
