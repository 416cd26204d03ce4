"""Check-in throughput through the API under gunicorn on PostgreSQL, as a ratio to a minimal endpoint.

The baseline endpoint does the same database round-trips as a check-in (the token and its user, the offer
and its partner, the card and its child locked, the offer's occasions, a recent check-in, the insert) with
hand-written SQL and no application logic.
Both run in the same gunicorn, against the same data, in the same run.

    python -m bench.checkin_bench [--cards 5000] [--offers 200] [--seconds 10] [--workers 2] [--clients 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time

import sqlalchemy as sa
from flask import jsonify, request

from bench.common import fresh_database, generate, make_app

DB_NAME = "ok_bench_checkin"


def bench_app():
    """gunicorn entry: the real app plus /bench/baseline (only in the benchmark)."""
    from opplevelseskort.extensions import csrf, db

    app = make_app(os.environ["BENCH_URL"])

    @app.post("/bench/baseline")
    def baseline():
        import hashlib

        data = request.get_json()
        conn = db.session.connection()
        raw = request.headers.get("Authorization", "")[7:]
        conn.execute(sa.text("SELECT t.id, u.id, u.role FROM api_token t JOIN user_account u ON u.id = t.user_id "
                             "WHERE t.token_hash = :h"), {"h": hashlib.sha256(raw.encode()).hexdigest()}).one()
        card = conn.execute(sa.text("SELECT c.id, c.child_id, c.valid_from, c.valid_until, c.revoked_at, c.companions, "
                                    "ch.zone_id, ch.birth_year, ch.municipality_id FROM card c JOIN child ch ON "
                                    "ch.id = c.child_id WHERE c.short_code = :c FOR UPDATE OF c"),
                            {"c": data["code"]}).one()
        child = card
        offer = conn.execute(sa.text("SELECT o.id, o.partner_id, o.price_nok, p.status FROM offer o JOIN partner p "
                                     "ON p.id = o.partner_id WHERE o.id = :o"), {"o": data["offer_id"]}).one()
        conn.execute(sa.text("SELECT id, starts_at FROM occasion WHERE offer_id = :o"), {"o": offer.id}).all()
        conn.execute(sa.text("SELECT id FROM checkin WHERE card_id = :c AND offer_id = :o AND at > now() - "
                             "interval '3 hours' LIMIT 1"), {"c": card.id, "o": offer.id}).first()
        new_id = conn.execute(sa.text(
            "INSERT INTO checkin (card_id, child_id, offer_id, partner_id, municipality_id, at, companions, source, "
            "zone_id, age, birth_year, value_nok) VALUES (:c, :ch, :o, :p, :m, now(), 0, 'api', :z, 10, :b, :v) "
            "RETURNING id"), {"c": card.id, "ch": card.child_id, "o": offer.id, "p": offer.partner_id,
                              "m": child.municipality_id, "z": child.zone_id, "b": child.birth_year,
                              "v": offer.price_nok}).scalar()
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


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--cards", type=int, default=5000)
    ap.add_argument("--offers", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=8)
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
        half = len(codes) // 2
        # warm-up, then alternate so both endpoints see the same conditions
        _load(port, "/bench/baseline", data["token"], codes[:50], data["offer_ids"], 2, 2)
        base, base_err = _load(port, "/bench/baseline", data["token"], codes[50:half], data["offer_ids"],
                               args.seconds, args.clients)
        real, real_err = _load(port, "/api/v1/checkins", data["token"], codes[half:], data["offer_ids"],
                               args.seconds, args.clients)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    ratio = real / base if base else 0
    print(f"cards={args.cards} offers={args.offers} workers={args.workers} clients={args.clients}")
    print(f"baseline: {base:.0f} check-ins/s (errors {base_err})")
    print(f"api:      {real:.0f} check-ins/s (errors {real_err})")
    print(f"ratio api/baseline = {ratio:.2f} (target >= 0.6)")
    return ratio


if __name__ == "__main__":
    main()
