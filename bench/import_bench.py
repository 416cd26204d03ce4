"""Reading an uploaded household CSV: peak memory and rows per second for a small and a large file.

Each size is read in a fresh process (its peak RSS is the process's own) by the job's reader,
`core.csvfile.read_table` with the household row model: decode, split, validate every row (the database checks
that follow it, zones and duplicates, are left out: they cost the same per row whatever the reader). The baseline is
the same process reading the small file, so the ratio says how memory grows with the file: 1.0 is a streaming
reader, about the size ratio is a reader that holds the whole file.

    python -m bench.import_bench [--small-mb 15] [--large-mb 100] [--runs 3]
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


def _measure(path: str) -> None:
    """In a child process: read the file once, print its wall seconds, CPU seconds and peak RSS."""
    import resource

    import psutil

    from opplevelseskort import create_app
    from opplevelseskort.cards.applications import HouseholdRow
    from opplevelseskort.core import csvfile

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SKIP_LOGGING_CONFIG": True, "TESTING": True,
                      "SECRET_KEY": "bench", "INSTANCE_PATH": tempfile.mkdtemp()})
    proc = psutil.Process()
    with app.app_context():
        data = Path(path).read_bytes()  # what the job gets from storage
        cpu0, t0 = proc.cpu_times(), time.perf_counter()
        table = csvfile.read_table(data, HouseholdRow, exact=True)
        wall, cpu1 = time.perf_counter() - t0, proc.cpu_times()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": len(table.rows), "errors": len(table.errors), "wall": wall,
                      "cpu": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system), "peak_mib": peak_kib / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small-mb", type=int, default=15)
    parser.add_argument("--large-mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        _measure(args.measure)
        return
    folder = Path(tempfile.mkdtemp())
    files = {}
    for label, mb in (("small", args.small_mb), ("large", args.large_mb)):
        files[label] = folder / f"{label}.csv"
        files[label + "_rows"] = _write(files[label], mb)
    results = {"small": [], "large": []}
    for _ in range(args.runs):
        for label in ("small", "large"):
            out = subprocess.run([sys.executable, "-m", "bench.import_bench", "--measure", str(files[label])],
                                 capture_output=True, text=True, check=True).stdout
            results[label].append(json.loads(out.strip().splitlines()[-1]))

    def mmm(values):
        v = sorted(values)
        return f"{v[0]:.2f}/{statistics.median(v):.2f}/{v[-1]:.2f}"

    for label in ("small", "large"):
        r = results[label]
        print(f"{label}: {files[label + '_rows']} rows, {files[label].stat().st_size / 2**20:.0f} MiB; peak RSS MiB "
              f"{mmm([x['peak_mib'] for x in r])}; wall s {mmm([x['wall'] for x in r])}; CPU s "
              f"{mmm([x['cpu'] for x in r])}; rows/s {mmm([x['rows'] / x['wall'] for x in r])}")
    ratios = [b["peak_mib"] / a["peak_mib"] for a, b in zip(results["small"], results["large"], strict=True)]
    print(f"peak memory ratio large/small (min/median/max): {mmm(ratios)} (goal <= 1.5: streaming)")


if __name__ == "__main__":
    main()
