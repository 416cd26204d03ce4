"""Voucher numbers (issue 40, item 7): every transfer gets the municipality's next number of the year, from 1 without
a gap, also when a posting is rolled back and when postings race (PostgreSQL); the voucher export lists every leg
by number for the accounting system."""

from __future__ import annotations

import csv
import io
import threading

import pytest
import sqlalchemy as sa

from opplevelseskort.core.clock import today
from opplevelseskort.extensions import db
from opplevelseskort.money import exports, ledger, services
from opplevelseskort.money.models import Account, AccountKind, Voucher

from ..conftest import login
from ..factories import make_card
from .conftest import check


def _numbers(muni) -> list[int]:
    return db.session.scalars(sa.select(Voucher.number).where(Voucher.municipality_id == muni.id)
                              .order_by(Voucher.number)).all()


def test_numbers_run_from_one_without_a_gap_even_past_a_rolled_back_posting(muni, users, scheme, kid, priced):
    services.grant(scheme)
    held = services.reserve(kid.child_id, priced, 10_000)
    services.settle(held.id)
    account = db.session.scalar(sa.select(Account).where(Account.kind == AccountKind.CHILD))
    with pytest.raises(RuntimeError), db.session.begin_nested():  # a posting whose transaction fails after it
        services.adjust(account, 5_000, "Påfyll", actor=users["admin"])
        raise RuntimeError("the request failed later")
    services.adjust(account, 5_000, "Påfyll", actor=users["admin"])
    assert _numbers(muni) == [1, 2, 3]


def test_the_voucher_export_lists_every_leg_by_number(client, muni, users, scheme, kid, priced):
    services.grant(scheme)
    services.settle(services.reserve(kid.child_id, priced, 10_000).id)
    rows = list(csv.reader(io.StringIO(exports.vouchers_csv(muni, today().year).decode("utf-8-sig")), delimiter=";"))
    assert [r[0] for r in rows[1:]] == ["1", "1", "2", "2"]  # each voucher's debit, then its credit
    assert rows[3][5] == "100,00" and rows[4][6] == "100,00" and "Sara" not in str(rows)
    login(client, users["finance"])
    answer = client.get(f"/okonomi/bilag/{today().year}.csv")
    assert answer.status_code == 200 and answer.data.startswith("\ufeff".encode())
    assert client.get("/okonomi/bilag/1999.csv").status_code == 404


@pytest.mark.pg
def test_postings_that_race_get_numbers_without_a_gap_or_a_twin(app, committing, muni, users, partner_org, zone_set,
                                                                tmp_path):
    scheme = services.create_scheme(muni, services.SchemeInput("Fritidskortet", 100_000), actor=users["admin"])
    cards = [make_card(muni, users, f"Barn{i}", birth_year=2014) for i in range(8)]
    db.session.commit()
    scheme_id, child_ids = scheme.id, [c.child_id for c in cards]
    barrier, errors = threading.Barrier(8), []

    def run(child_id):
        with app.app_context():
            from opplevelseskort.money.models import Scheme

            try:
                account = services._account(AccountKind.CHILD, muni.id, scheme_id=scheme_id, child_id=child_id,
                                            period="2026")
                source = services.budget(db.session.get(Scheme, scheme_id))
                db.session.commit()
                barrier.wait()
                ledger.post("grant", [(source, account, 1_000)], municipality_id=muni.id)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported to the test's thread
                db.session.rollback()
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(c,)) for c in child_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert _numbers(muni) == list(range(1, 9))
    check(muni, tmp_path)
