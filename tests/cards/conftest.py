from datetime import date

import pytest

from opplevelseskort.cards import services
from opplevelseskort.extensions import db


def child_input(**kw):
    base = dict(given_name="Emma", family_name="Nordmann", birth_year=2014, birth_month=5, zone="30010101",
                channel="nav", eligible_from=date(2026, 1, 1), eligible_until=date(2026, 12, 31), confirmed=True,
                gender="girl")
    base.update(kw)
    return services.ChildInput(**base)


def guardian_input(**kw):
    base = dict(name="Kari Nordmann", phone="912 34 567", email="kari@example.org", preferred_language="nb")
    base.update(kw)
    return services.GuardianInput(**base)


@pytest.fixture
def household(muni, zone_set, users):
    h = services.register_household(muni, [guardian_input()], [child_input()], actor=users["caseworker"])
    db.session.flush()
    return h


@pytest.fixture
def child(household):
    return household.children[0]


@pytest.fixture
def card(child, users):
    return services.issue_card(child, actor=users["caseworker"], valid_from=date(2026, 1, 1),
                               valid_until=date(2026, 12, 31))
