import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from opplevelseskort.extensions import db
from opplevelseskort.money import exports, ledger, services
from opplevelseskort.money.models import Account
from opplevelseskort.partners import services as partners

from ..factories import make_card, offer_values

BANK_ACCOUNT = "86011117947"  # a valid Norwegian account number (mod 11)


@pytest.fixture(autouse=True)
def books(request, muni, tmp_path):
    """After every scenario: the legs sum to zero, each kept balance is its legs' sum, and bean-check (Beancount's
    own book-keeper, an independent oracle) accepts the exported ledger."""
    yield
    if "committing" in request.fixturenames:
        return  # checked in the test itself (its rows are committed and emptied after it)
    check(muni, tmp_path)


def check(muni, tmp_path):
    assert ledger.total() == 0
    kept = {a.id: a.balance for a in db.session.scalars(db.select(Account))}
    from_legs = ledger.balances_from_legs()
    assert {k: v for k, v in kept.items() if v or k in from_legs} == {k: from_legs.get(k, 0) for k in kept
                                                                       if kept[k] or k in from_legs}
    path = tmp_path / "ledger.beancount"
    path.write_text(exports.beancount(muni), encoding="utf-8")
    bean_check = shutil.which("bean-check") or str(Path(sys.executable).with_name("bean-check"))  # the venv's
    checked = subprocess.run([bean_check, str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr + path.read_text()


@pytest.fixture
def scheme(muni, users):
    return services.create_scheme(muni, services.SchemeInput("Fritidskortet", 100_000, age_min=6, age_max=17),
                                  actor=users["admin"])


@pytest.fixture
def kid(muni, users):
    return make_card(muni, users, "Sara", birth_year=2014)


@pytest.fixture
def club(users, partner_org):
    services.register_partner(partner_org, org_number=partner_org.org_number, account_number=BANK_ACCOUNT,
                              contact_email="kasserer@klubb.no", repayment_accepted=True, actor=users["admin"])
    return partner_org


@pytest.fixture
def priced(users, club):
    return partners.save_offer(users["partner"], offer_values(price_nok=100), {})
