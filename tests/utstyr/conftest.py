import pytest

from opplevelseskort.extensions import db
from utstyr import services
from utstyr.models import ItemType, Location

from ..factories import make_card


@pytest.fixture
def location(muni, users):
    loc = Location(municipality_id=muni.id, name="Sentralen", solo_age=12)
    loc.volunteers.append(users["volunteer"])
    db.session.add(loc)
    db.session.flush()
    return loc


@pytest.fixture
def skis(muni):
    it = ItemType(municipality_id=muni.id, name="Ski", category="ski", size="130 cm", default_loan_days=7)
    db.session.add(it)
    db.session.flush()
    return it


@pytest.fixture
def tent(muni):
    it = ItemType(municipality_id=muni.id, name="Telt", category="tent", size="2p", default_loan_days=5,
                  kit_items=["duk", "stenger", "plugger"], guardian_consent_required=True)
    db.session.add(it)
    db.session.flush()
    return it


@pytest.fixture
def units(skis, location):
    return services.add_units(skis, location, 3)


@pytest.fixture
def holder(muni, users):
    return make_card(muni, users, "Lars")
