"""Check-in through the API under gunicorn on PostgreSQL, as a ratio to a raw-SQL endpoint: CPU per request and
throughput.

The baseline endpoint runs the statements a check-in runs, written by hand with no application logic: the token
and its user, the offer with its partner and today's occasions, the card and its child locked, and one INSERT ...
SELECT ... WHERE NOT EXISTS (a repeat) RETURNING id; it counts a card look-up against the rate limiter as the API
does. Both run in the same gunicorn, against the same data, with the rate limiter on (Redis), alternating
`--rounds` times. CPU is the gunicorn workers' own (psutil, user + system) per request served, which holds up on a
busy machine where wall time does not.

    python -m bench.checkin_bench [--cards 12000] [--offers 200] [--seconds 8] [--workers 2] [--clients 8] [--rounds 3]
                                  [--beside-tests]

`--beside-tests` runs the test suite (SQLite, no browser) beside the measured rounds, as a busy machine does: the
ratio must hold there too (issue 38: >= 0.85 quiet and busy).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time

import psutil
import sqlalchemy as sa
from flask import jsonify, request

from bench.common import LIMITER_ON, fresh_database, generate, make_app

DB_NAME = "ok_bench_checkin"


def bench_app():
    """gunicorn entry: the real app plus /bench/baseline (only in the benchmark)."""
    from opplevelseskort.core.ratelimit import hit_card_lookup
    from opplevelseskort.extensions import csrf, db

    app = make_app(os.environ["BENCH_URL"], **LIMITER_ON, PROXY_FIX_X_FOR=1)  # behind one proxy, as deployed

    @app.post("/bench/baseline")
    def baseline():
        import hashlib

        data = request.get_json()
        conn = db.session.connection()
        raw = request.headers.get("Authorization", "")[7:]
        user = conn.execute(sa.text(
            "SELECT t.id, u.id, u.role, m.partner_id FROM api_token t JOIN user_account u ON u.id = t.user_id "
            "LEFT JOIN partner_member m ON m.user_id = u.id WHERE t.token_hash = :h"),
            {"h": hashlib.sha256(raw.encode()).hexdigest()}).one()
        offer = conn.execute(sa.text(
            "SELECT o.id AS offer_id, o.partner_id, o.price_nok, p.status, EXISTS (SELECT 1 FROM occasion x WHERE"
            " x.offer_id = o.id) AS dated, oc.id AS occasion_id FROM offer o JOIN partner p ON p.id = o.partner_id"
            " LEFT JOIN occasion oc ON oc.offer_id = o.id"
            " AND oc.starts_at >= date_trunc('day', now()) AND oc.starts_at < date_trunc('day', now()) + interval '1 day'"
            " WHERE o.id = :o"), {"o": data["offer_id"]}).first()
        hit_card_lookup()
        card = conn.execute(sa.text("SELECT c.id, c.child_id, c.valid_from, c.valid_until, c.revoked_at, c.companions, "
                                    "ch.zone_id, ch.birth_year, ch.municipality_id FROM card c JOIN child ch ON "
                                    "ch.id = c.child_id WHERE c.short_code = :c FOR UPDATE OF c"),
                            {"c": data["code"]}).one()
        new_id = conn.execute(sa.text(
            "INSERT INTO checkin (card_id, child_id, offer_id, partner_id, municipality_id, recorded_by_id, at,"
            " companions, source, zone_id, age, birth_year, value_nok) SELECT :c, :ch, :o, :p, :m, :u, now(), 0, 'api',"
            " :z, 10, :b, :v WHERE NOT EXISTS (SELECT 1 FROM checkin WHERE card_id = :c AND offer_id = :o AND"
            " voided_at IS NULL AND at > now() - interval '3 hours') RETURNING id"),
            {"c": card.id, "ch": card.child_id, "o": offer.offer_id, "p": offer.partner_id, "m": card.municipality_id,
             "u": user[1], "z": card.zone_id, "b": card.birth_year, "v": offer.price_nok}).scalar()
        db.session.commit()
        return jsonify({"id": new_id}), 201

    csrf.exempt(baseline)
    return app


def _load(port: int, path: str, token: str, codes: list[str], offer_ids: list[int], seconds: float, clients: int):
    done, errors, lock = [0], [0], threading.Lock()
    stop = time.monotonic() + seconds
    it = iter(range(len(codes)))

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            with lock:
                i = next(it, None)
            if i is None:
                return
            body = json.dumps({"code": codes[i], "offer_id": offer_ids[i % len(offer_ids)], "companions": 0})
            conn.request("POST", path, body, {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
            resp = conn.getresponse()
            resp.read()
            with lock:
                if resp.status == 201:
                    done[0] += 1
                else:
                    errors[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0] / (time.monotonic() - started), errors[0]


def _workers_cpu(master: psutil.Process) -> float:
    return sum(sum(c.cpu_times()[:2]) for c in master.children())


def _phase(master, port, path, token, codes, offer_ids, seconds, clients) -> dict:
    cpu0 = _workers_cpu(master)
    t0 = time.monotonic()
    rate, errors = _load(port, path, token, codes, offer_ids, seconds, clients)
    served = rate * (time.monotonic() - t0)
    return {"rate": rate, "errors": errors, "cpu_ms": (_workers_cpu(master) - cpu0) / max(served, 1) * 1000}


def _spread(values) -> str:
    v = sorted(values)
    return f"{v[0]:.2f}/{statistics.median(v):.2f}/{v[-1]:.2f}"


def _busy() -> subprocess.Popen:
    """The test suite (SQLite, no browser, two workers) running in its own process group beside the bench."""
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "CI")}
    return subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", "-m",
                             "not browser", "tests"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--cards", type=int, default=12000)
    ap.add_argument("--offers", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--beside-tests", action="store_true", help="run the test suite beside the measured rounds")
    args = ap.parse_args(argv)
    url = fresh_database(DB_NAME)
    app = make_app(url)
    from opplevelseskort.extensions import db

    with app.app_context():
        data = generate(db, args.cards, args.offers)
    env = {**os.environ, "BENCH_URL": url}
    port = 8765
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
                             "--log-level", "warning", "bench.checkin_bench:bench_app()"], env=env)
    master = psutil.Process(proc.pid)
    rounds = []
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/api/v1/openapi.json")
                c.getresponse().read()
                break
            except OSError:
                time.sleep(0.2)
        codes = data["short_codes"]
        # every card is scanned once: a fresh slice per phase, the same conditions for both endpoints
        size = len(codes) // (2 * args.rounds + 2)  # two warm-ups, then a baseline and an API phase per round
        slices = iter(codes[i:i + size] for i in range(0, len(codes), size))
        _load(port, "/bench/baseline", data["token"], next(slices)[:200], data["offer_ids"], 2, 2)  # warm-up
        _load(port, "/api/v1/checkins", data["token"], next(slices)[:200], data["offer_ids"], 2, 2)
        suite = _busy() if args.beside_tests else None
        for _ in range(args.rounds):
            base = _phase(master, port, "/bench/baseline", data["token"], next(slices), data["offer_ids"],
                          args.seconds, args.clients)
            real = _phase(master, port, "/api/v1/checkins", data["token"], next(slices), data["offer_ids"],
                          args.seconds, args.clients)
            rounds.append((base, real))
    finally:
        if args.beside_tests and suite is not None and suite.poll() is None:
            os.killpg(suite.pid, signal.SIGTERM)
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    print(f"cards={args.cards} offers={args.offers} workers={args.workers} clients={args.clients} "
          f"rounds={args.rounds} (rate limiter on, Redis){' beside the test suite' if args.beside_tests else ''}")
    print(f"baseline: {_spread([b['rate'] for b, _r in rounds])} check-ins/s, CPU "
          f"{_spread([b['cpu_ms'] for b, _r in rounds])} ms each (errors {sum(b['errors'] for b, _r in rounds)})")
    print(f"api:      {_spread([r['rate'] for _b, r in rounds])} check-ins/s, CPU "
          f"{_spread([r['cpu_ms'] for _b, r in rounds])} ms each (errors {sum(r['errors'] for _b, r in rounds)})")
    cpu = [b["cpu_ms"] / r["cpu_ms"] for b, r in rounds]
    rate = [r["rate"] / b["rate"] for b, r in rounds]
    print(f"CPU ratio baseline/api (min/median/max): {_spread(cpu)} (goal >= 0.85)")
    print(f"throughput ratio api/baseline (min/median/max): {_spread(rate)}")
    return cpu, rate


if __name__ == "__main__":
    main()
