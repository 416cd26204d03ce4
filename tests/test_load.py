"""The holiday-week load scenario, short: two gunicorn nodes on PostgreSQL, scanners, families booking 15 places,
volunteers lending the same units, an analyst exporting. No 5xx, and every invariant holds in the database.
(The full run with its figures: `python -m bench.holiday_week`, README "Performance".)"""

import socket

import pytest

from opplevelseskort.core import jobs

pytestmark = pytest.mark.pg


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_short_holiday_week_keeps_every_invariant_and_no_5xx(app):
    from bench.holiday_week import run

    try:
        r = run(seconds=3, scanners_n=10, families=30, volunteers=4, workers=1, cards=400, offers=10, units=8,
                baseline_seconds=1, ports=tuple(_free_ports(2)),
                wait={"scanner": 0.05, "family": 0.2, "volunteer": 0.05, "analyst": 0.5})
    finally:
        jobs.init_app(app)  # the benchmark made its own app (a real queue) in this process: the suite's back
    assert r["server_errors"] == 0, r["statuses"]
    assert r["invariants"] == {"occasions_over_capacity": 0, "place_counter_drift": 0, "units_lent_twice": 0,
                               "visits_counted_twice": 0, "booked": 15}
    assert r["statuses"]["checkin"].get(201, 0) > 0 and set(r["statuses"]["checkin_repeat"]) == {200}
    assert r["statuses"]["booking"] == {302: 30}
    assert set(r["statuses"]["loan"]) <= {201, 409} and r["statuses"]["loan"].get(201) == 8
