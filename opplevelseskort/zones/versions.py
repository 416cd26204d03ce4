"""Zone classification versions: change lists between them, and which zone is in force in a year."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from ..accounts.models import User
from ..core import audit, csvfile
from ..core.csvfile import number_or_symbol
from ..core.errors import ImportFailed
from ..core.models import Municipality
from ..extensions import db
from .models import Zone, ZoneCorrespondence
from .services import normalise_code

COLUMNS = {"old": ("old_code", "oldcode", "gammel_kode", "fra", "sourcecode", "source_code", "old"),
           "new": ("new_code", "newcode", "ny_kode", "til", "targetcode", "target_code", "new"),
           "weight": ("weight", "vekt", "andel", "share")}


class ChangeLine(csvfile.Row):
    """One line of a change list: the old code, the new code, and the share of the old zone a split part got."""

    old: str | None = None
    new: str | None = None
    weight: str | None = None


def import_correspondence(municipality: Municipality, data, *, from_version: str, to_version: str,
                          actor: User | None) -> int:
    """A change list between two versions: `old_code;new_code[;weight]`, or SSB's
    `oldCode;oldName;newCode;newName;changeOccurred`. Every code must be a zone of the municipality; a split's
    weights lie in 0-1 and add up to at most 1. All or nothing; importing the same pair of versions again replaces
    it."""
    from_version, to_version = (from_version or "").strip()[:20], (to_version or "").strip()[:20]
    errors: list[str] = []
    if not from_version or not to_version or from_version == to_version:
        errors.append(_("Oppgi to ulike versjoner: den gamle og den nye (for eksempel 2019 og 2020)."))
    table = csvfile.TableReader(csvfile.utf8_or_latin1(data), ChangeLine, aliases=COLUMNS)
    if "old" not in table.columns or "new" not in table.columns:
        raise ImportFailed([_("Filen må ha en kolonne for gammel og en for ny kode (old_code;new_code, eller SSBs "
                              "oldCode;newCode). Fant: %(columns)s.", columns=", ".join(table.header) or "–")])
    codes = {z.code for z in db.session.scalars(db.select(Zone).filter_by(municipality_id=municipality.id))}
    lines: list[tuple[str, str, float | None]] = []
    seen = set()
    for line, row in table:
        old, new, weight = _change_line(line, row, codes, seen, errors)
        seen.add((old, new))
        lines.append((old, new, weight))
    errors = table.all_errors(errors) + _shares_over_one(lines)
    if not lines and not errors:
        errors.append(_("Filen har ingen rader."))
    if errors:
        raise ImportFailed(errors)
    db.session.execute(sa.delete(ZoneCorrespondence).where(
        ZoneCorrespondence.municipality_id == municipality.id, ZoneCorrespondence.from_version == from_version,
        ZoneCorrespondence.to_version == to_version))
    db.session.add_all([ZoneCorrespondence(municipality_id=municipality.id, from_version=from_version,
                                           to_version=to_version, old_code=o, new_code=n, weight=w)
                        for o, n, w in lines])
    db.session.flush()
    audit.record(actor, "zones.correspondence_import", "municipality", municipality.id,
                 municipality_id=municipality.id, from_version=from_version, to_version=to_version, rows=len(lines))
    return len(lines)


def _change_line(line: int, row: ChangeLine, codes: set[str], seen: set,
                 errors: list[str]) -> tuple[str, str, float | None]:
    """One line of a change list: old code, new code and the split's share, each problem added to `errors`."""
    where = _("Linje %(line)d", line=line)
    old, new = normalise_code(row.old or ""), normalise_code(row.new or "")
    weight = None
    if row.weight:
        weight, _status = number_or_symbol(row.weight, _("andelen"), where, errors)
        if weight is not None and not 0 < weight <= 1:
            errors.append(_("%(where)s: andelen %(value)s må være over 0 og høyst 1.", where=where, value=weight))
    errors += [_("%(where)s: ukjent sone %(code)s.", where=where, code=code or "–") for code in (old, new)
               if code not in codes]
    if (old, new) in seen:
        errors.append(_("%(where)s: %(old)s → %(new)s står to ganger.", where=where, old=old, new=new))
    return old, new, weight


def _shares_over_one(lines: list[tuple[str, str, float | None]]) -> list[str]:
    """A split's parts cannot get more than the whole old zone."""
    shares: dict[str, float] = {}
    for old, _new, weight in lines:
        shares[old] = shares.get(old, 0.0) + (weight or 0.0)
    return [_("Andelene for %(code)s blir til sammen %(total)s, mer enn 1.", code=old, total=round(total, 3))
            for old, total in sorted(shares.items()) if total > 1.0001]


def zones_in_force(municipality: Municipality, zones: list[Zone], year: int) -> tuple[list[Zone], dict[int, int]]:
    """The zones of the classification version in force in `year`, and a map from every zone of another version to
    the zone in force its change list leads to (step by step, e.g. 2019 -> 2020 -> 2024; or back, where the way
    back is one zone). At a split the part with the largest share (else the first code) takes the old zone's
    figures; a child is counted with their card, so each child is counted once and in one zone. A zone no change
    list leads from stays a zone of its own."""
    found = sorted({z.version for z in zones if z.version})
    if len(found) < 2:
        return zones, {}
    current = ([v for v in found if v <= str(year)] or found[:1])[-1]
    steps, backward = _change_steps(municipality)
    by_key = {(z.version or current, z.code): z for z in zones}
    remap: dict[int, int] = {}
    for z in zones:
        at = _follow((z.version or current, z.code), current, steps, backward, hops=len(found))
        target = by_key.get(at)
        if at[0] == current and target is not None and target.id != z.id:
            remap[z.id] = target.id
    shown = [z for z in zones if (z.version or current) == current or (z.id not in remap)]
    return shown, remap


def _change_steps(municipality: Municipality) -> tuple[dict, dict]:
    """The municipality's change lists as steps forward ((version, code) -> [(-share, new code, new version)]) and
    back ((version, code) -> {(old version, old code)})."""
    links = db.session.execute(sa.select(ZoneCorrespondence.from_version, ZoneCorrespondence.to_version,
                                         ZoneCorrespondence.old_code, ZoneCorrespondence.new_code,
                                         ZoneCorrespondence.weight).where(
        ZoneCorrespondence.municipality_id == municipality.id)).all()
    steps: dict[tuple[str, str], list[tuple[float, str, str]]] = {}
    backward: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for v_from, v_to, old, new, weight in links:
        steps.setdefault((v_from, old), []).append((-(weight or 0.0), new, v_to))
        backward.setdefault((v_to, new), set()).add((v_from, old))
    return steps, backward


def _follow(at: tuple[str, str], current: str, steps: dict, backward: dict, *, hops: int) -> tuple[str, str]:
    """Where a (version, code) lands in the version in force: forward by the largest share (then the first code),
    back only where the way back is one zone; it stops where no change list leads on."""
    for _hop in range(hops):
        if at[0] == current:
            break
        if at[0] < current and steps.get(at):
            _share, code, version = min(steps[at])
            at = (version, code)
        elif at[0] > current and len(backward.get(at, ())) == 1:
            at = next(iter(backward[at]))
        else:
            break
    return at

