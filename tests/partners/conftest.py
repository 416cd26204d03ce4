from datetime import UTC, datetime, timedelta

import pytest

from opplevelseskort.extensions import db
from opplevelseskort.partners import services

from ..factories import offer_values


@pytest.fixture
def offer(users):
    return services.save_offer(users["partner"], offer_values(), {"en": {"title": "Football", "description": ""}})


@pytest.fixture
def camp(users):
    o = services.save_offer(users["partner"], offer_values(title="Leir", requires_booking=True), {})
    start = datetime.now(UTC) + timedelta(days=3)
    occ = services.add_occasion(o, start, start + timedelta(hours=6), 2, actor=users["partner"])
    db.session.flush()
    return occ
