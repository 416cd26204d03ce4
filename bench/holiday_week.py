"""A holiday week at county scale: two app nodes (gunicorn) on one PostgreSQL, everyone at once.

- scanners at partners' doors check cards in through the API (each card scanned twice: the second is a repeat),
- families browse the catalogue and book an activity week with 15 places (many more families than places),
- volunteers lend equipment, several of them reaching for the same units,
- an analyst exports the uptake report every 30 s (served from the stored publication, which the schedule has
  built as it does in production; a request never solves),

with the rate limiter on (Redis) on both nodes.

The baseline is the raw-SQL check-in endpoint of `bench.checkin_bench` (the same database round-trips, no
application logic), loaded by the same number of scanners on the same two nodes in the same run. Afterwards the
invariants are counted in the database: booked rows never above the places (and equal to the counter), never
two open loans of one unit, never two counted visits of one card at one offer inside the repeat window.

    python -m bench.holiday_week [--seconds 20] [--scanners 50] [--families 120] [--volunteers 6]
                                 [--workers 2] [--cards 6000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psutil
import sqlalchemy as sa

from bench.common import fresh_database, generate, make_app

DB_NAME = "ok_bench_holiday"


@dataclass
class Stats:
    latencies: dict = field(default_factory=lambda: defaultdict(list))
    statuses: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[kind][status] += 1

    def p95(self, kind: str) -> float:
        values = sorted(self.latencies[kind])
        return values[int(0.95 * (len(values) - 1))] * 1000 if values else 0.0

    def count(self, kind: str) -> int:
        return len(self.latencies[kind])

    def server_errors(self) -> int:
        return sum(n for kinds in self.statuses.values() for status, n in kinds.items() if status >= 500)


class Client:
    """One person at one device: their own address (X-Forwarded-For, as nginx sets it), so the rate limits count
    each family, door and desk apart, as they do in production."""

    _next = [0]

    def __init__(self, port: int, stats: Stats, token: str | None = None):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.stats, self.token = stats, token
        self._next[0] += 1
        self.address = f"10.{self._next[0] // 65536 % 256}.{self._next[0] // 256 % 256}.{self._next[0] % 256}"

    def call(self, kind: str, method: str, path: str, body=None, form: dict | None = None) -> int:
        headers = {"X-Forwarded-For": self.address}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body), "application/json"
        elif form is not None:
            from urllib.parse import urlencode

            data, headers["Content-Type"] = urlencode(form), "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, data, headers)
            resp = self.conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            self.conn.close()
            status = 599
        self.stats.add(kind, time.perf_counter() - started, status)
        return status


def setup(url: str, cards: int, offers: int, volunteers: int, units: int) -> dict:
    """The county's data: cards and offers (bench.common), an activity week of 15 places, a lending central."""
    app = make_app(url)
    from opplevelseskort.accounts import services as accounts
    from opplevelseskort.accounts import tokens
    from opplevelseskort.core.models import Municipality, Role
    from opplevelseskort.extensions import db
    from opplevelseskort.partners.models import Occasion, Offer

    with app.app_context():
        data = generate(db, cards, offers)
        muni = db.session.scalar(db.select(Municipality))
        from utstyr.models import ItemType, Location
        from utstyr.services import add_units

        week = db.session.get(Offer, data["offer_ids"][0])
        week.requires_booking, week.title = True, "Aktivitetsuke"
        start = datetime.now(UTC) + timedelta(days=7)
        occasion = Occasion(offer_id=week.id, starts_at=start, ends_at=start + timedelta(days=5), capacity=15,
                            booked=0)
        db.session.add(occasion)
        loc = Location(municipality_id=muni.id, name="Utstyrssentralen")
        skis = ItemType(municipality_id=muni.id, name="Ski", category="ski", size="150 cm", default_loan_days=7)
        db.session.add_all([loc, skis])
        db.session.flush()
        vol_tokens = []
        for i in range(volunteers):
            user = accounts.create_user(f"frivillig{i}@bench.no", "ski og staver 7", Role.VOLUNTEER,
                                    municipality_id=muni.id)
            loc.volunteers.append(user)
            vol_tokens.append(tokens.create_token(user, "disk")[1])
        unit_codes = [u.label_code for u in add_units(skis, loc, units)]
        analyst = accounts.create_user("analytiker@bench.no", "tall og kart 9", Role.ANALYST, municipality_id=muni.id)
        analyst_token = tokens.create_token(analyst, "export")[1]
        db.session.commit()
        from opplevelseskort.reports import jobs as report_jobs
        from opplevelseskort.reports import periods as report_services

        # what the schedule has done before the week starts: the year's publication is built and stored
        report_jobs.build_and_store(muni, report_services.parse_period(str(data["year"])))
        db.session.commit()
        family_tokens = list(db.session.scalars(sa.text("SELECT family_token FROM card ORDER BY id DESC")))
        data.update(occasion_id=occasion.id, unit_codes=unit_codes, volunteer_tokens=vol_tokens,
                    analyst_token=analyst_token, family_tokens=family_tokens, week_id=week.id)
    return data


def start_nodes(url: str, workers: int, ports: list[int]) -> list[subprocess.Popen]:
    env = {**os.environ, "BENCH_URL": url}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    procs = [subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
                               "--log-level", "warning", "bench.checkin_bench:bench_app()"], env=env, cwd=root)
             for port in ports]
    for port in ports:
        for _ in range(150):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
    return procs


def _workers_cpu(procs) -> float:
    """CPU seconds (user + system) of every gunicorn worker of the nodes (psutil)."""
    total = 0.0
    for p in procs:
        try:
            total += sum(sum(c.cpu_times()[:2]) for c in psutil.Process(p.pid).children())
        except psutil.Error:
            pass
    return total


def _run(threads: list[threading.Thread], procs=()) -> tuple[float, float]:
    """Run the threads; the wall seconds and the workers' CPU seconds it took."""
    cpu0 = _workers_cpu(procs)
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started, _workers_cpu(procs) - cpu0


WAIT = {"scanner": 1.0, "family": 3.0, "volunteer": 2.0, "analyst": 30.0}  # think time between actions (s)


def _pause(kind: str, wait: dict | None) -> None:
    seconds = (wait or WAIT).get(kind, 0)
    if seconds:
        time.sleep(seconds * (0.5 + random.random()))  # spread around the mean, as people do


def scanners(ports, stats: Stats, kind: str, path: str, token: str, codes: list[str], offer_ids: list[int],
             n: int, seconds: float, repeat: bool, wait: dict | None = None) -> list[threading.Thread]:
    """n scanners, each with its own cards, one card about every `wait["scanner"]` seconds (a queue at the
    door); with `repeat` every fourth card is scanned again at once (the repeat is not counted)."""
    stop = time.monotonic() + seconds
    per = max(1, len(codes) // n)

    def scanner(i):
        client = Client(ports[i % len(ports)], stats, token)
        mine = codes[i * per:(i + 1) * per]
        _pause("scanner", wait)
        for j, code in enumerate(mine):
            if time.monotonic() > stop:
                return
            body = {"code": code, "offer_id": offer_ids[1 + (i % (len(offer_ids) - 1))], "companions": 0}
            client.call(kind, "POST", path, body)
            if repeat and j % 4 == 0:
                client.call(kind + "_repeat", "POST", path, body)
            _pause("scanner", wait)

    return [threading.Thread(target=scanner, args=(i,)) for i in range(n)]


def scenario(ports, data: dict, stats: Stats, *, seconds: float, n_scanners: int, n_families: int,
             n_volunteers: int, wait: dict | None = None, codes: list[str] | None = None,
             checkin_path: str = "/api/v1/checkins", full: bool = True) -> list[threading.Thread]:
    """The week's traffic. With full=False (the baseline run) the families only browse, and nobody books,
    lends or exports: the scanners meet the same page traffic without changing the data the real run checks."""
    stop = time.monotonic() + seconds
    codes = codes if codes is not None else data["short_codes"][len(data["short_codes"]) // 2:]
    threads = scanners(ports, stats, "checkin", checkin_path, data["token"], codes, data["offer_ids"],
                       n_scanners, seconds, repeat=full, wait=wait)

    def family(i):
        client = Client(ports[i % len(ports)], stats)
        token = data["family_tokens"][i]
        _pause("family", wait)  # families arrive over the first seconds, not in the same millisecond
        client.call("catalogue", "GET", "/tilbud")
        client.call("offer_page", "GET", f"/tilbud/{data['week_id']}?kort={token}")
        if full:
            client.call("booking", "POST", f"/kort/{token}/pamelding/{data['occasion_id']}", form={})
        while time.monotonic() < stop:
            _pause("family", wait)
            client.call("catalogue", "GET", f"/tilbud?q=Offer+{i % 50}")

    def volunteer(i):
        client = Client(ports[i % len(ports)], stats, data["volunteer_tokens"][i % len(data["volunteer_tokens"])])
        units = data["unit_codes"]
        k = 0
        _pause("volunteer", wait)
        while time.monotonic() < stop:
            # Neighbouring desks reach for overlapping units: some loans are refused with 409, none twice.
            code = units[(i + k) % len(units)]
            card = data["short_codes"][(i * 97 + k) % (len(data["short_codes"]) // 2)]
            client.call("loan", "POST", "/api/v1/loans", {"unit_codes": [code], "card_code": card})
            k += n_volunteers // 2 + 1
            _pause("volunteer", wait)

    def analyst():
        client = Client(ports[0], stats, data["analyst_token"])
        while time.monotonic() < stop:
            client.call("export", "GET", f"/api/v1/reports/uptake?period={data['year']}&format=csv")
            time.sleep((wait or WAIT)["analyst"])  # every 30 s, the first at once

    threads += [threading.Thread(target=family, args=(i,)) for i in range(n_families)]
    if full:
        threads += [threading.Thread(target=volunteer, args=(i,)) for i in range(n_volunteers)]
        threads.append(threading.Thread(target=analyst))
    return threads


def invariants(url: str) -> dict[str, int]:
    """Counted in the database after the run: every figure must be 0."""
    engine = sa.create_engine(url)
    window = 180
    with engine.connect() as conn:
        out = {
            "occasions_over_capacity": conn.execute(sa.text(
                "SELECT count(*) FROM occasion o WHERE o.capacity IS NOT NULL AND "
                "(SELECT count(*) FROM booking b WHERE b.occasion_id = o.id AND b.status = 'booked') > o.capacity"
            )).scalar(),
            "place_counter_drift": conn.execute(sa.text(
                "SELECT count(*) FROM occasion o WHERE o.booked <> "
                "(SELECT count(*) FROM booking b WHERE b.occasion_id = o.id AND b.status = 'booked')")).scalar(),
            "units_lent_twice": conn.execute(sa.text(
                "SELECT count(*) FROM (SELECT unit_id FROM loan_line WHERE returned_at IS NULL GROUP BY unit_id "
                "HAVING count(*) > 1) x")).scalar(),
            "visits_counted_twice": conn.execute(sa.text(
                "SELECT count(*) FROM checkin a JOIN checkin b ON a.card_id = b.card_id AND a.offer_id = b.offer_id "
                "AND a.id < b.id AND a.voided_at IS NULL AND b.voided_at IS NULL "
                f"AND b.at - a.at < interval '{window} minutes'")).scalar(),
        }
        out["booked"] = conn.execute(sa.text("SELECT count(*) FROM booking WHERE status = 'booked'")).scalar()
    engine.dispose()
    return out


def run(*, seconds: float = 20, scanners_n: int = 50, families: int = 120, volunteers: int = 6, workers: int = 2,
        cards: int = 6000, offers: int = 100, units: int = 40, baseline_seconds: float | None = None,
        ports=(8771, 8772), wait: dict | None = None) -> dict:
    url = fresh_database(DB_NAME)
    data = setup(url, cards, offers, volunteers, units)
    procs = start_nodes(url, workers, list(ports))
    try:
        base_stats, stats = Stats(), Stats()
        first_half = data["short_codes"][: len(data["short_codes"]) // 2]
        warm = Stats()
        _run(scanners(ports, warm, "warm", "/bench/baseline", data["token"], first_half[:100], data["offer_ids"],
                      4, 2, repeat=False))
        base_elapsed, base_cpu = _run(scenario(ports, data, base_stats, seconds=baseline_seconds or seconds,
                                               n_scanners=scanners_n, n_families=families, n_volunteers=0, wait=wait,
                                               codes=first_half[100:], checkin_path="/bench/baseline", full=False),
                                      procs)
        elapsed, cpu = _run(scenario(ports, data, stats, seconds=seconds, n_scanners=scanners_n, n_families=families,
                                     n_volunteers=volunteers, wait=wait), procs)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(15)
    total = sum(stats.count(k) for k in stats.latencies)
    return {
        "elapsed": elapsed, "requests": total, "rps": total / elapsed,
        "checkin_rps": stats.count("checkin") / elapsed, "checkin_p95_ms": stats.p95("checkin"),
        "baseline_rps": base_stats.count("checkin") / base_elapsed, "baseline_p95_ms": base_stats.p95("checkin"),
        "server_errors": stats.server_errors() + base_stats.server_errors(),
        "max_ms": max((max(v) for v in stats.latencies.values() if v), default=0) * 1000,
        "cpu_per_request_ms": cpu / max(total, 1) * 1000,
        "base_cpu_per_request_ms": base_cpu / max(sum(base_stats.count(k) for k in base_stats.latencies), 1) * 1000,
        "statuses": {k: dict(v) for k, v in stats.statuses.items()},
        "p95_ms": {k: round(stats.p95(k), 1) for k in stats.latencies},
        "invariants": invariants(url),
    }


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--scanners", type=int, default=50)
    ap.add_argument("--families", type=int, default=120)
    ap.add_argument("--volunteers", type=int, default=6)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cards", type=int, default=6000)
    ap.add_argument("--scan-every", type=float, default=WAIT["scanner"], help="seconds between scans per door")
    ap.add_argument("--family-every", type=float, default=WAIT["family"], help="seconds between pages per family")
    args = ap.parse_args(argv)
    wait = {**WAIT, "scanner": args.scan_every, "family": args.family_every}
    r = run(seconds=args.seconds, scanners_n=args.scanners, families=args.families, volunteers=args.volunteers,
            workers=args.workers, cards=args.cards, wait=wait)
    print(f"2 nodes x {args.workers} gunicorn workers, {args.scanners} scanners (a scan every ~{args.scan_every} s "
          f"each), {args.families} families (a page every ~{args.family_every} s), {args.volunteers} volunteers, "
          f"1 analyst, {r['elapsed']:.0f} s")
    print(f"all requests:      {r['rps']:.0f}/s ({r['requests']} requests, {r['server_errors']} 5xx)")
    print(f"check-in (app):    {r['checkin_rps']:.0f}/s, p95 {r['checkin_p95_ms']:.0f} ms")
    print(f"check-in baseline: {r['baseline_rps']:.0f}/s, p95 {r['baseline_p95_ms']:.0f} ms (raw SQL, same nodes, "
          "same families browsing)")
    print(f"ratio app/baseline: throughput {r['checkin_rps'] / max(r['baseline_rps'], 1e-9):.2f}, "
          f"p95 {r['checkin_p95_ms'] / max(r['baseline_p95_ms'], 1e-9):.2f}")
    print(f"slowest request: {r['max_ms']:.0f} ms (goal: none over 2000 ms)")
    print(f"worker CPU per request (psutil, all kinds): {r['cpu_per_request_ms']:.1f} ms in the week's mix; "
          f"{r['base_cpu_per_request_ms']:.1f} ms in the baseline run (raw-SQL check-ins, families browsing)")
    print("p95 by request (ms):", r["p95_ms"])
    print("statuses:", r["statuses"])
    print("invariants (all must be 0 but booked = 15):", r["invariants"])
    return r


if __name__ == "__main__":
    main()
