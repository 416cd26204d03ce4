"""What the admin's pages of activity money read and do: the schemes with what each has granted, spent and lapsed,
and the register of providers. Each reads within the admin's municipality (an unrestricted admin: the first)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from ..core import municipalities
from ..core.errors import NotFound
from ..core.models import Municipality
from ..extensions import db
from ..partners.models import Partner, PartnerStatus
from ..zones.models import Zone
from . import exports, services
from .models import Account, AccountKind, Leg, MoneyRegistration, Scheme, Transfer, TransferKind


def _municipality(actor) -> Municipality:
    found = municipalities.municipalities_for(actor)
    if not found:
        raise NotFound("municipality_unknown", _("Fant ikke kommunen."))
    return found[0]


def vouchers_csv(actor, year: int) -> bytes:
    """The voucher-level ledger of the actor's municipality for a year."""
    return exports.vouchers_csv(_municipality(actor), year)


def zones_for_topup(actor) -> list[Zone]:
    return list(db.session.scalars(sa.select(Zone).where(Zone.municipality_id == _municipality(actor).id,
                                                         Zone.level == "grunnkrets").order_by(Zone.code)))


@dataclass(frozen=True)
class SchemeRow:
    scheme: Scheme
    children: int
    granted: str
    spent: str
    lapsed: str


def scheme_rows(actor) -> list[SchemeRow]:
    """Each scheme with its children and, in kroner, what it granted, what was spent and what lapsed."""
    municipality = _municipality(actor)
    rows = []
    for scheme in db.session.scalars(sa.select(Scheme).where(Scheme.municipality_id == municipality.id)
                                     .order_by(Scheme.created_at, Scheme.id)):
        def moved(kind: TransferKind, scheme=scheme) -> int:
            return int(db.session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(Leg.amount), 0)).join(Transfer, Transfer.id == Leg.transfer_id)
                .join(Account, Account.id == Leg.account_id)
                .where(Transfer.kind == kind, Account.scheme_id == scheme.id, Account.kind == AccountKind.CHILD,
                       Leg.debit == (kind != TransferKind.GRANT))))
        children = db.session.scalar(sa.select(sa.func.count(Account.id)).where(
            Account.scheme_id == scheme.id, Account.kind == AccountKind.CHILD))
        rows.append(SchemeRow(scheme, children, services.kroner(moved(TransferKind.GRANT)),
                              services.kroner(moved(TransferKind.SETTLE)), services.kroner(moved(TransferKind.LAPSE))))
    return rows


def create_scheme(actor, data: services.SchemeInput) -> Scheme:
    return services.create_scheme(_municipality(actor), data, actor=actor)


def grant_now(scheme_id: int, actor) -> int:
    scheme = db.session.get(Scheme, scheme_id)
    if scheme is None or scheme.municipality_id != _municipality(actor).id:
        raise NotFound("scheme_unknown", _("Fant ikke ordningen."))
    return services.grant(scheme, actor=actor)


def partners_in_reach(actor) -> list[Partner]:
    return list(db.session.scalars(sa.select(Partner).where(
        Partner.municipality_id == _municipality(actor).id, Partner.status == PartnerStatus.APPROVED)
        .order_by(Partner.name)))


def register_rows(actor) -> list[tuple[Partner, MoneyRegistration]]:
    return list(db.session.execute(sa.select(Partner, MoneyRegistration)
                                   .join(MoneyRegistration, MoneyRegistration.partner_id == Partner.id)
                                   .where(Partner.municipality_id == _municipality(actor).id)
                                   .order_by(Partner.name)).all())


def _partner(actor, partner_id: int) -> Partner:
    partner = db.session.get(Partner, partner_id)
    if partner is None or partner.municipality_id != _municipality(actor).id:
        raise NotFound("partner_unknown", _("Fant ikke partneren."))
    return partner


def register(actor, partner_id: int, **fields) -> MoneyRegistration:
    return services.register_partner(_partner(actor, partner_id), actor=actor, **fields)


def suspend(actor, partner_id: int) -> None:
    services.suspend_registration(_partner(actor, partner_id), actor=actor)
