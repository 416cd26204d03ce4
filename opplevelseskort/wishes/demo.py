"""Demo data for wishes: a round that is open now, with three classes that answered (seeded: the same wishes every
time), so the results, the gaps and a call show; the demo partner answered the call, so its offer is what the
classes' codes and the card pages show back."""

from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa

from ..accounts.models import User
from ..core.clock import today
from ..core.models import Municipality
from ..demo import DEMO_SEED
from ..extensions import db
from ..zones.models import Zone
from . import calls, catalogue, results, services
from .models import WishRound

FAVOURITES = ("climbing", "dance", "football", "coding", "riding", "swimming", "gaming", "art")


def demo_wishes(municipality: Municipality, *, small: bool = False) -> dict[str, int]:
    if db.session.scalar(sa.select(WishRound.id).where(WishRound.municipality_id == municipality.id)):
        return {}
    rng = random.Random(DEMO_SEED + 41)
    admin = db.session.scalar(sa.select(User).filter_by(email="admin@demo.no"))
    partner = db.session.scalar(sa.select(User).filter_by(email="partner@demo.no"))
    zones = db.session.scalars(sa.select(Zone).where(Zone.municipality_id == municipality.id,
                                                     Zone.level == "grunnkrets").order_by(Zone.code)).all()
    if admin is None or not zones:
        return {}
    wish_round = services.open_round(municipality, services.RoundInput(
        "Hva vil du prøve i år?", today() - timedelta(days=7), today() + timedelta(days=21), free_text=True),
        actor=admin)
    answers = 0
    for n, zone in enumerate(zones[:1] if small else zones[:3]):
        klass = services.add_class(wish_round, school="Demo skole", name=f"{5 + n}A", grade_band="5-7",
                                   zone_id=zone.id, pupils=24, languages=["ar", "uk", "so"], actor=admin)
        for code in services.codes_of(klass)[:rng.randint(14, 22)]:
            chosen = rng.sample(FAVOURITES, rng.randint(1, 4))
            services.answer_with_code(code.code, services.AnswerInput(
                chosen, rng.random() < 0.6, rng.sample(["after_school", "weekend", "holiday"], rng.randint(1, 2))))
            answers += 1
    made = 0
    gap = next(iter(results.gaps(wish_round)), None)
    if gap is not None and partner is not None:
        call = calls.create_call(wish_round, activity=gap.activity, zone_id=gap.zone_id, grade_band=gap.grade_band,
                                 times=["weekend"], text="Barna i sonen ønsker seg dette.", actor=admin)
        name = catalogue.BY_CODE[gap.activity].name("nb")
        calls.answer_call(call, partner, calls.CallAnswer(f"{name}: prøvekurs", f"{name} for 5.–7. trinn, gratis "
                                                          "med opplevelseskortet.", "Aktivitetshuset", today(),
                                                          today() + timedelta(days=120)))
        made = 1
    return {"wish answers": answers, "offers born from wishes": made}
