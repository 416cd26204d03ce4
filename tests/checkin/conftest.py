import pytest

from opplevelseskort.accounts import tokens as api_tokens
from opplevelseskort.partners import services as partners

from ..factories import make_card, offer_values


@pytest.fixture
def offer(users):
    return partners.save_offer(users["partner"], offer_values(), {})


@pytest.fixture
def kid_card(muni, users):
    return make_card(muni, users, "Sara", birth_year=2014)


@pytest.fixture
def token(users):
    return api_tokens.create_token(users["partner"], "door")[1]


def bearer(raw):
    return {"Authorization": f"Bearer {raw}"}
