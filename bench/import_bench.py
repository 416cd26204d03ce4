"""A household import as the worker runs it: peak memory and rows per second for a small and a large CSV.

Each size runs in a fresh process (its peak RSS is the process's own) on a SQLite file database: the file is
stored as an upload is (chunk by chunk), then `applications.import_households` reads it back a chunk at a time,
checks every row (pydantic model, guardian and child rules, zone lookup, duplicate check against active cards)
and stages it; the small and large files are previews (the first pass and the counts), and a third, smaller file
is imported for real (households, children, cards and audit rows written) for the writing rate. The baseline is the
same run on the small file, so the ratio says how memory grows with the file: 1.0 is streaming, about the size
ratio is an import that holds the whole file.

    python -m bench.import_bench [--small-mb 15] [--large-mb 100] [--write-mb 2] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROW = ("Kari Nordmann-Hansen;9{n:07d};kari.nordmann.hansen{n}@example.org;nb;Emma Sofie;Nordmann-Hansen;2014;5;jente;"
       "30010101;NAV;2026-01-01;2026-12-31\n")


def _write(path: Path, megabytes: int) -> int:
    from opplevelseskort.cards.applications import IMPORT_COLUMNS

    target = megabytes * 1024 * 1024
    rows = 0
    with path.open("w", encoding="utf-8") as f:
        f.write(";".join(IMPORT_COLUMNS) + "\n")
        size = 0
        while size < target:
            line = ROW.format(n=rows)
            f.write(line)
            size += len(line)
            rows += 1
    return rows


def _measure(path: str, write: bool) -> None:
    """In a child process: store the file as an upload is stored (chunk by chunk), run the household import job's
    work on it (every row checked, zones looked up, staged; households written when `write`), print wall and CPU
    seconds and peak RSS."""
    import resource

    import psutil

    from opplevelseskort import create_app
    from opplevelseskort.accounts.services import create_user
    from opplevelseskort.cards import applications
    from opplevelseskort.core import files
    from opplevelseskort.core.models import Municipality, Role
    from opplevelseskort.extensions import db
    from opplevelseskort.zones.models import Zone

    folder = tempfile.mkdtemp()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db", "SKIP_LOGGING_CONFIG": True,
                      "TESTING": True, "SECRET_KEY": "bench", "INSTANCE_PATH": folder})
    proc = psutil.Process()
    with app.app_context():
        db.create_all()
        muni = Municipality(number="3001", name="Halden")
        db.session.add(muni)
        db.session.flush()
        db.session.add(Zone(municipality_id=muni.id, code="30010101", name="Sentrum", level="grunnkrets"))
        actor = create_user("bench@example.org", "Tre blå hester i Halden 2026", Role.CASEWORKER, municipality_id=muni.id)
        with open(path, "rb") as fh:
            files.put_stream("upload/bench", fh, "text/csv")
        db.session.commit()
        cpu0, t0 = proc.cpu_times(), time.perf_counter()
        preview = applications.import_households(muni, lambda: files.open_stream("upload/bench"), actor=actor,
                                                 dry_run=not write)
        db.session.commit()
        wall, cpu1 = time.perf_counter() - t0, proc.cpu_times()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": preview.children, "duplicates": preview.duplicate_count, "wall": wall,
                      "cpu": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system), "peak_mib": peak_kib / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small-mb", type=int, default=15)
    parser.add_argument("--large-mb", type=int, default=100)
    parser.add_argument("--write-mb", type=int, default=2, help="size of the file imported for real (rows/s)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--write", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        _measure(args.measure, args.write)
        return
    folder = Path(tempfile.mkdtemp())
    files = {}
    for label, mb in (("small", args.small_mb), ("large", args.large_mb), ("write", args.write_mb)):
        files[label] = folder / f"{label}.csv"
        files[label + "_rows"] = _write(files[label], mb)
    results = {"small": [], "large": [], "write": []}
    for _ in range(args.runs):
        for label in ("small", "large", "write"):
            out = subprocess.run([sys.executable, "-m", "bench.import_bench", "--measure", str(files[label]),
                                  *(["--write"] if label == "write" else [])],
                                 capture_output=True, text=True, check=True).stdout
            results[label].append(json.loads(out.strip().splitlines()[-1]))

    def mmm(values):
        v = sorted(values)
        return f"{v[0]:.2f}/{statistics.median(v):.2f}/{v[-1]:.2f}"

    for label in ("small", "large", "write"):
        r = results[label]
        print(f"{label}: {files[label + '_rows']} rows, {files[label].stat().st_size / 2**20:.0f} MiB; peak RSS MiB "
              f"{mmm([x['peak_mib'] for x in r])}; wall s {mmm([x['wall'] for x in r])}; CPU s "
              f"{mmm([x['cpu'] for x in r])}; rows/s {mmm([x['rows'] / x['wall'] for x in r])}")
    ratios = [b["peak_mib"] / a["peak_mib"] for a, b in zip(results["small"], results["large"], strict=True)]
    print(f"peak memory ratio large/small (min/median/max): {mmm(ratios)} (goal <= 1.5: streaming)")


if __name__ == "__main__":
    main()
