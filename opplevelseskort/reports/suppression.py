"""Disclosure control for zone tables. Pure functions, no database.

Primary: a count from 1 to (min_count - 1) is suppressed; so is a count whose complement (denominator - count)
is from 1 to (min_count - 1); a rate whose denominator is under min_denominator or built on a suppressed count is
suppressed. Secondary: within every group of cells that add up to a shown total (the sibling zones under a parent,
and the top-level zones under the grand total), a single suppressed cell could be recovered by subtraction, so
the smallest other cell of the group is suppressed too; repeated until nothing changes.
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


def secondary(groups: list[list[str]], cells: dict[str, Cell], totals_shown: dict[int, bool] | None = None) -> int:
    """Suppress more cells until no group has exactly one suppressed cell. Returns how many were added.

    `groups` are lists of cell keys whose values add up to a total that is published (e.g. siblings under a
    parent zone). A group whose total is itself suppressed still gets protected, because the total may be
    recoverable from higher levels.
    """
    added = 0
    changed = True
    while changed:
        changed = False
        for group in groups:
            members = [k for k in group if k in cells and cells[k].value is not None]
            hidden = [k for k in members if cells[k].suppressed]
            if len(hidden) == 1:
                shown = [k for k in members if not cells[k].suppressed]
                if not shown:
                    continue
                # the smallest non-zero cell hides the least information; zeros reveal nothing new
                candidates = [k for k in shown if cells[k].value] or shown
                pick = min(candidates, key=lambda k: (cells[k].value, k))
                cells[pick].status = SUPPRESSED
                added += 1
                changed = True
    return added


def protect_sums(groups: list[tuple[list[str], bool]], cells: dict[str, Cell], min_count: int) -> int:
    """Secondary suppression for groups of non-negative counts whose total is published.

    A reader knows a suppressed count is not 0 (zeros are shown) and, for a primary cell, at most
    min_count - 1. Within a group the hidden cells add up to the total minus the shown ones, so a group is
    unsafe when exactly one cell is hidden, when the hidden sum equals the number of hidden cells (all are 1),
    or when it equals hidden × (min_count - 1) (all are at the top of the primary range). The smallest shown
    non-zero cell is hidden until every group is safe. `groups` pairs the keys with whether the group's total
    is published at all. Returns how many cells were added.
    """
    added = 0
    changed = True
    while changed:
        changed = False
        for keys, total_published in groups:
            if not total_published:
                continue
            members = [k for k in keys if k in cells and cells[k].value is not None]
            hidden = [k for k in members if cells[k].suppressed]
            if not hidden:
                continue
            total_hidden = sum(cells[k].value for k in hidden)
            k = len(hidden)
            unsafe = k == 1 or total_hidden == k or total_hidden == k * (min_count - 1)
            if not unsafe:
                continue
            shown = [m for m in members if not cells[m].suppressed and cells[m].value]
            if not shown:
                continue
            pick = min(shown, key=lambda m: (cells[m].value, m))
            cells[pick].status = SUPPRESSED
            added += 1
            changed = True
    return added
