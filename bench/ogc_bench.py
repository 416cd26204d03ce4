"""OGC API items: a page of 100 from a collection of 1,000 zones against one of 10,000 (issue 36, item 7).

Each collection is a stored yearly publication's features (`report_feature`), as the build job leaves them. For
each size the same requests run interleaved: the first page, a page in the middle, a page with a bbox that meets
300 zones in either collection; wall and CPU (psutil) per request (each sample the mean of 20 requests),
min/median/max over `--runs`, and the ratio of the 10,000-zone collection to the 1,000-zone one measured in the
same minute (goal <= 1.5).

    python -m bench.ogc_bench [--runs 5] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime

import psutil

BATCH = 20


def _spread(values) -> str:
    return f"{min(values):.4f}/{statistics.median(values):.4f}/{max(values):.4f}"


def _world(db, sizes):
    from opplevelseskort.accounts import tokens
    from opplevelseskort.core import municipalities
    from opplevelseskort.core.models import Role
    from opplevelseskort.partners.services import create_staff_user
    from opplevelseskort.reports.models import ReportFeature, ReportPublication
    from opplevelseskort.reports.store import settings_key
    from opplevelseskort.zones.models import Zone

    out = {}
    for i, n in enumerate(sizes):
        muni = municipalities.get_or_create_municipality(f"{3100 + i}", f"Bench {n}")
        zones = []
        for z in range(n):
            lon, lat = 10 + (z % 100) * 0.01, 59 + (z // 100) * 0.01
            ring = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]
            zones.append(Zone(municipality_id=muni.id, code=f"{muni.number}{z:06d}", name=f"Sone {z}",
                              level="grunnkrets", boundary=json.dumps({"type": "Polygon", "coordinates": [ring]}),
                              min_lon=lon, min_lat=lat, max_lon=lon + 0.01, max_lat=lat + 0.01))
        db.session.add_all(zones)
        db.session.flush()
        built = datetime(2026, 12, 1, tzinfo=UTC)
        row = ReportPublication(municipality_id=muni.id, period="2026", settings=settings_key(), data_version="x",
                                built_at=built, content={})
        db.session.add(row)
        db.session.flush()
        db.session.execute(ReportFeature.__table__.insert(), [
            {"publication_id": row.id, "built_at": built, "level": "grunnkrets", "position": p, "zone_id": z.id,
             "code": z.code, "properties": {"code": z.code, "name": z.name, "children_with_card": 30 + p % 7,
                                            "active_children": 17, "uptake": 0.55},
             "min_lon": z.min_lon, "min_lat": z.min_lat, "max_lon": z.max_lon, "max_lat": z.max_lat}
            for p, z in enumerate(zones)])
        user = create_staff_user(f"ogc{n}@bench.no", "bench passphrase 47", Role.ANALYST, municipality_id=muni.id)
        out[n] = (muni.number, tokens.create_token(user, "bench")[1])
    db.session.commit()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    from bench.common import fresh_database, make_app
    from opplevelseskort.extensions import db

    url = fresh_database("bench_ogc") if args.database == "postgresql" else "sqlite:////tmp/bench-ogc.sqlite3"
    if url.startswith("sqlite:////"):
        import os

        if os.path.exists(url[len("sqlite:///"):]):
            os.remove(url[len("sqlite:///"):])
    app = make_app(url, SERVER_NAME="localhost", API_TOKEN_CACHE_SECONDS=0)
    sizes = (1000, 10000)
    with app.app_context():
        db.create_all()
        world = _world(db, sizes)
    client = app.test_client()
    proc = psutil.Process()
    pages = {"first page": "limit=100&offset=0", "middle page": "offset={mid}&limit=100",
             "bbox page": "limit=100&bbox=10.001,59.001,10.295,59.095"}
    results = {(n, name): ([], []) for n in sizes for name in pages}
    for _run in range(args.runs):
        for name, query in pages.items():
            for n in sizes:  # interleaved: the two sizes share the machine's state
                number, token = world[n]
                path = f"/api/v1/ogc/{number}/collections/opptak-2026-grunnkrets/items?" + query.format(mid=n // 2)
                cpu0, t0 = proc.cpu_times(), time.perf_counter()
                for _request in range(BATCH):  # CPU is counted in clock ticks: a batch per sample
                    r = client.get(path, headers={"Authorization": f"Bearer {token}"})
                    assert r.status_code == 200 and r.json["numberReturned"] == 100, (r.status_code, r.text[:200])
                wall = (time.perf_counter() - t0) / BATCH
                cpu1 = proc.cpu_times()
                results[(n, name)][0].append(wall)
                results[(n, name)][1].append(((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)) / BATCH)
    print(f"OGC API items ({args.database}), a page of 100, {args.runs} runs, min/median/max:")
    for name in pages:
        small, large = results[(1000, name)], results[(10000, name)]
        ratio = [b / a for a, b in zip(small[0], large[0], strict=True)]
        cpu_ratio = [b / a for a, b in zip(small[1], large[1], strict=True) if a]
        print(f"  {name}: 1,000 zones wall {_spread(small[0])} s (CPU {_spread(small[1])} s); 10,000 zones wall "
              f"{_spread(large[0])} s (CPU {_spread(large[1])} s); ratio 10,000/1,000 wall {_spread(ratio)}, "
              f"CPU {_spread(cpu_ratio or [0])}")


if __name__ == "__main__":
    main()
