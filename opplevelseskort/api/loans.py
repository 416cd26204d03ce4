"""API endpoints: equipment loans (volunteer or admin tokens)."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from utstyr import services
from utstyr.models import Loan

from ..core.errors import DomainError, NotFound
from ..core.models import Role
from ..core.permissions import roles_required
from ..extensions import db
from .views import bp

MAX_ID = 2**31 - 1  # integer primary keys; larger numbers cannot name a row


def loan_json(loan: Loan) -> dict:
    return {"id": loan.id, "borrower_id": loan.borrower_id, "location_id": loan.location_id,
            "due_on": loan.due_on.isoformat(),
            "lines": [{"unit": line.unit.label_code, "returned_at": line.returned_at.isoformat() if line.returned_at else None}
                      for line in loan.lines]}


@bp.post("/loans")
@roles_required(Role.VOLUNTEER, Role.ADMIN)
def create_loan():
    """201 with the loan, or 409 {error: unit_not_available, unit} naming the refused unit."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("unit_codes"), list) or \
            not all(isinstance(c, str) for c in data["unit_codes"]):
        raise DomainError("invalid_body", _("«unit_codes» må være en liste med tekster."))
    codes = data["unit_codes"]
    if not codes:
        raise DomainError("no_units", _("Skann minst én enhet."))
    first = services.unit_by_code(codes[0])
    location = services.require_location(current_user, first.location_id)
    card_code = data["card_code"] if isinstance(data.get("card_code"), str) else None
    raw_id = data.get("borrower_id")
    is_id = isinstance(raw_id, int) and not isinstance(raw_id, bool)
    borrower_id = raw_id if is_id and 1 <= raw_id <= MAX_ID else None
    if not (card_code or "").strip() and borrower_id is None:
        if is_id:  # a number no borrower can have
            raise NotFound("borrower_unknown", _("Ukjent låner."))
        raise DomainError("invalid_body", _("Oppgi «card_code» eller «borrower_id»."))
    borrower = services.resolve_borrower(location.municipality_id, card_code=card_code, borrower_id=borrower_id)
    loan = services.checkout(location, borrower, codes, volunteer=current_user)
    return jsonify(loan_json(loan)), 201


@bp.post("/loans/<int:loan_id>/return")
@roles_required(Role.VOLUNTEER, Role.ADMIN)
def return_loan(loan_id: int):
    """Return all (or the listed) open units of a loan, with an optional condition."""
    loan = db.session.get(Loan, loan_id) if 1 <= loan_id <= MAX_ID else None
    if loan is None:
        raise NotFound("loan_not_found", _("Fant ikke utlånet."))
    services.require_location(current_user, loan.location_id)
    data = request.get_json(silent=True) or {}
    condition = data.get("condition", "good") if isinstance(data, dict) else "good"
    if condition not in ("good", "worn", "needs_repair"):
        raise DomainError("invalid_body", _("Ukjent tilstand."))
    wanted = data.get("unit_codes") if isinstance(data, dict) else None
    open_lines = [line for line in loan.lines if line.returned_at is None]
    if wanted:
        open_lines = [line for line in open_lines if line.unit.label_code in wanted]
    if not open_lines:
        raise DomainError("not_on_loan", _("Ingen enheter å levere."))
    for line in open_lines:
        services.return_unit(line.unit.label_code, volunteer=current_user, condition=condition)
    return jsonify(loan_json(loan)), 200


