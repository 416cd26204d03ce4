"""Demo data for partners: an approved sports club for the demo partner user."""

from __future__ import annotations

from ..core import demo
from ..core.models import Municipality
from ..extensions import db
from .models import Partner, PartnerKind, PartnerStatus

DEMO_ORG_NUMBER = "974760673"


def demo_partner(muni: Municipality) -> int:
    p = db.session.scalar(db.select(Partner).filter_by(org_number=DEMO_ORG_NUMBER))
    if p is None:
        p = Partner(municipality_id=muni.id, name="Demo idrettslag", org_number=DEMO_ORG_NUMBER,
                    kind=PartnerKind.CLUB, status=PartnerStatus.APPROVED, contact_name="Per Partner",
                    contact_email="partner@demo.no")
        db.session.add(p)
        db.session.flush()
    return p.id


demo.set_partner_provider(demo_partner)
