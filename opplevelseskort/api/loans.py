"""API endpoints: equipment loans (volunteer or admin tokens)."""

from __future__ import annotations

from typing import Literal

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import Field

from utstyr import services
from utstyr.models import Loan

from ..accounts.permissions import scope_required
from ..core.errors import DomainError, NotFound
from ..core.guards import MAX_DB_INT as MAX_ID  # integer primary keys: larger numbers name no row
from ..core.models import Role
from ..core.permissions import roles_required
from ..core.validation import Integer
from ..extensions import db
from .schema import Answer, Response, Schema, Text, operation
from .views import bp


class LoanBody(Schema):
    unit_codes: list[Text] = Field(min_length=1, max_length=200, description="The scanned labels")
    card_code: Text | None = Field(None, description="The borrower's experience card (code or link)")
    borrower_id: Integer | None = Field(None, description="The borrower's number")


class ReturnBody(Schema):
    condition: Literal["good", "worn", "needs_repair"] = "good"
    unit_codes: list[Text] | None = Field(None, description="Only these units (default: every open unit)")


class LoanLine(Response):
    unit: str
    returned_at: str | None


class LoanOut(Response):
    id: int
    borrower_id: int
    location_id: int
    due_on: str = Field(json_schema_extra={"format": "date"})
    lines: list[LoanLine]


def loan_json(loan: Loan) -> dict:
    return LoanOut(id=loan.id, borrower_id=loan.borrower_id, location_id=loan.location_id,
                   due_on=loan.due_on.isoformat(),
                   lines=[LoanLine(unit=line.unit.label_code,
                                   returned_at=line.returned_at.isoformat() if line.returned_at else None)
                          for line in loan.lines]).model_dump()


@bp.post("/loans")
@roles_required(Role.VOLUNTEER, Role.ADMIN)
@scope_required("loans")
@operation("Lend equipment units (volunteer or admin tokens)", operation_id="createLoan", body=LoanBody, responses={
    201: Answer("The loan", LoanOut),
    404: Answer("Unknown unit, card or borrower"),
    409: Answer("A unit cannot be lent (`unit` names it)"),
    422: Answer("Refused by a rule, or a body that does not fit")})
def create_loan(body: LoanBody):
    """201 with the loan, or 409 {error: unit_not_available, unit} naming the refused unit."""
    first = services.unit_by_code(body.unit_codes[0])
    location = services.require_location(current_user, first.location_id)
    card_code = body.card_code if (body.card_code or "").strip() else None
    borrower_id = body.borrower_id if body.borrower_id is not None and 1 <= body.borrower_id <= MAX_ID else None
    if card_code is None and borrower_id is None:
        if body.borrower_id is not None:  # a number no borrower can have
            raise NotFound("borrower_unknown", _("Ukjent låner."))
        raise DomainError("invalid_body", _("Oppgi «card_code» eller «borrower_id»."))
    borrower = services.resolve_borrower(location.municipality_id, card_code=card_code, borrower_id=borrower_id)
    loan = services.checkout(location, borrower, body.unit_codes, volunteer=current_user)
    return jsonify(loan_json(loan)), 201


@bp.post("/loans/<int:loan_id>/return")
@roles_required(Role.VOLUNTEER, Role.ADMIN)
@scope_required("loans")
@operation("Return the open units of a loan", operation_id="returnLoan", body=ReturnBody, body_required=False,
           params={"loan_id": {"schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}},
           responses={200: Answer("The loan", LoanOut), 404: Answer("Unknown loan"),
                      422: Answer("Nothing to return, or a body that does not fit")})
def return_loan(loan_id: int, body: ReturnBody):
    """Return all (or the listed) open units of a loan, with an optional condition."""
    loan = db.session.get(Loan, loan_id) if 1 <= loan_id <= MAX_ID else None
    if loan is None:
        raise NotFound("loan_not_found", _("Fant ikke utlånet."))
    services.return_loan(loan, body.unit_codes or None, volunteer=current_user, condition=body.condition)
    return jsonify(loan_json(loan)), 200
