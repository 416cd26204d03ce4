"""Pages of the money part: the finance office's monthly settlements per partner (make, look, approve, export)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core import nav
from ..core.exports import attachment
from ..core.forms import ActionForm
from ..core.guards import form_page
from ..core.models import Role
from ..core.permissions import current_actor, roles_required
from ..core.uow import refuse_form, refused
from . import settlements
from .forms import SettlementForm

bp = Blueprint("money", __name__)
FINANCE = (Role.FINANCE, Role.ADMIN)


def _form() -> SettlementForm:
    form = SettlementForm()
    form.partner_id.choices = [(p.id, p.name) for p in settlements.registered_partners(current_actor())]
    return form


@bp.route("/okonomi/oppgjor", methods=["GET", "POST"])
@roles_required(*FINANCE)
def settlement_list():
    """The partners' monthly settlements of activity money, and making one."""
    form = _form()
    if form.validate_on_submit():
        me = current_actor()
        with refused(lambda: form_page("money/settlements.html", form, rows=settlements.settlements_of(me)),
                     field=form.month):
            partner = next(p for p in settlements.registered_partners(me) if p.id == form.partner_id.data)
            made = settlements.make(partner, form.month.data, actor=me)
        return redirect(url_for("money.settlement", settlement_id=made.id))
    return form_page("money/settlements.html", form, rows=settlements.settlements_of(current_actor()))


@bp.get("/okonomi/oppgjor/<int:settlement_id>")
@roles_required(*FINANCE)
def settlement(settlement_id: int):
    with refused(not_found=True):
        found = settlements.settlement_of(settlement_id, current_actor())
    return render_template("money/settlement.html", s=found, lines=settlements.lines(found),
                           reference=found.reference, form=ActionForm(),
                           may_approve=settlements.may_approve(found, current_actor()))


@bp.post("/okonomi/oppgjor/<int:settlement_id>/godkjenn")
@roles_required(Role.FINANCE)
def approve(settlement_id: int):
    back = url_for("money.settlement", settlement_id=settlement_id)
    with refused(not_found=True):
        found = settlements.settlement_of(settlement_id, current_actor())
    with refused(redirect_to=back):
        form = ActionForm()
        if not form.validate_on_submit():
            refuse_form(form, _("Skjemaet er utløpt. Prøv igjen."))
        settlements.approve(found, actor=current_actor())
    flash(_("Oppgjøret er godkjent, og utbetalingen er bokført."), "success")
    return redirect(back)


@bp.get("/okonomi/oppgjor/<int:settlement_id>.csv")
@roles_required(*FINANCE)
def settlement_csv(settlement_id: int):
    with refused(not_found=True):
        found = settlements.settlement_of(settlement_id, current_actor())
    return Response(settlements.as_csv(found), content_type="text/csv; charset=utf-8",
                    headers=attachment("aktivitetspenger", settlements.reference(found), ext="csv"))


@bp.get("/okonomi/oppgjor/<int:settlement_id>.json")
@roles_required(*FINANCE)
def settlement_json(settlement_id: int):
    with refused(not_found=True):
        found = settlements.settlement_of(settlement_id, current_actor())
    response = jsonify(settlements.as_basis(found))
    response.headers.update(attachment("aktivitetspenger", settlements.reference(found), ext="json"))
    return response


MENU = (nav.item("money.settlement_list", _l("Oppgjør av aktivitetspenger"), list(FINANCE), order=35,
                 group="offers"),)
